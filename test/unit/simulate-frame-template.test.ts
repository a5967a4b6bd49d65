// Simulate's patched segments (src/simulate/frame-template.ts) must be byte for byte what the
// wire builder writes for the same fields, checksums included.

import { describe, expect, it } from 'vitest';
import { FrameTemplate } from '../../src/simulate/frame-template.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { TcpFlag } from '../../src/wire/tcp.js';

function shape(flags: number, options: boolean, timestamps: boolean): SegmentSpec {
  const spec = new SegmentSpec();
  spec.dstAddr = parseIpv4('10.77.0.2');
  spec.dstPort = 80;
  spec.flags = flags;
  spec.window = 64240;
  if (options) {
    spec.mss = 1460;
    spec.sackPermitted = true;
    spec.windowScale = 7;
  }
  spec.hasTimestamps = timestamps;
  return spec;
}

const CASES: Array<[string, number, boolean, boolean]> = [
  ['SYN with MSS, SACK, window scale and timestamps', TcpFlag.SYN, true, true],
  ['ACK with timestamps', TcpFlag.ACK, false, true],
  ['bare SYN (a spoofed one)', TcpFlag.SYN, false, false],
];

describe('FrameTemplate', () => {
  for (const [name, flags, options, timestamps] of CASES) {
    it(`${name}: equals writeTcpSegment for the same fields`, () => {
      const template = new FrameTemplate(shape(flags, options, timestamps));
      for (const [address, port, seq, ack, tsVal, tsEcr] of [
        [parseIpv4('10.1.0.1'), 10_000, 1, 0, 5, 0],
        [parseIpv4('100.127.255.254'), 65535, 0xffffffff, 0x80000000, 0xfffffffe, 123456789],
      ] as const) {
        const spec = shape(flags, options, timestamps);
        spec.srcAddr = address;
        spec.srcPort = port;
        spec.seq = seq;
        spec.ack = ack;
        spec.tsVal = tsVal;
        spec.tsEcr = tsEcr;
        const expected = new Uint8Array(128);
        const length = writeTcpSegment(expected, 0, spec);
        expect(template.write(address, port, seq, ack, tsVal, tsEcr)).toBe(length);
        expect(Buffer.from(template.frame.subarray(0, length)).toString('hex')).toBe(Buffer.from(expected.subarray(0, length)).toString('hex'));
      }
    });
  }
});

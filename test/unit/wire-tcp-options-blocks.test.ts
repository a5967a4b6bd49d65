// The two fixed option blocks tcp-options.ts reads at fixed offsets (a Linux SYN's 20 bytes and
// <nop,nop,TS>) must give exactly what the option-by-option walk gives. The walk is forced by
// appending an EOL byte (a 21- or 13-byte block is never a fixed block, and EOL ends the walk
// at the same place), so every mutation of the blocks is checked against tcp_parse_options'
// own reading.

import { describe, expect, it } from 'vitest';
import { TcpOptions } from '../../src/wire/tcp-options.js';

/** A Linux 6.x SYN's options: MSS 1460, sackOK, TS 0x8badf00d/0, NOP, wscale 7 (tcp_options_write). */
const LINUX_SYN = [0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x8b, 0xad, 0xf0, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07];
/** The third ACK's options: NOP, NOP, TS 0x01020304/0xfedcba98. */
const NOP_NOP_TS = [0x01, 0x01, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04, 0xfe, 0xdc, 0xba, 0x98];

function parsed(bytes: number[], offset = 3): TcpOptions {
  const buf = new Uint8Array(offset + bytes.length + 4).fill(0xee);
  buf.set(bytes, offset);
  const options = new TcpOptions();
  options.parse(buf, offset, offset + bytes.length);
  return options;
}

function walked(bytes: number[]): TcpOptions {
  return parsed([...bytes, 0x00]);
}

function fields(o: TcpOptions) {
  return { ...o };
}

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
}

describe('TCP option blocks read at fixed offsets', () => {
  it("a Linux SYN's block: MSS, SACK, both timestamps and the window scale, as the walk reads them", () => {
    const o = parsed(LINUX_SYN);
    expect(fields(o)).toEqual({
      hasMss: true,
      mss: 1460,
      hasWindowScale: true,
      windowScale: 7,
      sackPermitted: true,
      hasTimestamps: true,
      tsVal: 0x8badf00d,
      tsEcr: 0,
      unknownCount: 0,
      malformed: false,
    });
    expect(fields(o)).toEqual(fields(walked(LINUX_SYN)));
  });

  it('<nop,nop,TS>: only the timestamps, TSval above 2^31 unsigned', () => {
    const o = parsed(NOP_NOP_TS);
    expect(o.hasTimestamps).toBe(true);
    expect(o.tsVal).toBe(0x01020304);
    expect(o.tsEcr).toBe(0xfedcba98);
    expect(fields(o)).toEqual(fields(walked(NOP_NOP_TS)));
  });

  it('a window scale above 14 is clamped to 14 in the SYN block too (RFC 7323 §2.3)', () => {
    const block = [...LINUX_SYN];
    block[19] = 15;
    expect(parsed(block).windowScale).toBe(14);
  });

  it('every single-byte change of either block reads as the walk reads it (20 000 random mutations)', () => {
    const next = lcg(3);
    for (let n = 0; n < 20_000; n++) {
      const block = [...(n & 1 ? LINUX_SYN : NOP_NOP_TS)];
      const at = next() % block.length;
      // Half the time a byte the recognition looks at, to a value near the expected one.
      block[at] = (next() & 1) === 0 ? next() & 0xff : (block[at]! + (next() % 3) - 1) & 0xff;
      expect(fields(parsed(block))).toEqual(fields(walked(block)));
    }
  });

  it('the same options after an earlier parse leave nothing of it behind', () => {
    const options = new TcpOptions();
    const buf = new Uint8Array([...LINUX_SYN, ...NOP_NOP_TS]);
    options.parse(buf, 0, 20);
    options.parse(buf, 20, 32);
    expect(fields(options)).toEqual(fields(walked(NOP_NOP_TS)));
  });
});

// SegmentSpec as a repr (smoltcp's TcpRepr): parseSegment is bytes → fields, writeTcpSegment
// fields → bytes. Every real Linux 6.18 packet in test/fixtures/captures.ts must survive
// parse → write byte for byte, both checksums included. Then each thing the spec cannot hold,
// shown on a real capture with one thing changed, the limit named in the test.
import { describe, expect, it } from 'vitest';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { NOT_TCP, parseSegment, segmentParseCodeName } from '../../src/wire/parse.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { WireError } from '../../src/wire/wire-error.js';
import * as cap from '../fixtures/captures.js';
import { put16, refFold, refSum } from '../helpers/reference-checksum.js';

const { hexBytes } = cap;

const SERVER = 0x0ac90001; // 10.201.0.1
const CLIENT = 0x0ac90002; // 10.201.0.2

/** Every packet the fixtures file exports, found by shape so a new capture is covered too. */
const FIXTURES = Object.entries(cap).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && /^45[0-9a-f]+$/.test(entry[1]));

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Writes `spec` into a dirty buffer at a non-zero offset and returns the packet. */
function emit(spec: SegmentSpec): Uint8Array {
  const out = new Uint8Array(1600).fill(0xcc);
  const length = writeTcpSegment(out, 5, spec);
  return out.slice(5, 5 + length);
}

/** Recomputes total length, then the TCP and IPv4 checksums, of an edited packet. */
function repair(frame: Uint8Array): Uint8Array {
  const ihl = (frame[0]! & 0x0f) * 4;
  put16(frame, 2, frame.length);
  put16(frame, ihl + 16, 0);
  put16(frame, ihl + 16, refFold(refSum(frame, ihl, frame.length, refSum(frame, 12, 20) + 6 + frame.length - ihl)));
  put16(frame, 10, 0);
  put16(frame, 10, refFold(refSum(frame, 0, ihl)));
  return frame;
}
/** A capture with its TCP options replaced by `optionBytes` (a multiple of 4), checksums repaired. */
function withOptions(name: keyof typeof cap, optionBytes: number[]): Uint8Array {
  const original = hexBytes(cap[name] as string);
  const dataOffset = (original[32]! >> 4) * 4;
  const payload = original.subarray(20 + dataOffset);
  const frame = new Uint8Array(40 + optionBytes.length + payload.length);
  frame.set(original.subarray(0, 40));
  frame.set(optionBytes, 40);
  frame.set(payload, 40 + optionBytes.length);
  frame[32] = ((20 + optionBytes.length) / 4) << 4;
  return repair(frame);
}

const spec = new SegmentSpec();

describe('parseSegment → writeTcpSegment reproduces every captured Linux packet', () => {
  it('the fixture file holds 20 packets: 18 TCP, 2 ICMP', () => {
    expect(FIXTURES.length).toBe(20);
    expect(FIXTURES.filter(([, text]) => text.slice(18, 20) === '06').length).toBe(18);
  });

  for (const [name, text] of FIXTURES) {
    const isTcp = text.slice(18, 20) === '06';
    if (isTcp) {
      it(`${name}: parse, then write, gives the same bytes`, () => {
        const frame = hexBytes(text);
        expect(segmentParseCodeName(parseSegment(frame, 0, frame.length, spec))).toBe('ok');
        expect(hex(emit(spec))).toBe(text);
      });
    } else {
      it(`${name}: not TCP, so parseSegment answers NOT_TCP and leaves the spec reset`, () => {
        const frame = hexBytes(text);
        spec.seq = 12345;
        expect(parseSegment(frame, 0, frame.length, spec)).toBe(NOT_TCP);
        expect(segmentParseCodeName(NOT_TCP)).toBe('not-tcp');
        expect(spec).toEqual(new SegmentSpec());
      });
    }
  }

  it('SYNACK_TS reads as the SYN-ACK Linux sent (spec §1.10): every field', () => {
    const frame = hexBytes(cap.SYNACK_TS);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    const expected = Object.assign(new SegmentSpec(), {
      srcAddr: SERVER,
      dstAddr: CLIENT,
      srcPort: 8080,
      dstPort: 50008,
      seq: 4254464709,
      ack: 3592097437,
      flags: TcpFlag.SYN | TcpFlag.ACK,
      window: 65160,
      ttl: 64,
      ipId: 0,
      dontFragment: true,
      mss: 1460,
      sackPermitted: true,
      hasTimestamps: true,
      tsVal: 3457799089,
      tsEcr: 1979314673,
      windowScale: 10,
    });
    expect(spec).toEqual(expected);
  });

  it('a payload is referenced in the caller buffer, not copied; an empty one is null', () => {
    const frame = hexBytes(cap.SERVER_DATA_TS);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect(spec.payload).toBe(frame);
    expect([spec.payloadOffset, spec.payloadLength]).toEqual([52, 6]);
    expect(Buffer.from(frame.subarray(52, 58)).toString('latin1')).toBe('hello\n');
    const ack = hexBytes(cap.SERVER_ACK_TS);
    expect(parseSegment(ack, 0, ack.length, spec)).toBe(WireError.Ok);
    expect([spec.payload, spec.payloadOffset, spec.payloadLength]).toEqual([null, 0, 0]);
  });

  it('a packet inside a larger buffer at an odd offset parses in place', () => {
    const frame = hexBytes(cap.GET_TS);
    const buf = new Uint8Array(frame.length + 20).fill(0xee);
    buf.set(frame, 11);
    expect(parseSegment(buf, 11, frame.length, spec)).toBe(WireError.Ok);
    expect(spec.payloadOffset).toBe(11 + 52);
    expect(hex(emit(spec))).toBe(cap.GET_TS);
  });

  it('rejections are the checked views\' codes, and leave the spec reset', () => {
    const frame = hexBytes(cap.SYNACK_TS);
    for (let len = 0; len < frame.length; len++) {
      expect(parseSegment(frame, 0, len, spec)).toBe(WireError.Truncated);
      expect(spec).toEqual(new SegmentSpec());
    }
    const badTcp = frame.slice();
    badTcp[30] ^= 0x01; // a bit of the sequence number: only the TCP checksum notices
    expect(segmentParseCodeName(parseSegment(badTcp, 0, badTcp.length, spec))).toBe('bad-tcp-checksum');
    const badIp = frame.slice();
    badIp[8] ^= 0x01; // TTL: only the IPv4 header checksum notices
    expect(segmentParseCodeName(parseSegment(badIp, 0, badIp.length, spec))).toBe('bad-ip-checksum');
    // A window-scale option claiming 9 bytes: Linux stops parsing there and keeps the segment.
    expect(segmentParseCodeName(parseSegment(withOptions('SYN_TS', [2, 4, 5, 0xb4, 3, 9, 1, 1]), 0, 48, spec))).toBe('ok');
    expect([spec.mss, spec.windowScale]).toEqual([1460, -1]);
  });
});

describe('fields beyond the 18 captures round-trip too', () => {
  it('TOS (DSCP/ECN bits) and the urgent pointer with URG', () => {
    const frame = hexBytes(cap.SERVER_DATA_TS);
    frame[1] = 0xb8 | 0x02; // DSCP EF, ECT(0)
    frame[33] |= TcpFlag.URG;
    put16(frame, 38, 5);
    repair(frame);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect([spec.tos, spec.urgent, spec.flags & TcpFlag.URG]).toEqual([0xba, 5, TcpFlag.URG]);
    expect(hex(emit(spec))).toBe(hex(frame));
  });

  it('the reserved nibble (AccECN AE bit, RFC 9768) comes back as flags bits 8–11', () => {
    const frame = hexBytes(cap.SYN_TS);
    frame[32] |= 0x01;
    repair(frame);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect(spec.flags).toBe(0x100 | TcpFlag.SYN);
    expect(hex(emit(spec))).toBe(hex(frame));
  });

  it('no DF, a TTL other than 64, an IP id', () => {
    const frame = hexBytes(cap.HPING_SYN); // hping3: IP id 10743, no DF
    frame[8] = 1;
    repair(frame);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect([spec.ipId, spec.dontFragment, spec.ttl]).toEqual([10743, false, 1]);
    expect(hex(emit(spec))).toBe(hex(frame));
  });
});

describe('limits: what SegmentSpec cannot hold is read as fields but re-emitted in Linux layout', () => {
  /** Parses `frame`, emits, and re-parses the emitted bytes: the fields must survive. */
  function reemit(frame: Uint8Array): { emitted: Uint8Array; first: SegmentSpec } {
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    const first = Object.assign(new SegmentSpec(), spec);
    const emitted = emit(spec);
    const again = new SegmentSpec();
    expect(parseSegment(emitted, 0, emitted.length, again)).toBe(WireError.Ok);
    expect({ ...again, payload: null, payloadOffset: 0 }).toEqual({ ...first, payload: null, payloadOffset: 0 });
    return { emitted, first };
  }

  it('limit: another stack\'s option order (<mss,nop,wscale,nop,nop,sackOK>) comes back in tcp_options_write order', () => {
    const frame = withOptions('SYN_NOTS', [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);
    const { emitted, first } = reemit(frame);
    expect([first.mss, first.windowScale, first.sackPermitted]).toEqual([1460, 8, true]);
    expect(hex(emitted.subarray(40))).toBe('020405b4' + '01010402' + '01030308');
  });

  it('limit: EOL and trailing padding are dropped', () => {
    const frame = withOptions('SYN_NOTS', [2, 4, 0x05, 0xb4, 0, 0, 0, 0]);
    const { emitted } = reemit(frame);
    expect(emitted.length).toBe(frame.length - 4);
  });

  it('limit: SACK blocks and unknown option kinds are dropped (the spec has no field for them)', () => {
    // An ACK with <nop,nop,TS,nop,nop,sack 1 {1000:2000}> and an unknown kind 253 (RFC 6994 experimental).
    const sack = [1, 1, 5, 10, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0];
    const frame = withOptions('ACK_TS', [1, 1, 8, 10, 0x75, 0xf9, 0xf1, 0xf1, 0xce, 0x19, 0xd3, 0xb1, ...sack, 253, 4, 0, 0]);
    const { emitted } = reemit(frame);
    expect(hex(emitted)).toBe(cap.ACK_TS);
  });

  it('limit: MSS, SACK-permitted and window scale on a segment without SYN are read but not written (Linux sends them on SYNs only)', () => {
    const frame = withOptions('ACK_NOTS', [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect([spec.mss, spec.sackPermitted, spec.windowScale]).toEqual([1460, true, 7]);
    expect(hex(emit(spec))).toBe(cap.ACK_NOTS);
  });

  it('limit: an MSS option of 0 reads as "no MSS" (mss = 0)', () => {
    const frame = withOptions('SYN_NOTS', [2, 4, 0, 0]);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect(spec.mss).toBe(0);
    expect(emit(spec).length).toBe(40);
  });

  it('limit: a window scale above 14 reads as 14 (RFC 7323 §2.3) and is written as 14', () => {
    const frame = withOptions('SYN_NOTS', [1, 3, 3, 15]);
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect(spec.windowScale).toBe(14);
    expect(hex(emit(spec).subarray(40))).toBe('0103030e');
  });

  it('limit: IP options (IHL > 5) are dropped; the emitted header has IHL 5', () => {
    const original = hexBytes(cap.RST_ACK);
    const frame = new Uint8Array(original.length + 4);
    frame.set(original.subarray(0, 20));
    frame.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
    frame.set(original.subarray(20), 24);
    frame[0] = 0x46;
    put16(frame, 2, frame.length);
    put16(frame, 10, 0);
    put16(frame, 10, refFold(refSum(frame, 0, 24)));
    expect(parseSegment(frame, 0, frame.length, spec)).toBe(WireError.Ok);
    expect(hex(emit(spec))).toBe(cap.RST_ACK);
  });

  it('limit: link padding past the IPv4 total length is not part of the packet', () => {
    const frame = hexBytes(cap.RST_ACK);
    const padded = new Uint8Array(frame.length + 6).fill(0xa5);
    padded.set(frame);
    expect(parseSegment(padded, 0, padded.length, spec)).toBe(WireError.Ok);
    expect(hex(emit(spec))).toBe(cap.RST_ACK);
  });
});

// Property tests for the checked views: whatever arrives on the TUN device, the checks never
// throw, answer with a WireError code, and never read outside the frame they were given.
// parseSegment rides along on every frame: same verdict as the views, same fields, same guard.
// Last, the repr round trip: any SegmentSpec in Linux's layout → write → parse → same fields.
// "Outside" is caught by a Proxy over the bytes that throws on any index not in
// [off, off + len), on any write, and on any property other than an index or `length`
// (the checks only ever do `buf[i]`). Two sources: arbitrary bytes shaped just enough to get
// past the early checks, and real Linux 6.18 captures mutated (bit flips, byte sets,
// truncation, extension), with the checksums optionally repaired so mutations reach deeper.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { IcmpView } from '../../src/wire/icmp.js';
import { IpProtocol, Ipv4View } from '../../src/wire/ipv4.js';
import { TcpView } from '../../src/wire/tcp.js';
import { MAX_WINDOW_SCALE, TcpOptions } from '../../src/wire/tcp-options.js';
import { NOT_TCP, parseSegment } from '../../src/wire/parse.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { WireError, WIRE_ERROR_NAMES } from '../../src/wire/wire-error.js';
import * as cap from '../fixtures/captures.js';
import { put16, refFold, refSum } from '../helpers/reference-checksum.js';

const CODES = new Set<number>(Object.values(WireError));

class OutOfFrame extends Error {}

/** A view of `bytes` that throws on any access outside [lo, hi) and on any write. */
function guarded(bytes: Uint8Array, lo: number, hi: number): Uint8Array {
  return new Proxy(bytes, {
    get(target, prop) {
      if (prop === 'length') return target.length;
      if (typeof prop === 'string') {
        const index = Number(prop);
        if (Number.isInteger(index) && String(index) === prop) {
          if (index < lo || index >= hi) throw new OutOfFrame(`read buf[${index}] outside [${lo}, ${hi})`);
          return target[index];
        }
      }
      throw new OutOfFrame(`unexpected property ${String(prop)}`);
    },
    set(_target, prop) {
      throw new OutOfFrame(`write to ${String(prop)} during a check`);
    },
  });
}

// ── Reference checksum (independent of src/wire) to repair mutated frames ──
/** Repairs the IP checksum (if the header fits) and the TCP/ICMP checksum (if the segment fits). */
function repair(frame: Uint8Array, fixIp: boolean, fixInner: boolean): void {
  if (frame.length < 20) return;
  const ihl = (frame[0]! & 0x0f) * 4;
  const total = (frame[2]! << 8) | frame[3]!;
  if (fixInner && ihl >= 20 && total <= frame.length && total >= ihl) {
    if (frame[9] === 6 && total - ihl >= 18) {
      put16(frame, ihl + 16, 0);
      put16(frame, ihl + 16, refFold(refSum(frame, ihl, total, refSum(frame, 12, 20) + 6 + total - ihl)));
    } else if (frame[9] === 1 && total - ihl >= 4) {
      put16(frame, ihl + 2, 0);
      put16(frame, ihl + 2, refFold(refSum(frame, ihl, total)));
    }
  }
  if (fixIp && ihl >= 20 && ihl <= frame.length) {
    put16(frame, 10, 0);
    put16(frame, 10, refFold(refSum(frame, 0, ihl)));
  }
}

const options = new TcpOptions(); // reused across every run, as the rx loop does
const ipView = new Ipv4View(new Uint8Array(0), 0, 0);
const tcpView = new TcpView(new Uint8Array(0), 0, 0);
const icmpView = new IcmpView(new Uint8Array(0), 0, 0);
const stats = { ip: new Array<number>(WIRE_ERROR_NAMES.length).fill(0), tcpOk: 0, tcpChecked: 0 };
const parsed = new SegmentSpec();

/** parseSegment over the same guarded bytes: the views' verdict, and their fields when Ok. */
function parseAgrees(buf: Uint8Array, off: number, len: number, verdict: number, isTcp: boolean): void {
  const code = parseSegment(buf, off, len, parsed);
  if (verdict !== WireError.Ok || isTcp) expect(code).toBe(verdict);
  else expect(code).toBe(NOT_TCP);
  if (code !== WireError.Ok) return;
  expect([parsed.srcAddr, parsed.dstAddr, parsed.ipId, parsed.ttl, parsed.tos, parsed.dontFragment]).toEqual([
    ipView.srcAddr, ipView.dstAddr, ipView.ident, ipView.ttl, ipView.tos, ipView.dontFragment,
  ]);
  expect([parsed.srcPort, parsed.dstPort, parsed.seq, parsed.ack, parsed.flags & 0xff, parsed.window, parsed.urgent]).toEqual([
    tcpView.srcPort, tcpView.dstPort, tcpView.seq, tcpView.ack, tcpView.flags, tcpView.window, tcpView.urgent,
  ]);
  expect([parsed.mss, parsed.windowScale, parsed.sackPermitted, parsed.hasTimestamps, parsed.tsVal, parsed.tsEcr]).toEqual([
    options.hasMss ? options.mss : 0, options.hasWindowScale ? options.windowScale : -1, options.sackPermitted,
    options.hasTimestamps, options.tsVal, options.tsEcr,
  ]);
  expect(parsed.payloadLength).toBe(tcpView.payloadLength);
  if (parsed.payloadLength > 0) expect(parsed.payloadOffset).toBe(tcpView.payloadOffset);
}

const ip6View = new Ipv6View(new Uint8Array(0), 0, 0);

/** IPv6: check and walk stay inside the frame; parseSegment answers a code, never throws. */
function rx6Properties(buf: Uint8Array, off: number, len: number): number {
  const verdict = Ipv6View.check(buf, off, len);
  expect(CODES.has(verdict)).toBe(true);
  let code: number = verdict;
  if (verdict === WireError.Ok) {
    ip6View.reset(buf, off, len);
    code = ip6View.walkExtensions();
    expect(CODES.has(code)).toBe(true);
    if (code === WireError.Ok) expect(ip6View.upperOffset + ip6View.upperLength).toBe(off + 40 + ip6View.payloadLength);
  }
  const parsedCode = parseSegment(buf, off, len, parsed);
  expect(CODES.has(parsedCode) || parsedCode === NOT_TCP).toBe(true);
  if (code !== WireError.Ok) expect(parsedCode).toBe(code);
  return verdict;
}

/**
 * The rx path over `frame` placed at `off` inside a larger buffer of junk: every read must stay
 * in [off, off + frame.length). Asserts the properties; returns the verdict.
 */
function rxProperties(frame: Uint8Array, off: number): number {
  const len = frame.length;
  const backing = new Uint8Array(off + len + 8).fill(0x5a);
  backing.set(frame, off);
  const buf = guarded(backing, off, off + len);
  // Version 6: the IPv6 view and its extension walk under the same guard (issue 20).
  if (len > 0 && buf[off]! >> 4 === 6) return rx6Properties(buf, off, len);

  const ipVerdict = Ipv4View.check(buf, off, len);
  expect(CODES.has(ipVerdict)).toBe(true);
  stats.ip[ipVerdict]!++;
  if (ipVerdict !== WireError.Ok) {
    parseAgrees(buf, off, len, ipVerdict, false);
    return ipVerdict;
  }

  // Ok ⇒ the header and the total length fit the frame, and every getter reads inside it.
  ipView.reset(buf, off, len);
  expect(ipView.version).toBe(4);
  expect(ipView.headerLength).toBeGreaterThanOrEqual(20);
  expect(ipView.totalLength).toBeLessThanOrEqual(len);
  expect(ipView.payloadOffset + ipView.payloadLength).toBe(off + ipView.totalLength);
  expect(ipView.payloadLength).toBeGreaterThanOrEqual(0);
  void [ipView.tos, ipView.ident, ipView.dontFragment, ipView.ttl, ipView.checksum, ipView.srcAddr, ipView.dstAddr];

  if (ipView.protocol === IpProtocol.TCP) {
    stats.tcpChecked++;
    const tcpVerdict = TcpView.check(buf, ipView.payloadOffset, ipView.payloadLength, ipView.srcAddr, ipView.dstAddr, options);
    expect(CODES.has(tcpVerdict)).toBe(true);
    if (tcpVerdict === WireError.Ok) {
      stats.tcpOk++;
      tcpView.reset(buf, ipView.payloadOffset, ipView.payloadLength);
      expect(tcpView.headerLength).toBeGreaterThanOrEqual(20);
      expect(tcpView.headerLength).toBeLessThanOrEqual(tcpView.len);
      expect(tcpView.payloadOffset + tcpView.payloadLength).toBeLessThanOrEqual(off + len);
      void [tcpView.srcPort, tcpView.dstPort, tcpView.seq, tcpView.ack, tcpView.flags, tcpView.window, tcpView.checksum, tcpView.urgent];
      expect(options.windowScale).toBeLessThanOrEqual(MAX_WINDOW_SCALE);
      expect(options.hasMss || options.mss === 0).toBe(true);
    }
    parseAgrees(buf, off, len, tcpVerdict, true);
    return tcpVerdict;
  }
  if (ipView.protocol === IpProtocol.ICMP) {
    const icmpVerdict = IcmpView.check(buf, ipView.payloadOffset, ipView.payloadLength);
    expect(CODES.has(icmpVerdict)).toBe(true);
    if (icmpVerdict === WireError.Ok) {
      icmpView.reset(buf, ipView.payloadOffset, ipView.payloadLength);
      void [icmpView.type, icmpView.code, icmpView.identifier, icmpView.sequence];
    }
    parseAgrees(buf, off, len, WireError.Ok, false);
    return icmpVerdict;
  }
  parseAgrees(buf, off, len, WireError.Ok, false);
  return ipVerdict;
}

describe('the guard itself', () => {
  it('catches a read one past the end and a write', () => {
    const buf = guarded(new Uint8Array(10), 2, 6);
    expect(buf[2]).toBe(0);
    expect(buf.length).toBe(10);
    expect(() => buf[6]).toThrow(OutOfFrame);
    expect(() => buf[1]).toThrow(OutOfFrame);
    expect(() => buf[-1]).toThrow(OutOfFrame);
    expect(() => {
      buf[3] = 1;
    }).toThrow(OutOfFrame);
    // A real frame under the guard passes; the same frame with len one short of its
    // total length is refused before anything past len is read.
    const frame = cap.hexBytes(cap.SYNACK_TS);
    expect(Ipv4View.check(guarded(frame, 0, 60), 0, 60)).toBe(WireError.Ok);
    expect(Ipv4View.check(guarded(frame, 0, 59), 0, 59)).toBe(WireError.Truncated);
  });
});

// Arbitrary bytes, optionally shaped: version 4, an IHL, a total length within the frame,
// TCP/ICMP protocol, no fragment bits, repaired checksums. Unshaped runs probe the early
// rejections; shaped ones reach the TCP checksum and the option walk.
const likely = fc.constantFrom(true, true, true, false);
const shapedFrame = fc
  .record({
    // fast-check keeps arrays small by default: pick the length explicitly to cover 0–1600.
    bytes: fc
      .oneof(fc.integer({ min: 0, max: 1600 }), fc.integer({ min: 0, max: 80 }))
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    setVersion: likely,
    ihl: fc.oneof({ arbitrary: fc.constant(5), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 2 }),
    totalLength: fc.option(fc.integer({ min: 0, max: 1700 }), { freq: 5 }),
    protocol: fc.constantFrom(IpProtocol.TCP, IpProtocol.TCP, IpProtocol.TCP, IpProtocol.ICMP, null),
    clearFragment: likely,
    // Mostly option-less headers: random option bytes are nearly always rejected.
    dataOffset: fc.oneof({ arbitrary: fc.constant(5), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 15 }), weight: 2 }),
    fixIp: likely,
    fixInner: likely,
    off: fc.nat(9),
  })
  .map((r) => {
    const frame = r.bytes.slice();
    if (frame.length >= 1 && r.setVersion) frame[0] = 0x40 | r.ihl;
    if (frame.length >= 4 && r.totalLength !== null) put16(frame, 2, Math.min(r.totalLength, frame.length));
    if (frame.length >= 8 && r.clearFragment) put16(frame, 6, 0x4000);
    if (frame.length >= 10 && r.protocol !== null) frame[9] = r.protocol;
    if (frame.length >= 1) {
      const tcpOff = (frame[0]! & 0x0f) * 4 + 12;
      if (tcpOff < frame.length) frame[tcpOff] = r.dataOffset << 4;
    }
    repair(frame, r.fixIp, r.fixInner);
    return { frame, off: r.off };
  });

const CAPTURE_NAMES = [
  'SYN_TS', 'SYNACK_TS', 'ACK_TS', 'GET_TS', 'SERVER_ACK_TS', 'SERVER_DATA_TS', 'FIN_TS',
  'SYN_NOTS', 'SYNACK_NOTS', 'ACK_NOTS', 'GET_NOTS', 'SERVER_ACK_NOTS', 'FIN_NOTS',
  'SYN_CLOSED_PORT', 'RST_ACK', 'ICMP_ECHO_REQUEST', 'ICMP_ECHO_REPLY', 'HPING_SYN', 'SYNACK_MSS_ONLY', 'RST_BARE',
] as const;
const CAPTURES = CAPTURE_NAMES.map((name) => cap.hexBytes(cap[name]));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

const mutatedCapture = fc
  .record({
    which: fc.nat(CAPTURES.length - 1),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
    // Mostly repair checksums, or nearly every mutation would stop at a checksum.
    fixIp: likely,
    fixInner: likely,
    off: fc.nat(9),
  })
  .map((r) => {
    let frame = CAPTURES[r.which]!.slice();
    for (const m of r.mutations) {
      if (m.kind === 'flip' && frame.length > 0) frame[m.at % frame.length]! ^= 1 << m.bit;
      else if (m.kind === 'set' && frame.length > 0) frame[m.at % frame.length] = m.value;
      else if (m.kind === 'truncate') frame = frame.slice(0, m.to % (frame.length + 1));
      else if (m.kind === 'extend') frame = Uint8Array.from([...frame, ...m.bytes]);
    }
    repair(frame, r.fixIp, r.fixInner);
    return { frame, off: r.off };
  });

describe('checked views never throw, always answer a WireError, never read outside the frame', () => {
  it('arbitrary and shaped byte strings of 0–1600 bytes', () => {
    stats.ip.fill(0);
    stats.tcpOk = stats.tcpChecked = 0;
    fc.assert(
      fc.property(shapedFrame, ({ frame, off }) => {
        rxProperties(frame, off);
      }),
      { numRuns: 1500 },
    );
    // The generator must actually reach deep: some frames pass IP, some reach and pass TCP.
    expect(stats.ip[WireError.Ok]).toBeGreaterThan(100);
    expect(stats.tcpChecked).toBeGreaterThan(50);
    expect(stats.tcpOk).toBeGreaterThan(10);
    if (process.env.SYNDROP_FUZZ_STATS) console.log(JSON.stringify(stats));
  });

  it('real Linux captures, mutated (flip, set, truncate, extend), checksums optionally repaired', () => {
    stats.ip.fill(0);
    stats.tcpOk = stats.tcpChecked = 0;
    const seen = new Set<number>();
    fc.assert(
      fc.property(mutatedCapture, ({ frame, off }) => {
        seen.add(rxProperties(frame, off));
      }),
      { numRuns: 2000 },
    );
    expect(stats.tcpOk).toBeGreaterThan(100);
    // Mutations reach most rejection reasons, not only the checksums.
    for (const code of [WireError.Ok, WireError.Truncated, WireError.BadVersion, WireError.BadIpChecksum, WireError.BadTcpChecksum, WireError.BadDataOffset]) {
      expect(seen.has(code), WIRE_ERROR_NAMES[code]).toBe(true);
    }
  });

  it('option areas of real SYNs rewritten with plausible kinds and lengths (header ends at frame end)', () => {
    // The option walk's edge is the header's last byte; with no payload that is the frame's
    // last byte, so a walker reading one byte too far is caught by the guard.
    const optionByte = fc.oneof(
      fc.constantFrom(0, 1, 1, 2, 3, 4, 5, 8, 10, 30, 254),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 0, max: 255 }),
    );
    const seen = new Set<number>();
    fc.assert(
      fc.property(
        fc.constantFrom(CAPTURES[0]!, CAPTURES[1]!, CAPTURES[7]!, CAPTURES[8]!),
        fc.integer({ min: 0, max: 10 }),
        fc.array(optionByte, { minLength: 40, maxLength: 40 }),
        fc.nat(9),
        (capture, words, optionBytes, off) => {
          const frame = new Uint8Array(40 + words * 4);
          frame.set(capture.subarray(0, 40));
          frame.set(optionBytes.slice(0, words * 4), 40);
          frame[32] = (5 + words) << 4;
          put16(frame, 2, frame.length);
          repair(frame, true, true);
          const verdict = rxProperties(frame, off);
          seen.add(verdict);
          // Linux keeps a segment whatever its option bytes (tcp_parse_options stops early).
          expect(verdict).toBe(WireError.Ok);
        },
      ),
      { numRuns: 2000 },
    );
    expect(seen).toEqual(new Set([WireError.Ok]));
  });

  it('every prefix of every capture, at every offset 0..3', () => {
    for (const capture of CAPTURES) {
      for (let len = 0; len <= capture.length; len++) {
        for (let off = 0; off < 4; off++) {
          const verdict = rxProperties(capture.subarray(0, len), off);
          if (len < capture.length) expect(verdict).not.toBe(WireError.Ok);
          else expect(verdict).toBe(WireError.Ok);
        }
      }
    }
  });
});

// ── The repr round trip ──
// Specs in Linux's layout only: MSS > 0, SACK-permitted and window scale ≤ 14 on SYNs, as
// tcp_options_write emits them (what falls outside is covered as named limits in
// test/unit/wire-repr.test.ts).
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });
const canonicalSpec = fc
  .record({
    srcAddr: u32,
    dstAddr: u32,
    srcPort: u16,
    dstPort: u16,
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0xfff }),
    window: u16,
    urgent: u16,
    ttl: u8,
    tos: u8,
    ipId: u16,
    dontFragment: fc.boolean(),
    mss: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff })),
    windowScale: fc.integer({ min: -1, max: MAX_WINDOW_SCALE }),
    sackPermitted: fc.boolean(),
    hasTimestamps: fc.boolean(),
    tsVal: u32,
    tsEcr: u32,
    payload: fc.uint8Array({ maxLength: 300 }),
    payloadOffset: fc.nat(9),
  })
  .map((r) => {
    const spec = new SegmentSpec();
    const isSyn = (r.flags & 0x02) !== 0;
    Object.assign(spec, r, {
      mss: isSyn ? r.mss : 0,
      windowScale: isSyn ? r.windowScale : -1,
      sackPermitted: isSyn && r.sackPermitted,
      tsVal: r.hasTimestamps ? r.tsVal : 0,
      tsEcr: r.hasTimestamps ? r.tsEcr : 0,
      payload: null,
      payloadOffset: 0,
      payloadLength: 0,
    });
    if (r.payload.length > 0) {
      const holder = new Uint8Array(r.payloadOffset + r.payload.length + 3).fill(0x77);
      holder.set(r.payload, r.payloadOffset);
      Object.assign(spec, { payload: holder, payloadOffset: r.payloadOffset, payloadLength: r.payload.length });
    }
    return spec;
  });

describe('SegmentSpec round trip: write → parseSegment → the same fields', () => {
  it('any spec in tcp_options_write layout, at any offset, re-parses to itself and re-writes the same bytes', () => {
    const back = new SegmentSpec();
    fc.assert(
      fc.property(canonicalSpec, fc.nat(7), (spec, off) => {
        const out = new Uint8Array(off + 60 + spec.payloadLength).fill(0xcc);
        const length = writeTcpSegment(out, off, spec);
        expect(parseSegment(out, off, length, back)).toBe(WireError.Ok);
        const payloadOf = (s: SegmentSpec): number[] =>
          s.payload === null ? [] : [...s.payload.subarray(s.payloadOffset, s.payloadOffset + s.payloadLength)];
        expect(payloadOf(back)).toEqual(payloadOf(spec));
        expect({ ...back, payload: null, payloadOffset: 0 }).toEqual({ ...spec, payload: null, payloadOffset: 0 });
        const again = new Uint8Array(length).fill(0x33);
        expect(writeTcpSegment(again, 0, back)).toBe(length);
        expect(Buffer.from(again).equals(Buffer.from(out.subarray(off, off + length)))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

// The builder must write what Linux 6.18 writes: each real frame Linux sent (SYN-ACK with and
// without timestamps, MSS-only SYN-ACK, RST/ACK, bare ACKs, a data segment, an echo reply) is
// rebuilt from a SegmentSpec holding its field values and compared byte for byte, both
// checksums included. Then the checksum helpers against RFC 1071 and against themselves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finishChecksum,
  internetChecksum,
  pseudoHeaderSum,
  sumWords,
  updateChecksum16,
  updateChecksum32,
} from '../../src/wire/checksum.js';
import { SegmentSpec, tcpOptionsLength, writeIcmpEchoReply, writeTcpSegment } from '../../src/wire/builder.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { parseSegment } from '../../src/wire/parse.js';
import { TcpFlag, TcpView } from '../../src/wire/tcp.js';
import { TcpOptions } from '../../src/wire/tcp-options.js';
import { WireError } from '../../src/wire/wire-error.js';
import * as cap from '../fixtures/captures.js';

const { hexBytes } = cap;

const SERVER = 0x0ac90001; // 10.201.0.1
const CLIENT = 0x0ac90002; // 10.201.0.2

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Builds into a dirty buffer (the builder must not rely on zeroed memory) and returns the frame. */
function build(spec: SegmentSpec, off = 0): Uint8Array {
  const out = new Uint8Array(off + 1600).fill(0xcc);
  const length = writeTcpSegment(out, off, spec);
  return out.subarray(off, off + length);
}

const spec = new SegmentSpec();

function serverSpec(fields: Partial<SegmentSpec>): SegmentSpec {
  spec.reset();
  spec.srcAddr = SERVER;
  spec.dstAddr = CLIENT;
  spec.srcPort = 8080;
  Object.assign(spec, fields);
  return spec;
}

describe('writeTcpSegment reproduces frames Linux 6.18 sent, byte for byte', () => {
  it('SYN-ACK with timestamps: <mss 1460,sackOK,TS,nop,wscale 10>, win 65160 (spec §1.10)', () => {
    const built = build(
      serverSpec({
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
      }),
    );
    expect(tcpOptionsLength(spec)).toBe(20);
    expect(hex(built)).toBe(cap.SYNACK_TS);
  });

  it('SYN-ACK without timestamps: <mss 1460,nop,nop,sackOK,nop,wscale 10>, win 64240 (spec §1.10)', () => {
    const built = build(
      serverSpec({
        dstPort: 50020,
        seq: 269742968,
        ack: 3178816671,
        flags: TcpFlag.SYN | TcpFlag.ACK,
        window: 64240,
        mss: 1460,
        sackPermitted: true,
        windowScale: 10,
      }),
    );
    expect(tcpOptionsLength(spec)).toBe(12);
    expect(hex(built)).toBe(cap.SYNACK_NOTS);
  });

  it('SYN-ACK to an option-less SYN (hping3): <mss 1460> only, win 64240', () => {
    const built = build(
      serverSpec({
        dstPort: 2942,
        seq: 1333543475,
        ack: 1125365422,
        flags: TcpFlag.SYN | TcpFlag.ACK,
        window: 64240,
        mss: 1460,
      }),
    );
    expect(hex(built)).toBe(cap.SYNACK_MSS_ONLY);
  });

  it('RST/ACK from a closed port: seq 0, ack = SYN seq + 1, win 0, IP id 0, DF', () => {
    const built = build(
      serverSpec({ srcPort: 9, dstPort: 40610, seq: 0, ack: 1437331259, flags: TcpFlag.RST | TcpFlag.ACK, window: 0 }),
    );
    expect(hex(built)).toBe(cap.RST_ACK);
  });

  it('bare RST (the client kernel to an unexpected SYN-ACK)', () => {
    spec.reset();
    Object.assign(spec, { srcAddr: CLIENT, dstAddr: SERVER, srcPort: 2942, dstPort: 8080, seq: 1125365422, flags: TcpFlag.RST });
    expect(hex(build(spec))).toBe(cap.RST_BARE);
  });

  it('bare ACK with timestamps: <nop,nop,TS val ecr>; SYN-only options are left out', () => {
    const built = build(
      serverSpec({
        dstPort: 50008,
        seq: 4254464710,
        ack: 3592097526,
        flags: TcpFlag.ACK,
        window: 64,
        ipId: 6527,
        hasTimestamps: true,
        tsVal: 3457799089,
        tsEcr: 1979314673,
        // Set but must not appear: Linux writes MSS, SACK-permitted and wscale on SYNs only.
        mss: 1460,
        sackPermitted: true,
        windowScale: 10,
      }),
    );
    expect(tcpOptionsLength(spec)).toBe(12);
    expect(hex(built)).toBe(cap.SERVER_ACK_TS);
  });

  it('bare ACK without options', () => {
    const built = build(serverSpec({ dstPort: 50020, seq: 269742969, ack: 3178816760, flags: TcpFlag.ACK, window: 63, ipId: 54575 }));
    expect(hex(built)).toBe(cap.SERVER_ACK_NOTS);
  });

  it('the client third ACK (not ours, but the same layout)', () => {
    spec.reset();
    Object.assign(spec, {
      srcAddr: CLIENT,
      dstAddr: SERVER,
      srcPort: 50008,
      dstPort: 8080,
      seq: 3592097437,
      ack: 4254464710,
      flags: TcpFlag.ACK,
      window: 63,
      ipId: 51690,
      hasTimestamps: true,
      tsVal: 1979314673,
      tsEcr: 3457799089,
    });
    expect(hex(build(spec))).toBe(cap.ACK_TS);
  });

  it('data segments: the server "hello\\n" and the client GET, payload copied from an offset', () => {
    const serverData = hexBytes(cap.SERVER_DATA_TS);
    const payloadHolder = new Uint8Array(64).fill(0x77);
    payloadHolder.set(serverData.subarray(52), 11);
    let built = build(
      serverSpec({
        dstPort: 50008,
        seq: 4254464894,
        ack: 3592097526,
        flags: TcpFlag.PSH | TcpFlag.ACK,
        window: 64,
        ipId: 6529,
        hasTimestamps: true,
        tsVal: 3457799093,
        tsEcr: 1979314677,
        payload: payloadHolder,
        payloadOffset: 11,
        payloadLength: 6,
      }),
    );
    expect(hex(built)).toBe(cap.SERVER_DATA_TS);

    // The clients' GETs: fields read back with parseSegment, payload written from the capture.
    for (const [name, hasTs] of [['GET_TS', true], ['GET_NOTS', false]] as const) {
      const real = hexBytes(cap[name]);
      expect(parseSegment(real, 0, real.length, spec)).toBe(WireError.Ok);
      expect([spec.hasTimestamps, spec.payload, spec.payloadLength]).toEqual([hasTs, real, 89]);
      built = build(spec, 7);
      expect(built.length).toBe(real.length);
      expect(hex(built), name).toBe(cap[name]);
    }
  });

  it('a frame built at a non-zero offset touches nothing outside [off, off + length)', () => {
    const out = new Uint8Array(200).fill(0xcc);
    serverSpec({ dstPort: 50008, seq: 1, ack: 2, flags: TcpFlag.SYN | TcpFlag.ACK, window: 65160, mss: 1460, sackPermitted: true, hasTimestamps: true, windowScale: 10 });
    const length = writeTcpSegment(out, 50, spec);
    expect(length).toBe(60);
    expect(out.subarray(0, 50).every((b) => b === 0xcc)).toBe(true);
    expect(out.subarray(110).every((b) => b === 0xcc)).toBe(true);
  });

  it('every SYN option combination builds a frame the checked views accept and read back', () => {
    const opts = new TcpOptions();
    for (const mss of [0, 536, 1460, 65535]) {
      for (const sackPermitted of [false, true]) {
        for (const hasTimestamps of [false, true]) {
          for (const windowScale of [-1, 0, 7, 14]) {
            serverSpec({
              dstPort: 1,
              seq: 0xfffffffe,
              ack: 0x80000000,
              flags: TcpFlag.SYN | TcpFlag.ACK,
              window: 65535,
              mss,
              sackPermitted,
              hasTimestamps,
              tsVal: 0xdeadbeef,
              tsEcr: 1,
              windowScale,
            });
            const frame = build(spec);
            expect(Ipv4View.check(frame, 0, frame.length)).toBe(WireError.Ok);
            expect(TcpView.check(frame, 20, frame.length - 20, SERVER, CLIENT, opts)).toBe(WireError.Ok);
            expect(frame.length).toBe(40 + tcpOptionsLength(spec));
            expect(new TcpView(frame, 20, frame.length - 20).headerLength % 4).toBe(0);
            expect([opts.hasMss, opts.mss]).toEqual([mss > 0, mss]);
            expect(opts.sackPermitted).toBe(sackPermitted);
            expect([opts.hasTimestamps, opts.tsVal, opts.tsEcr]).toEqual(hasTimestamps ? [true, 0xdeadbeef, 1] : [false, 0, 0]);
            expect([opts.hasWindowScale, opts.windowScale]).toEqual([windowScale >= 0, Math.max(windowScale, 0)]);
          }
        }
      }
    }
  });
});

describe('writeIcmpEchoReply reproduces the echo reply Linux sent', () => {
  it('same bytes as the real reply, given the IP id Linux chose (58155) and no DF', () => {
    const request = hexBytes(cap.ICMP_ECHO_REQUEST);
    const ip = new Ipv4View(request);
    spec.reset();
    spec.srcAddr = ip.dstAddr;
    spec.dstAddr = ip.srcAddr;
    spec.ttl = 64;
    spec.ipId = 58155; // Linux picks this (ip_select_ident); not ours to predict
    spec.dontFragment = false; // icmp_reply does not set DF on the echo reply
    const out = new Uint8Array(200).fill(0xcc);
    const length = writeIcmpEchoReply(out, 3, spec, request, ip.payloadOffset, ip.payloadLength);
    expect(length).toBe(60);
    expect(hex(out.subarray(3, 3 + length))).toBe(cap.ICMP_ECHO_REPLY);
    expect(request.length).toBe(60);
    expect(hex(request)).toBe(cap.ICMP_ECHO_REQUEST); // the request is not modified
  });
});

// ── Checksums ──

/** Straight RFC 1071 reference: 32-bit accumulate with per-word carry fold. */
function referenceChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

describe('Internet checksum (RFC 1071)', () => {
  it('RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2, checksum 0x220d', () => {
    const bytes = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(finishChecksum(sumWords(bytes, 0, 8, 0))).toBe(~0xddf2 & 0xffff);
    expect(internetChecksum(bytes, 0, 8)).toBe(0x220d);
    // Appending the checksum makes the whole verify to zero.
    const withChecksum = Uint8Array.from([...bytes, 0x22, 0x0d]);
    expect(internetChecksum(withChecksum, 0, 10)).toBe(0);
  });

  it('RFC 1071 byte-order independence: swapping every byte pair swaps the checksum', () => {
    const bytes = Uint8Array.from([0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6]);
    expect(internetChecksum(bytes, 0, 8)).toBe(0x0d22);
  });

  it('odd length pads the last byte with zero; empty input sums to 0xffff', () => {
    expect(internetChecksum(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3)).toBe(~(0x1234 + 0x5600) & 0xffff);
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
    expect(internetChecksum(Uint8Array.from([0xff, 0xff]), 0, 2)).toBe(0);
  });

  it('real headers verify to zero: the IPv4 header of every capture, the TCP segment with the pseudo header', () => {
    for (const name of ['SYN_TS', 'SYNACK_TS', 'GET_TS', 'RST_ACK', 'HPING_SYN', 'ICMP_ECHO_REPLY'] as const) {
      const frame = hexBytes(cap[name]);
      expect(internetChecksum(frame, 0, 20)).toBe(0);
      if (frame[9] === 6) {
        const len = frame.length - 20;
        const sum = sumWords(frame, 20, len, pseudoHeaderSum(new Ipv4View(frame).srcAddr, new Ipv4View(frame).dstAddr, 6, len));
        expect(finishChecksum(sum)).toBe(0);
      }
    }
  });

  it('matches the per-word-folding reference on random data at random offsets (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), (data, off) => {
        const buf = new Uint8Array(off + data.length);
        buf.set(data, off);
        expect(internetChecksum(buf, off, data.length)).toBe(referenceChecksum(data));
      }),
      { numRuns: 300 },
    );
  });

  it('a 64 KiB run of 0xff words does not overflow the deferred fold', () => {
    const bytes = new Uint8Array(65534).fill(0xff);
    expect(internetChecksum(bytes, 0, bytes.length)).toBe(referenceChecksum(bytes));
    const sum = sumWords(bytes, 0, bytes.length, pseudoHeaderSum(0xffffffff, 0xffffffff, 6, 65535));
    expect(finishChecksum(sum)).toBe(
      referenceChecksum(Uint8Array.from([...bytes, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 6, 0xff, 0xff])),
    );
  });
});

describe('incremental checksum update (RFC 1624) equals full recomputation', () => {
  // One's complement has two zeros: if every word of the new data is zero the full sum is +0
  // (checksum 0xffff) while eqn. 3 yields 0x0000. A TCP/IPv4 checksum always covers the
  // pseudo header's nonzero protocol word, so the data below always holds a nonzero word.
  const frameWithWord = fc
    .tuple(fc.uint8Array({ minLength: 2, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 0xffff }))
    .map(([bytes, at, guard]) => {
      const even = bytes.length & ~1;
      const data = Uint8Array.from([...bytes.subarray(0, even), guard >> 8, guard & 0xff]);
      return { data, wordAt: (at % (even / 2 || 1)) * 2 };
    });

  it('updateChecksum16: one 16-bit word changed', () => {
    fc.assert(
      fc.property(frameWithWord, fc.integer({ min: 0, max: 0xffff }), ({ data, wordAt }, newWord) => {
        const before = internetChecksum(data, 0, data.length);
        const oldWord = (data[wordAt]! << 8) | data[wordAt + 1]!;
        data[wordAt] = newWord >> 8;
        data[wordAt + 1] = newWord & 0xff;
        expect(updateChecksum16(before, oldWord, newWord)).toBe(internetChecksum(data, 0, data.length));
      }),
      { numRuns: 500 },
    );
  });

  it('updateChecksum32: one 32-bit field changed (seq/ack/TSval)', () => {
    fc.assert(
      fc.property(frameWithWord, fc.integer({ min: 0, max: 0xffffffff }), ({ data, wordAt }, newValue) => {
        fc.pre(data.length >= 6);
        const at = Math.min(wordAt, data.length - 6); // keep the guard word intact
        const before = internetChecksum(data, 0, data.length);
        const oldValue = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
        data[at] = newValue >>> 24;
        data[at + 1] = (newValue >>> 16) & 0xff;
        data[at + 2] = (newValue >>> 8) & 0xff;
        data[at + 3] = newValue & 0xff;
        expect(updateChecksum32(before, oldValue, newValue)).toBe(internetChecksum(data, 0, data.length));
      }),
      { numRuns: 500 },
    );
  });

  it('re-stamping the real SYN-ACK with a new TSval by update equals rebuilding it', () => {
    const frame = hexBytes(cap.SYNACK_TS);
    const oldChecksum = (frame[36]! << 8) | frame[37]!;
    const oldTsVal = 3457799089;
    const newTsVal = 3457800089; // a retransmission 1 s later (spec §1.10)
    const updated = updateChecksum32(oldChecksum, oldTsVal, newTsVal);
    serverSpec({
      dstPort: 50008,
      seq: 4254464709,
      ack: 3592097437,
      flags: TcpFlag.SYN | TcpFlag.ACK,
      window: 65160,
      mss: 1460,
      sackPermitted: true,
      hasTimestamps: true,
      tsVal: newTsVal,
      tsEcr: 1979314673,
      windowScale: 10,
    });
    const rebuilt = build(spec);
    expect(updated).toBe((rebuilt[36]! << 8) | rebuilt[37]!);
  });
});

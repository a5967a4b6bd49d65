// IPv6 views, builder and checksums on real captured bytes (test/fixtures/captures6.ts,
// issue 20): every field read from Linux's frames, the parse/emit round trip, and the
// malformed frames the checked view refuses.

import { describe, expect, it } from 'vitest';
import { ipv6ToString, parseIpv6 } from '../../src/wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { finishChecksum, pseudoHeaderSum6, pseudoHeaderSum6Words, sumWords } from '../../src/wire/checksum.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { parseSegment } from '../../src/wire/parse.js';
import { TcpView } from '../../src/wire/tcp.js';
import { TcpOptions } from '../../src/wire/tcp-options.js';
import { WireError } from '../../src/wire/wire-error.js';
import * as cap from '../fixtures/captures6.js';
import { withExtensions } from '../helpers/ipv6-frames.js';

const { hex } = cap;

describe('Ipv6View on Linux 6.18 frames', () => {
  it('reads every header field of the captured SYN', () => {
    const b = hex(cap.SYN6_TS);
    expect(Ipv6View.check(b, 0, b.length)).toBe(WireError.Ok);
    const ip = new Ipv6View(b, 0, b.length);
    expect(ip.version).toBe(6);
    expect(ip.trafficClass).toBe(0);
    expect(ip.flowLabel).toBe(0xdf618);
    expect(ip.payloadLength).toBe(40);
    expect(ip.nextHeader).toBe(6);
    expect(ip.hopLimit).toBe(64);
    expect(ipv6ToString([0, 1, 2, 3].map((i) => ip.srcWord(i)))).toBe('fd78::2');
    expect(ipv6ToString([0, 1, 2, 3].map((i) => ip.dstWord(i)))).toBe('fd78::1');
    expect(ip.walkExtensions()).toBe(WireError.Ok);
    expect([ip.upperProtocol, ip.upperOffset, ip.upperLength]).toEqual([6, 40, 40]);
  });

  it('the TCP checksum over the IPv6 pseudo-header (RFC 8200 §8.1) holds for every capture', () => {
    for (const frame of [cap.SYN6_TS, cap.SYNACK6_TS, cap.SYN6_NO_TS, cap.SYNACK6_NO_TS, cap.SYN6_CLOSED_PORT, cap.RST6_CLOSED_PORT]) {
      const b = hex(frame);
      const pseudo = pseudoHeaderSum6(b, 8, 24, 6, b.length - 40);
      expect(TcpView.checkWithPseudoSum(b, 40, b.length - 40, pseudo, new TcpOptions())).toBe(WireError.Ok);
    }
  });

  it('parse → emit gives back Linux\'s SYN-ACKs and RST byte for byte', () => {
    for (const frame of [cap.SYNACK6_TS, cap.SYNACK6_NO_TS, cap.RST6_CLOSED_PORT, cap.SYN6_TS]) {
      const b = hex(frame);
      const spec = new SegmentSpec();
      expect(parseSegment(b, 0, b.length, spec)).toBe(WireError.Ok);
      expect(spec.ipv6).toBe(true);
      const out = new Uint8Array(200);
      const len = writeTcpSegment(out, 0, spec);
      expect(Buffer.from(out.subarray(0, len)).toString('hex')).toBe(frame);
    }
  });

  it('reads the SYN-ACK fields Linux chose: MSS 1440, window 64260 with TS, 64800 without', () => {
    const spec = new SegmentSpec();
    const ts = hex(cap.SYNACK6_TS);
    parseSegment(ts, 0, ts.length, spec);
    expect([spec.mss, spec.window, spec.windowScale, spec.sackPermitted, spec.tsVal, spec.tsEcr]).toEqual([1440, 64260, 10, true, 3718425294, 362687554]);
    const noTs = hex(cap.SYNACK6_NO_TS);
    parseSegment(noTs, 0, noTs.length, spec);
    expect([spec.mss, spec.window, spec.hasTimestamps]).toEqual([1440, 64800, false]);
  });
});

describe('IPv6 checksum edge cases', () => {
  it('pseudo-header sums from bytes and from words agree, length above 16 bits included', () => {
    const b = hex(cap.SYN6_TS);
    const src = parseIpv6('fd78::2')!;
    const dst = parseIpv6('fd78::1')!;
    for (const length of [0, 40, 0xffff, 0x10000, 0x12345]) {
      expect(pseudoHeaderSum6(b, 8, 24, 6, length)).toBe(pseudoHeaderSum6Words(src, dst, 6, length));
    }
  });

  it('an odd-length payload is padded with a zero byte; all-ones addresses do not overflow the fold', () => {
    const spec = new SegmentSpec();
    spec.ipv6 = true;
    spec.srcAddr6.set([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    spec.dstAddr6.set([0xffffffff, 0xffffffff, 0xffffffff, 0xfffffffe]);
    spec.srcPort = 0xffff;
    spec.dstPort = 0xffff;
    spec.seq = 0xffffffff;
    spec.ack = 0xffffffff;
    spec.flags = 0x18;
    spec.window = 0xffff;
    spec.payload = Uint8Array.of(0xff, 0xff, 0xff);
    spec.payloadLength = 3;
    const out = new Uint8Array(100);
    const len = writeTcpSegment(out, 0, spec);
    expect(len).toBe(40 + 20 + 3);
    const sum = sumWords(out, 40, 23, pseudoHeaderSum6(out, 8, 24, 6, 23));
    expect(finishChecksum(sum)).toBe(0);
    // A flipped bit anywhere in the addresses breaks it (they are in the pseudo-header).
    out[39] ^= 1;
    expect(finishChecksum(sumWords(out, 40, 23, pseudoHeaderSum6(out, 8, 24, 6, 23)))).not.toBe(0);
  });
});

describe('malformed IPv6 frames (ipv6_rcv checks; extension headers)', () => {
  const syn = (): Uint8Array => hex(cap.SYN6_TS);

  it('refuses a short header, a wrong version and a payload length beyond the frame', () => {
    const b = syn();
    expect(Ipv6View.check(b, 0, 39)).toBe(WireError.Truncated);
    const v4 = syn();
    v4[0] = 0x40;
    expect(Ipv6View.check(v4, 0, v4.length)).toBe(WireError.BadVersion);
    const long = syn();
    long[5] = 41; // payload length 41 in an 80-byte frame
    expect(Ipv6View.check(long, 0, long.length)).toBe(WireError.BadPayloadLength);
  });

  it('skips hop-by-hop, routing and destination options headers to the TCP header', () => {
    const b = withExtensions(syn(), [0, 43, 60]);
    expect(Ipv6View.check(b, 0, b.length)).toBe(WireError.Ok);
    const ip = new Ipv6View(b, 0, b.length);
    expect(ip.walkExtensions()).toBe(WireError.Ok);
    expect([ip.upperProtocol, ip.upperOffset, ip.upperLength]).toEqual([6, 40 + 24, 40]);
  });

  it('a fragment header is WireError.Fragment; an unknown next header ends the walk for the caller to count', () => {
    const frag = withExtensions(syn(), [44]);
    expect(new Ipv6View(frag, 0, frag.length).walkExtensions()).toBe(WireError.Fragment);
    const unknown = withExtensions(syn(), [0]);
    unknown[40] = 253; // hop-by-hop says "next: 253 (experimental)"
    const ip = new Ipv6View(unknown, 0, unknown.length);
    expect(ip.walkExtensions()).toBe(WireError.Ok);
    expect(ip.upperProtocol).toBe(253);
  });

  it('an extension header that runs past the payload is Truncated', () => {
    const b = withExtensions(syn(), [60]);
    b[41] = 200; // Hdr Ext Len 200 → 1608 bytes
    expect(new Ipv6View(b, 0, b.length).walkExtensions()).toBe(WireError.Truncated);
  });
});

describe('IPv6 text forms (RFC 5952, as ss prints them)', () => {
  it('compresses the longest zero run and round-trips', () => {
    expect(ipv6ToString(parseIpv6('fd77:0:0:0:0:0:0:2')!)).toBe('fd77::2');
    expect(ipv6ToString(parseIpv6('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(ipv6ToString(parseIpv6('::')!)).toBe('::');
    expect(ipv6ToString(parseIpv6('1:2:3:4:5:6:7:8')!)).toBe('1:2:3:4:5:6:7:8');
    expect(ipv6ToString(parseIpv6('fd77::0:1:0:2')!)).toBe('fd77::1:0:2');
    expect(parseIpv6('1::2::3')).toBeNull();
    expect(parseIpv6('10.0.0.1')).toBeNull();
  });
});

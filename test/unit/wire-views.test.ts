// Checked views over real Linux 6.18 packets (test/fixtures/captures.ts), then every way the
// checks reject a frame. Malformed frames are real captures with one field changed and the
// checksums recomputed by an independent reference (test/helpers), so each case hits one reason.
import { describe, expect, it } from 'vitest';
import { IcmpType, IcmpView } from '../../src/wire/icmp.js';
import { IpProtocol, Ipv4View } from '../../src/wire/ipv4.js';
import { TcpFlag, TcpView, tcpFlagsToString } from '../../src/wire/tcp.js';
import { MAX_WINDOW_SCALE, TcpOptions } from '../../src/wire/tcp-options.js';
import { WireError, WIRE_ERROR_NAMES, type WireErrorCode } from '../../src/wire/wire-error.js';
import { ipv4ToString } from '../../src/wire/addr.js';
import * as cap from '../fixtures/captures.js';
import { put16, refFold, refSum } from '../helpers/reference-checksum.js';

const { hexBytes } = cap;

const SERVER = 0x0ac90001; // 10.201.0.1
const CLIENT = 0x0ac90002; // 10.201.0.2

function get16(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 256 + bytes[at + 1]!;
}
/** Recomputes the IPv4 header checksum in place (header length from the IHL nibble). */
function fixIpChecksum(frame: Uint8Array): Uint8Array {
  const ihl = (frame[0]! & 0x0f) * 4;
  put16(frame, 10, 0);
  put16(frame, 10, refFold(refSum(frame, 0, ihl)));
  return frame;
}
/** Recomputes the TCP checksum in place over [ihl, total length) with the pseudo header. */
function fixTcpChecksum(frame: Uint8Array): Uint8Array {
  const ihl = (frame[0]! & 0x0f) * 4;
  const total = get16(frame, 2);
  const segment = total - ihl;
  put16(frame, ihl + 16, 0);
  const pseudo = refSum(frame, 12, 20) + 6 + segment;
  put16(frame, ihl + 16, refFold(refSum(frame, ihl, total, pseudo)));
  return frame;
}
function fixBoth(frame: Uint8Array): Uint8Array {
  return fixIpChecksum(fixTcpChecksum(frame));
}

const options = new TcpOptions();

/** Runs both checks the way the rx loop does; returns the first rejection or Ok. */
function checkTcpFrame(frame: Uint8Array, len = frame.length): { ip: WireErrorCode; tcp: WireErrorCode | null } {
  const ip = Ipv4View.check(frame, 0, len);
  if (ip !== WireError.Ok) return { ip, tcp: null };
  const view = new Ipv4View(frame, 0, len);
  const tcp = TcpView.check(frame, view.payloadOffset, view.payloadLength, view.srcAddr, view.dstAddr, options);
  return { ip, tcp };
}
function tcpVerdict(frame: Uint8Array, len = frame.length): string {
  const { ip, tcp } = checkTcpFrame(frame, len);
  return WIRE_ERROR_NAMES[ip !== WireError.Ok ? ip : tcp!]!;
}

// ── Expected field values, read off `tcpdump -nn -v` of the same pcaps ──

interface TcpExpect {
  name: keyof typeof cap;
  ip: { totalLength: number; ident: number; df: boolean; checksum: number; src: number; dst: number };
  tcp: {
    srcPort: number;
    dstPort: number;
    seq: number;
    ack: number;
    headerLength: number;
    flags: number;
    flagString: string;
    window: number;
    checksum: number;
    payloadLength: number;
  };
  opts: { mss?: number; sack?: boolean; ts?: [number, number]; ws?: number };
  payloadStart?: string;
}

const TCP_PACKETS: TcpExpect[] = [
  {
    name: 'SYN_TS',
    ip: { totalLength: 60, ident: 51689, df: true, checksum: 0x5b3e, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50008, dstPort: 8080, seq: 3592097436, ack: 0, headerLength: 40, flags: TcpFlag.SYN, flagString: 'S', window: 64240, checksum: 0x07ec, payloadLength: 0 },
    opts: { mss: 1460, sack: true, ts: [1979314673, 0], ws: 10 },
  },
  {
    name: 'SYNACK_TS',
    ip: { totalLength: 60, ident: 0, df: true, checksum: 0x2528, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 50008, seq: 4254464709, ack: 3592097437, headerLength: 40, flags: TcpFlag.SYN | TcpFlag.ACK, flagString: 'S.', window: 65160, checksum: 0x6a1b, payloadLength: 0 },
    opts: { mss: 1460, sack: true, ts: [3457799089, 1979314673], ws: 10 },
  },
  {
    name: 'ACK_TS',
    ip: { totalLength: 52, ident: 51690, df: true, checksum: 0x5b45, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50008, dstPort: 8080, seq: 3592097437, ack: 4254464710, headerLength: 32, flags: TcpFlag.ACK, flagString: '.', window: 63, checksum: 0x9734, payloadLength: 0 },
    opts: { ts: [1979314673, 3457799089] },
  },
  {
    name: 'GET_TS',
    ip: { totalLength: 141, ident: 51691, df: true, checksum: 0x5aeb, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50008, dstPort: 8080, seq: 3592097437, ack: 4254464710, headerLength: 32, flags: TcpFlag.PSH | TcpFlag.ACK, flagString: 'P.', window: 63, checksum: 0xf664, payloadLength: 89 },
    opts: { ts: [1979314673, 3457799089] },
    payloadStart: 'GET /index.html HTTP/1.1\r\nHost: 10.201.0.1:8080\r\n',
  },
  {
    name: 'SERVER_ACK_TS',
    ip: { totalLength: 52, ident: 6527, df: true, checksum: 0x0bb1, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 50008, seq: 4254464710, ack: 3592097526, headerLength: 32, flags: TcpFlag.ACK, flagString: '.', window: 64, checksum: 0x96da, payloadLength: 0 },
    opts: { ts: [3457799089, 1979314673] },
  },
  {
    name: 'SERVER_DATA_TS',
    ip: { totalLength: 58, ident: 6529, df: true, checksum: 0x0ba9, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 50008, seq: 4254464894, ack: 3592097526, headerLength: 32, flags: TcpFlag.PSH | TcpFlag.ACK, flagString: 'P.', window: 64, checksum: 0x5230, payloadLength: 6 },
    opts: { ts: [3457799093, 1979314677] },
    payloadStart: 'hello\n',
  },
  {
    name: 'FIN_TS',
    ip: { totalLength: 52, ident: 51694, df: true, checksum: 0x5b41, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50008, dstPort: 8080, seq: 3592097526, ack: 4254464900, headerLength: 32, flags: TcpFlag.FIN | TcpFlag.ACK, flagString: 'F.', window: 63, checksum: 0x9614, payloadLength: 0 },
    opts: { ts: [1979314677, 3457799093] },
  },
  {
    name: 'SYN_NOTS',
    ip: { totalLength: 52, ident: 8589, df: true, checksum: 0x03a3, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50020, dstPort: 8080, seq: 3178816670, ack: 0, headerLength: 32, flags: TcpFlag.SYN, flagString: 'S', window: 64240, checksum: 0xd97c, payloadLength: 0 },
    opts: { mss: 1460, sack: true, ws: 10 },
  },
  {
    name: 'SYNACK_NOTS',
    ip: { totalLength: 52, ident: 0, df: true, checksum: 0x2530, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 50020, seq: 269742968, ack: 3178816671, headerLength: 32, flags: TcpFlag.SYN | TcpFlag.ACK, flagString: 'S.', window: 64240, checksum: 0xd5df, payloadLength: 0 },
    opts: { mss: 1460, sack: true, ws: 10 },
  },
  {
    name: 'ACK_NOTS',
    ip: { totalLength: 40, ident: 8590, df: true, checksum: 0x03ae, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50020, dstPort: 8080, seq: 3178816671, ack: 269742969, headerLength: 20, flags: TcpFlag.ACK, flagString: '.', window: 63, checksum: 0x1167, payloadLength: 0 },
    opts: {},
  },
  {
    name: 'GET_NOTS',
    ip: { totalLength: 129, ident: 8591, df: true, checksum: 0x0354, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50020, dstPort: 8080, seq: 3178816671, ack: 269742969, headerLength: 20, flags: TcpFlag.PSH | TcpFlag.ACK, flagString: 'P.', window: 63, checksum: 0x7097, payloadLength: 89 },
    opts: {},
    payloadStart: 'GET /index.html HTTP/1.1\r\n',
  },
  {
    name: 'SERVER_ACK_NOTS',
    ip: { totalLength: 40, ident: 54575, df: true, checksum: 0x500c, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 50020, seq: 269742969, ack: 3178816760, headerLength: 20, flags: TcpFlag.ACK, flagString: '.', window: 63, checksum: 0x110e, payloadLength: 0 },
    opts: {},
  },
  {
    name: 'FIN_NOTS',
    ip: { totalLength: 40, ident: 8594, df: true, checksum: 0x03aa, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 50020, dstPort: 8080, seq: 3178816760, ack: 269743159, headerLength: 20, flags: TcpFlag.FIN | TcpFlag.ACK, flagString: 'F.', window: 63, checksum: 0x104f, payloadLength: 0 },
    opts: {},
  },
  {
    name: 'SYN_CLOSED_PORT',
    ip: { totalLength: 60, ident: 44493, df: true, checksum: 0x775a, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 40610, dstPort: 9, seq: 1437331258, ack: 0, headerLength: 40, flags: TcpFlag.SYN, flagString: 'S', window: 64240, checksum: 0x1652, payloadLength: 0 },
    opts: { mss: 1460, sack: true, ts: [2401873514, 0], ws: 10 },
  },
  {
    name: 'RST_ACK',
    ip: { totalLength: 40, ident: 0, df: true, checksum: 0x253c, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 9, dstPort: 40610, seq: 0, ack: 1437331259, headerLength: 20, flags: TcpFlag.RST | TcpFlag.ACK, flagString: 'R.', window: 0, checksum: 0xb6a9, payloadLength: 0 },
    opts: {},
  },
  {
    name: 'HPING_SYN',
    ip: { totalLength: 40, ident: 10743, df: false, checksum: 0x3b45, src: CLIENT, dst: SERVER },
    // hping3 leaves a random value in the ack field without setting ACK.
    tcp: { srcPort: 2942, dstPort: 8080, seq: 1125365421, ack: 874826385, headerLength: 20, flags: TcpFlag.SYN, flagString: 'S', window: 512, checksum: 0x74c9, payloadLength: 0 },
    opts: {},
  },
  {
    name: 'SYNACK_MSS_ONLY',
    ip: { totalLength: 44, ident: 0, df: true, checksum: 0x2538, src: SERVER, dst: CLIENT },
    tcp: { srcPort: 8080, dstPort: 2942, seq: 1333543475, ack: 1125365422, headerLength: 24, flags: TcpFlag.SYN | TcpFlag.ACK, flagString: 'S.', window: 64240, checksum: 0xd111, payloadLength: 0 },
    opts: { mss: 1460 },
  },
  {
    name: 'RST_BARE',
    ip: { totalLength: 40, ident: 0, df: true, checksum: 0x253c, src: CLIENT, dst: SERVER },
    tcp: { srcPort: 2942, dstPort: 8080, seq: 1125365422, ack: 0, headerLength: 20, flags: TcpFlag.RST, flagString: 'R', window: 0, checksum: 0x757c, payloadLength: 0 },
    opts: {},
  },
];

function frameOf(name: keyof typeof cap): Uint8Array {
  return hexBytes(cap[name] as string);
}

describe('real Linux 6.18 TCP packets through the checked views', () => {
  for (const expected of TCP_PACKETS) {
    it(`${expected.name}: Ipv4View and TcpView return Ok and read every field`, () => {
      const frame = frameOf(expected.name);
      expect(Ipv4View.check(frame, 0, frame.length)).toBe(WireError.Ok);
      const ip = new Ipv4View(frame, 0, frame.length);
      expect(ip.version).toBe(4);
      expect(ip.headerLength).toBe(20);
      expect(ip.tos).toBe(0);
      expect(ip.totalLength).toBe(expected.ip.totalLength);
      expect(ip.totalLength).toBe(frame.length);
      expect(ip.ident).toBe(expected.ip.ident);
      expect(ip.dontFragment).toBe(expected.ip.df);
      expect(ip.ttl).toBe(64);
      expect(ip.protocol).toBe(IpProtocol.TCP);
      expect(ip.checksum).toBe(expected.ip.checksum);
      expect(ip.srcAddr).toBe(expected.ip.src);
      expect(ip.dstAddr).toBe(expected.ip.dst);
      expect(ipv4ToString(ip.srcAddr)).toBe(expected.ip.src === CLIENT ? '10.201.0.2' : '10.201.0.1');
      expect(ip.payloadOffset).toBe(20);
      expect(ip.payloadLength).toBe(expected.ip.totalLength - 20);

      const opts = new TcpOptions();
      expect(TcpView.check(frame, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, opts)).toBe(WireError.Ok);
      const tcp = new TcpView(frame, ip.payloadOffset, ip.payloadLength);
      expect(tcp.srcPort).toBe(expected.tcp.srcPort);
      expect(tcp.dstPort).toBe(expected.tcp.dstPort);
      expect(tcp.seq).toBe(expected.tcp.seq);
      expect(tcp.ack).toBe(expected.tcp.ack);
      expect(tcp.headerLength).toBe(expected.tcp.headerLength);
      expect(tcp.flags).toBe(expected.tcp.flags);
      expect(tcpFlagsToString(tcp.flags)).toBe(expected.tcp.flagString);
      expect(tcp.syn).toBe((expected.tcp.flags & TcpFlag.SYN) !== 0);
      expect(tcp.fin).toBe((expected.tcp.flags & TcpFlag.FIN) !== 0);
      expect(tcp.rst).toBe((expected.tcp.flags & TcpFlag.RST) !== 0);
      expect(tcp.hasAck).toBe((expected.tcp.flags & TcpFlag.ACK) !== 0);
      expect(tcp.window).toBe(expected.tcp.window);
      expect(tcp.checksum).toBe(expected.tcp.checksum);
      expect(tcp.urgent).toBe(0);
      expect(tcp.payloadOffset).toBe(20 + expected.tcp.headerLength);
      expect(tcp.payloadLength).toBe(expected.tcp.payloadLength);

      expect(opts.hasMss).toBe(expected.opts.mss !== undefined);
      expect(opts.mss).toBe(expected.opts.mss ?? 0);
      expect(opts.sackPermitted).toBe(expected.opts.sack === true);
      expect(opts.hasTimestamps).toBe(expected.opts.ts !== undefined);
      expect([opts.tsVal, opts.tsEcr]).toEqual(expected.opts.ts ?? [0, 0]);
      expect(opts.hasWindowScale).toBe(expected.opts.ws !== undefined);
      expect(opts.windowScale).toBe(expected.opts.ws ?? 0);
      expect(opts.unknownCount).toBe(0);

      if (expected.payloadStart !== undefined) {
        const payload = Buffer.from(frame.subarray(tcp.payloadOffset, tcp.payloadOffset + tcp.payloadLength)).toString('latin1');
        expect(payload.startsWith(expected.payloadStart)).toBe(true);
      }
    });
  }

  it('one Ipv4View/TcpView/TcpOptions trio re-pointed with reset() reads each frame afresh', () => {
    const ip = new Ipv4View(new Uint8Array(0), 0, 0);
    const tcp = new TcpView(new Uint8Array(0), 0, 0);
    for (const expected of TCP_PACKETS) {
      const frame = frameOf(expected.name);
      expect(ip.reset(frame, 0, frame.length).ident).toBe(expected.ip.ident);
      expect(TcpView.check(frame, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, options)).toBe(WireError.Ok);
      expect(tcp.reset(frame, ip.payloadOffset, ip.payloadLength).seq).toBe(expected.tcp.seq);
      // parse() clears the previous frame's options: a bare ACK after a SYN has none left over.
      expect(options.hasMss).toBe(expected.opts.mss !== undefined);
      expect(options.hasTimestamps).toBe(expected.opts.ts !== undefined);
    }
  });

  it('a frame at a non-zero offset inside a larger buffer is read in place', () => {
    const frame = frameOf('SYNACK_TS');
    const buf = new Uint8Array(frame.length + 37).fill(0xee);
    buf.set(frame, 13);
    expect(Ipv4View.check(buf, 13, frame.length)).toBe(WireError.Ok);
    const ip = new Ipv4View(buf, 13, frame.length);
    expect(ip.payloadOffset).toBe(33);
    expect(TcpView.check(buf, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, options)).toBe(WireError.Ok);
    expect(new TcpView(buf, ip.payloadOffset, ip.payloadLength).seq).toBe(4254464709);
    expect(options.tsEcr).toBe(1979314673);
  });

  it('link padding (frame longer than total length) is accepted; payload length excludes it', () => {
    // Ethernet pads a 40-byte IP packet to a 46-byte payload (60-byte minimum frame).
    for (const name of ['RST_ACK', 'ACK_NOTS', 'SERVER_DATA_TS'] as const) {
      const frame = frameOf(name);
      const padded = new Uint8Array(frame.length + 6).fill(0xa5);
      padded.set(frame);
      expect(checkTcpFrame(padded)).toEqual({ ip: WireError.Ok, tcp: WireError.Ok });
      const ip = new Ipv4View(padded, 0, padded.length);
      expect(ip.len).toBe(frame.length + 6);
      expect(ip.payloadLength).toBe(frame.length - 20);
      const tcp = new TcpView(padded, ip.payloadOffset, ip.payloadLength);
      expect(tcp.payloadLength).toBe(name === 'SERVER_DATA_TS' ? 6 : 0);
    }
  });
});

describe('real ICMP echo through the checked views', () => {
  it('ICMP_ECHO_REQUEST: every field', () => {
    const frame = frameOf('ICMP_ECHO_REQUEST');
    expect(Ipv4View.check(frame, 0, frame.length)).toBe(WireError.Ok);
    const ip = new Ipv4View(frame);
    expect([ip.totalLength, ip.ident, ip.dontFragment, ip.ttl, ip.protocol, ip.checksum]).toEqual([60, 62780, true, 64, IpProtocol.ICMP, 0x2ff0]);
    expect([ip.srcAddr, ip.dstAddr]).toEqual([CLIENT, SERVER]);
    expect(IcmpView.check(frame, ip.payloadOffset, ip.payloadLength)).toBe(WireError.Ok);
    const icmp = new IcmpView(frame, ip.payloadOffset, ip.payloadLength);
    expect([icmp.type, icmp.code, icmp.identifier, icmp.sequence]).toEqual([IcmpType.ECHO_REQUEST, 0, 0x5344, 1]);
    expect(icmp.len).toBe(40);
    expect(Buffer.from(frame.subarray(28)).toString('latin1')).toBe('syndrop-wire-echo-0123456789abcd');
  });

  it('ICMP_ECHO_REPLY: every field (Linux clears DF and picks a random IP id)', () => {
    const frame = frameOf('ICMP_ECHO_REPLY');
    expect(Ipv4View.check(frame, 0, frame.length)).toBe(WireError.Ok);
    const ip = new Ipv4View(frame);
    expect([ip.totalLength, ip.ident, ip.dontFragment, ip.ttl, ip.protocol, ip.checksum]).toEqual([60, 58155, false, 64, IpProtocol.ICMP, 0x8201]);
    expect([ip.srcAddr, ip.dstAddr]).toEqual([SERVER, CLIENT]);
    expect(IcmpView.check(frame, ip.payloadOffset, ip.payloadLength)).toBe(WireError.Ok);
    const icmp = new IcmpView(frame, ip.payloadOffset, ip.payloadLength);
    expect([icmp.type, icmp.code, icmp.identifier, icmp.sequence]).toEqual([IcmpType.ECHO_REPLY, 0, 0x5344, 1]);
  });

  it('ICMP shorter than 8 bytes or with a flipped bit is bad-icmp', () => {
    const frame = frameOf('ICMP_ECHO_REQUEST');
    for (let len = 0; len < 8; len++) expect(IcmpView.check(frame, 20, len)).toBe(WireError.BadIcmp);
    for (let bit = 0; bit < 40 * 8; bit += 13) {
      const flipped = frame.slice();
      flipped[20 + (bit >> 3)]! ^= 1 << (bit & 7);
      expect(IcmpView.check(flipped, 20, 40)).toBe(WireError.BadIcmp);
    }
  });
});

describe('IPv4 rejections', () => {
  it('truncated: a real SYN cut at every length below its headers', () => {
    const frame = frameOf('SYN_TS');
    for (let len = 0; len < frame.length; len++) {
      const cut = frame.slice(0, len);
      // Below 20 bytes no header; from 20 on, the total length (60) exceeds the frame.
      expect(Ipv4View.check(cut, 0, len), `len ${len}`).toBe(WireError.Truncated);
    }
    // Same bytes, same buffer, only `len` shorter: the check trusts len, not buf.length.
    for (let len = 0; len < frame.length; len++) expect(Ipv4View.check(frame, 0, len)).toBe(WireError.Truncated);
  });

  it('bad version: 6 and 0 in the version nibble', () => {
    for (const versionIhl of [0x65, 0x05, 0xf5]) {
      const frame = frameOf('SYN_TS');
      frame[0] = versionIhl;
      expect(tcpVerdict(fixIpChecksum(frame))).toBe('bad-version');
    }
  });

  it('bad IHL: IHL 0..4 (header below 20 bytes)', () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const frame = frameOf('SYN_TS');
      frame[0] = 0x40 | ihl;
      expect(Ipv4View.check(frame, 0, frame.length)).toBe(WireError.BadIhl);
    }
  });

  it('IHL beyond the frame: a 20-byte frame claiming IHL 6..15 is truncated', () => {
    const frame = frameOf('RST_ACK').slice(0, 20);
    for (let ihl = 6; ihl <= 15; ihl++) {
      frame[0] = 0x40 | ihl;
      expect(Ipv4View.check(frame, 0, 20), `ihl ${ihl}`).toBe(WireError.Truncated);
    }
  });

  it('IHL within the frame but beyond the total length is bad-total-length', () => {
    const frame = frameOf('RST_ACK'); // 40 bytes, total length 40
    frame[0] = 0x4f; // 60-byte header
    const long = new Uint8Array(60);
    long.set(frame);
    expect(Ipv4View.check(fixIpChecksum(long), 0, 60)).toBe(WireError.BadTotalLength);
  });

  it('IP options (IHL 6) with a good checksum: accepted, TCP found after them', () => {
    const frame = frameOf('RST_ACK');
    const withOptions = new Uint8Array(44);
    withOptions.set(frame.subarray(0, 20));
    withOptions.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
    withOptions.set(frame.subarray(20), 24);
    withOptions[0] = 0x46;
    put16(withOptions, 2, 44);
    fixIpChecksum(withOptions);
    expect(checkTcpFrame(withOptions)).toEqual({ ip: WireError.Ok, tcp: WireError.Ok });
    const ip = new Ipv4View(withOptions);
    expect([ip.headerLength, ip.payloadOffset, ip.payloadLength]).toEqual([24, 24, 20]);
    expect(new TcpView(withOptions, 24, 20).ack).toBe(1437331259);
  });

  it('total length below the header length is bad-total-length', () => {
    for (const total of [0, 1, 19]) {
      const frame = frameOf('SYN_TS');
      put16(frame, 2, total);
      expect(Ipv4View.check(fixIpChecksum(frame), 0, frame.length), `total ${total}`).toBe(WireError.BadTotalLength);
    }
  });

  it('total length above the frame is truncated', () => {
    for (const total of [61, 100, 65535]) {
      const frame = frameOf('SYN_TS');
      put16(frame, 2, total);
      expect(Ipv4View.check(fixIpChecksum(frame), 0, frame.length)).toBe(WireError.Truncated);
    }
  });

  it('total length shorter than the frame: the rest is padding, TCP sees the shorter segment', () => {
    // The GET cut to its 32-byte TCP header by the IP total length: TCP checksum now fails,
    // proving TCP is handed the total-length segment and not the frame.
    const frame = frameOf('GET_TS');
    put16(frame, 2, 52);
    fixIpChecksum(frame);
    expect(checkTcpFrame(frame)).toEqual({ ip: WireError.Ok, tcp: WireError.BadTcpChecksum });
    fixTcpChecksum(frame);
    expect(checkTcpFrame(frame)).toEqual({ ip: WireError.Ok, tcp: WireError.Ok });
    expect(new Ipv4View(frame).payloadLength).toBe(32);
  });

  it('bad IP checksum: every single-bit flip in the header of a real SYN-ACK', () => {
    const original = frameOf('SYNACK_TS');
    for (let bit = 0; bit < 20 * 8; bit++) {
      const frame = original.slice();
      frame[bit >> 3]! ^= 0x80 >> (bit & 7);
      const verdict = Ipv4View.check(frame, 0, frame.length);
      // Flips in version/IHL/total length trip earlier checks; all others are checksum errors.
      const byte = bit >> 3;
      if (byte === 0 || byte === 2 || byte === 3) expect(verdict).not.toBe(WireError.Ok);
      else expect(verdict, `bit ${bit}`).toBe(WireError.BadIpChecksum);
    }
  });

  it('fragments: MF set, or any fragment offset, are rejected (checksum valid)', () => {
    for (const flagsFragment of [0x2000, 0x6000, 0x0001, 0x4001, 0x1fff, 0x00b9, 0x3fff]) {
      const frame = frameOf('SYN_TS');
      put16(frame, 6, flagsFragment);
      expect(Ipv4View.check(fixIpChecksum(frame), 0, frame.length), flagsFragment.toString(16)).toBe(WireError.Fragment);
    }
    // DF alone (Linux's default) and the reserved bit alone are not fragments.
    for (const flagsFragment of [0x4000, 0x0000, 0x8000]) {
      const frame = frameOf('SYN_TS');
      put16(frame, 6, flagsFragment);
      expect(Ipv4View.check(fixIpChecksum(frame), 0, frame.length)).toBe(WireError.Ok);
    }
  });
});

describe('TCP rejections', () => {
  it('segment below 20 bytes is truncated', () => {
    const frame = frameOf('ACK_NOTS');
    for (let len = 0; len < 20; len++) {
      expect(TcpView.check(frame, 20, len, CLIENT, SERVER, options)).toBe(WireError.Truncated);
    }
  });

  it('data offset below 5 is bad-data-offset', () => {
    for (let offset = 0; offset < 5; offset++) {
      const frame = frameOf('ACK_NOTS');
      frame[32] = (offset << 4) | (frame[32]! & 0x0f);
      expect(tcpVerdict(fixTcpChecksum(frame)), `doff ${offset}`).toBe('bad-data-offset');
    }
  });

  it('data offset beyond the segment is bad-data-offset', () => {
    const frame = frameOf('ACK_TS'); // 32-byte segment
    for (let offset = 9; offset <= 15; offset++) {
      frame[32] = offset << 4;
      expect(tcpVerdict(fixTcpChecksum(frame)), `doff ${offset}`).toBe('bad-data-offset');
    }
  });

  it('bad TCP checksum: every single-bit flip in the segment (IP header intact)', () => {
    for (const name of ['SYN_TS', 'GET_TS', 'RST_ACK'] as const) {
      const original = frameOf(name);
      for (let bit = 20 * 8; bit < original.length * 8; bit++) {
        const frame = original.slice();
        frame[bit >> 3]! ^= 1 << (bit & 7);
        const verdict = tcpVerdict(frame);
        if ((bit >> 3) === 32) expect(verdict).not.toBe('ok'); // data offset nibble may fail first
        else expect(verdict, `${name} bit ${bit}`).toBe('bad-tcp-checksum');
      }
    }
  });

  it('a flip in the addresses breaks the TCP checksum through the pseudo header', () => {
    const frame = frameOf('SYN_TS');
    frame[19]! ^= 0x04; // 10.201.0.1 -> 10.201.0.5
    expect(tcpVerdict(fixIpChecksum(frame))).toBe('bad-tcp-checksum');
  });
});

// Options are tested on a real SYN whose 20 option bytes are replaced: the header stays 40 bytes.
function synWithOptions(optionBytes: number[]): Uint8Array {
  expect(optionBytes.length).toBeLessThanOrEqual(40);
  const padded = optionBytes.length % 4 === 0 ? optionBytes : [...optionBytes, ...new Array(4 - (optionBytes.length % 4)).fill(0)];
  const base = frameOf('SYN_TS');
  const frame = new Uint8Array(40 + padded.length);
  frame.set(base.subarray(0, 40));
  frame.set(padded, 40);
  frame[32] = ((20 + padded.length) / 4) << 4;
  put16(frame, 2, frame.length);
  return fixBoth(frame);
}
function parseOptions(optionBytes: number[]): { verdict: string; opts: TcpOptions } {
  const frame = synWithOptions(optionBytes);
  const opts = new TcpOptions();
  const { ip } = checkTcpFrame(frame);
  expect(ip).toBe(WireError.Ok);
  const verdict = WIRE_ERROR_NAMES[TcpView.check(frame, 20, frame.length - 20, CLIENT, SERVER, opts)]!;
  return { verdict, opts };
}

describe('TCP options walk (tcp_parse_options)', () => {
  it('the real SYN option bytes, rebuilt through the helper, parse the same', () => {
    const { verdict, opts } = parseOptions([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x75, 0xf9, 0xf1, 0xf1, 0, 0, 0, 0, 1, 3, 3, 10]);
    expect(verdict).toBe('ok');
    expect([opts.mss, opts.sackPermitted, opts.tsVal, opts.tsEcr, opts.windowScale]).toEqual([1460, true, 1979314673, 0, 10]);
  });

  // tcp_parse_options: at a partial or "silly" option Linux stops parsing and keeps the
  // segment with the options read so far (issue 15 item 13).
  it('an option length running past the header stops the walk; the segment is kept with what was read', () => {
    const mss = parseOptions([2, 5, 0x05, 0xb4]); // MSS claims 5 of 4 bytes left
    expect([mss.verdict, mss.opts.malformed, mss.opts.hasMss]).toEqual(['ok', true, false]);
    const exact = parseOptions([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]); // TS exactly fills the header
    expect([exact.verdict, exact.opts.malformed, exact.opts.hasTimestamps]).toEqual(['ok', false, true]);
    const ts = parseOptions([2, 4, 0x05, 0xb4, 8, 10, 0, 0, 0, 1, 0, 0]); // MSS read, then TS needs 10 of 8
    expect([ts.verdict, ts.opts.malformed, ts.opts.hasMss, ts.opts.mss, ts.opts.hasTimestamps]).toEqual(['ok', true, true, 1460, false]);
    expect(parseOptions([1, 1, 1, 1, 0xfe, 0xff, 0, 0]).opts.malformed).toBe(true);
  });

  it('an option length below 2 stops the walk; options before it survive, options after it are not read', () => {
    for (const length of [0, 1]) {
      for (const kind of [2, 3, 4, 8, 0x1e, 0xfd]) {
        const { verdict, opts } = parseOptions([3, 3, 7, kind, length, 2, 4, 0x05, 0xb4, 1, 1, 1]);
        expect([verdict, opts.malformed, opts.hasWindowScale, opts.windowScale, opts.hasMss], `kind ${kind} len ${length}`).toEqual(['ok', true, true, 7, false]);
      }
    }
  });

  it('an option kind in the last byte (no room for its length) stops the walk', () => {
    expect(parseOptions([1, 1, 1, 2]).opts.malformed).toBe(true);
    const late = parseOptions([2, 4, 0x05, 0xb4, 1, 1, 1, 3]);
    expect([late.verdict, late.opts.malformed, late.opts.mss]).toEqual(['ok', true, 1460]);
  });

  it('unknown kinds are skipped by their length and counted; later options still parse', () => {
    const { verdict, opts } = parseOptions([0x1e, 6, 0xaa, 0xbb, 0xcc, 0xdd, 2, 4, 0x02, 0x18, 0xfd, 2, 1, 3, 3, 7]);
    expect(verdict).toBe('ok');
    expect(opts.unknownCount).toBe(2);
    expect([opts.hasMss, opts.mss, opts.hasWindowScale, opts.windowScale]).toEqual([true, 536, true, 7]);
  });

  it('EOL stops the walk: bytes after it are not options, even malformed ones', () => {
    const { verdict, opts } = parseOptions([2, 4, 0x05, 0xb4, 0, 3, 0, 0xff, 1, 3, 3, 9]);
    expect(verdict).toBe('ok');
    expect(opts.mss).toBe(1460);
    expect(opts.hasWindowScale).toBe(false);
  });

  it('NOP padding is skipped one byte at a time', () => {
    const { verdict, opts } = parseOptions([1, 1, 1, 1, 1, 1, 1, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 2]);
    expect(verdict).toBe('ok');
    expect([opts.sackPermitted, opts.windowScale, opts.hasMss, opts.hasTimestamps]).toEqual([true, 2, false, false]);
  });

  it('window scale above 14 is clamped to 14 (RFC 7323 §2.3); 14 itself is kept', () => {
    for (const [shift, expected] of [[14, 14], [15, 14], [200, MAX_WINDOW_SCALE], [255, 14], [0, 0]] as const) {
      const { verdict, opts } = parseOptions([1, 3, 3, shift]);
      expect(verdict).toBe('ok');
      expect([opts.hasWindowScale, opts.windowScale]).toEqual([true, expected]);
    }
  });

  it('options with a wrong length for their kind are skipped, not taken', () => {
    let r = parseOptions([2, 6, 0x05, 0xb4, 0, 0, 1, 1]); // MSS length 6
    expect(r.verdict).toBe('ok');
    expect([r.opts.hasMss, r.opts.mss]).toEqual([false, 0]);
    r = parseOptions([2, 3, 0x05, 1]); // MSS length 3
    expect([r.verdict, r.opts.hasMss]).toEqual(['ok', false]);
    r = parseOptions([3, 4, 7, 0]); // window scale length 4
    expect([r.verdict, r.opts.hasWindowScale]).toEqual(['ok', false]);
    r = parseOptions([4, 3, 0, 1]); // SACK-permitted length 3
    expect([r.verdict, r.opts.sackPermitted]).toEqual(['ok', false]);
    r = parseOptions([8, 8, 0, 0, 0, 1, 0, 0]); // timestamps length 8
    expect([r.verdict, r.opts.hasTimestamps]).toEqual(['ok', false]);
    // A wrong-length MSS followed by a good one: the good one wins.
    r = parseOptions([2, 2, 2, 4, 0x05, 0x78, 1, 1]);
    expect([r.verdict, r.opts.mss]).toEqual(['ok', 1400]);
  });

  it('SACK blocks (kind 5) are walked over without counting as unknown', () => {
    const { verdict, opts } = parseOptions([1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    expect(verdict).toBe('ok');
    expect(opts.unknownCount).toBe(0);
  });

  it('a failed parse followed by a good one leaves no stale fields', () => {
    const opts = new TcpOptions();
    const good = frameOf('SYN_TS');
    expect(TcpView.check(good, 20, 40, CLIENT, SERVER, opts)).toBe(WireError.Ok);
    const bare = frameOf('HPING_SYN');
    expect(TcpView.check(bare, 20, 20, CLIENT, SERVER, opts)).toBe(WireError.Ok);
    expect([opts.hasMss, opts.sackPermitted, opts.hasTimestamps, opts.hasWindowScale, opts.tsVal]).toEqual([false, false, false, false, 0]);
  });
});

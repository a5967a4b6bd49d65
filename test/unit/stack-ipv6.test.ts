// The listen path over IPv6 (issue 20): tcp_v6_conn_request's SYN-ACK (MSS 1440, windows
// from it, spec §1.10), cookies with the IPv6 MSS table per version (spec §3.4;
// net/ipv6/syncookies.c), the same queue verdicts as IPv4, ICMPv6 echo, malformed frames
// and their counters, and --family.

import { describe, expect, it } from 'vitest';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { parseSegment } from '../../src/wire/parse.js';
import { parseIpv6 } from '../../src/wire/addr.js';
import { finishChecksum, pseudoHeaderSum6, sumWords } from '../../src/wire/checksum.js';
import type { ListenFamilies } from '../../src/stack/state.js';
import { EchoApp } from '../../src/app/handlers.js';
import { StackHarness, TcpFlag, type SegmentOptions } from '../helpers/stack-harness.js';
import { fillSynQueue, specFacts } from '../helpers/vectors.js';
import * as cap from '../fixtures/captures6.js';
import { withExtensions } from '../helpers/ipv6-frames.js';

const SERVER6 = parseIpv6('fd78::1')!;
const CLIENT6 = parseIpv6('fd78::2')!;

function harness(kernel: string, sysctls: string[] = [], listenFamilies: ListenFamilies = 'both'): StackHarness {
  return new StackHarness(kernel, sysctls, { address6: SERVER6, listenFamilies });
}

/** Like StackHarness.frame, over IPv6 from `src` (default fd78::2). */
function frame6(h: StackHarness, o: SegmentOptions & { src6?: Uint32Array } = {}): Uint8Array {
  const v4 = h.frame(o);
  const spec = new SegmentSpec();
  // Re-emit the IPv4 frame's TCP part over IPv6: same fields, new addresses.
  parseSegment(v4, 0, v4.length, spec);
  spec.ipv6 = true;
  spec.srcAddr6.set(o.src6 ?? CLIENT6);
  spec.dstAddr6.set(SERVER6);
  const out = new Uint8Array(2048);
  return out.slice(0, writeTcpSegment(out, 0, spec));
}

function synAckOf(h: StackHarness, bytes: Uint8Array) {
  const r = h.send(bytes);
  expect(r.replies).toHaveLength(1);
  return { verdict: r.verdict, reply: r.replies[0]! };
}

describe('tcp_v6_conn_request: the SYN-ACK (spec §1.10, measured on 6.18)', () => {
  it('6.x answers Linux\'s captured SYN like Linux: IPv6, MSS 1440, window 64260 (45 × 1428) with TS, wscale 10', () => {
    const h = harness('6.x');
    h.app.listen(8080, 128);
    const { verdict, reply } = synAckOf(h, cap.hex(cap.SYN6_TS));
    expect(verdict).toBe('SYN_QUEUED');
    const linux = cap.hex(cap.SYNACK6_TS);
    const ours = reply.bytes;
    // Same header bytes but the flow label (a keyed hash on both sides), ISN and TSval.
    expect(ours[0]! >> 4).toBe(6);
    expect(Buffer.from(ours.subarray(4, 40)).toString('hex')).toBe(Buffer.from(linux.subarray(4, 40)).toString('hex'));
    expect([reply.srcPort, reply.dstPort, reply.ack, reply.flags, reply.window]).toEqual([8080, 52692, 4059291217, 0x12, 64260]);
    expect([reply.mss, reply.sackPermitted, reply.windowScale, reply.tsEcr]).toEqual([1440, true, 10, 362687554]);
    // The options block is Linux's byte for byte but for the TSval.
    expect(Buffer.from(ours.subarray(60, 66)).toString('hex')).toBe(Buffer.from(linux.subarray(60, 66)).toString('hex'));
    expect(Buffer.from(ours.subarray(74, 80)).toString('hex')).toBe(Buffer.from(linux.subarray(74, 80)).toString('hex'));
    expect(ours.length).toBe(80);
    expect(h.deltas()).toMatchObject({ Ip6InReceives: 1, Ip6InDelivers: 1, Ip6OutRequests: 1, TcpInSegs: 1, TcpOutSegs: 1 });
  });

  it('6.x without timestamps: window 64800 (45 × 1440) and Linux\'s option bytes', () => {
    const h = harness('6.x');
    h.app.listen(8080, 128);
    const { reply } = synAckOf(h, cap.hex(cap.SYN6_NO_TS));
    const linux = cap.hex(cap.SYNACK6_NO_TS);
    expect(reply.window).toBe(64800);
    expect(Buffer.from(reply.bytes.subarray(60)).toString('hex')).toBe(Buffer.from(linux.subarray(60)).toString('hex'));
  });

  it('a SYN to a closed port gets Linux\'s RST byte for byte (flow label aside)', () => {
    const h = harness('6.x');
    const r = h.send(cap.hex(cap.SYN6_CLOSED_PORT));
    expect(r.verdict).toBe('RST_NO_LISTENER');
    const linux = cap.hex(cap.RST6_CLOSED_PORT);
    expect(Buffer.from(r.replies[0]!.bytes.subarray(4)).toString('hex')).toBe(Buffer.from(linux.subarray(4)).toString('hex'));
  });

  it('3.10 sends flow label 0 (no auto_flowlabels); 6.x one label per flow, the same on every segment', () => {
    const old = harness('3.10');
    old.app.listen(80, 128);
    const reply = old.send(frame6(old)).replies[0]!;
    expect(reply.bytes.subarray(0, 4)).toEqual(Uint8Array.of(0x60, 0, 0, 0));
    const h = harness('6.x');
    h.app.listen(80, 128);
    const first = h.send(frame6(h)).replies[0]!;
    const again = h.send(frame6(h)).replies[0]!; // retransmitted SYN → SYN-ACK again
    const label = (b: Uint8Array) => ((b[1]! & 0x0f) << 16) | (b[2]! << 8) | b[3]!;
    expect(label(first.bytes)).not.toBe(0);
    expect(label(again.bytes)).toBe(label(first.bytes));
  });
});

describe('a connection over IPv6', () => {
  it('handshake, request, response, close: the TCP counters are the shared ones', () => {
    const h = harness('6.x');
    h.app.listen(80, 128, { handler: new EchoApp() });
    const synAck = h.send(frame6(h, { srcPort: 40000 })).replies[0]!;
    const ack = h.send(frame6(h, { srcPort: 40000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! }));
    expect(ack.verdict).toBe('REQ_ESTABLISHED');
    const data = h.send(frame6(h, { srcPort: 40000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, tsEcr: synAck.tsVal!, payload: Buffer.from('hello') }));
    const echoed = data.replies.find((r) => r.payload.length > 0)!;
    expect(Buffer.from(echoed.payload).toString()).toBe('hello');
    expect(echoed.bytes[0]! >> 4).toBe(6);
    expect(h.deltas()).toMatchObject({ TcpPassiveOpens: 1, TcpCurrEstab: 1, Ip6InReceives: 3 });
  });
});

describe('cookies over IPv6: the IPv6 MSS table per version (net/ipv6/syncookies.c)', () => {
  // The tables differ from IPv4's: MSS 1100 under IPv6 3.10 {64,512,536,1220,1420,1440,4400,8940}
  // → 536 (IPv4's 3.10 table: 1024); 1400 → 1220 in both IPv6 tables (IPv4 ≥3.13: 1300).
  for (const [kernel, mss, expected] of [['3.10', 1100, 536], ['3.10', 1400, 1220], ['6.x', 1400, 1220], ['6.x', 1460, 1440]] as const) {
    it(`${kernel}: a cookie ACK from a client with MSS ${mss} makes a connection with MSS ${expected}`, () => {
      // The SYN queue is shared by both families: IPv4 SYNs fill it, the IPv6 SYN gets a cookie.
      const h = harness(kernel, ['net.ipv4.tcp_max_syn_backlog=256', 'net.ipv4.tcp_syncookies=1']);
      h.app.listen(80, 5, { ratePerSecond: 0 });
      fillSynQueue(h, specFacts(kernel).synQueueAt5);
      const r = h.send(frame6(h, { srcPort: 41000, mss, tsVal: null }));
      expect(r.verdict).toMatch(/^SYN_COOKIE/);
      const synAck = r.replies[0]!;
      expect(synAck.mss).toBe(1440);
      const ack = h.send(frame6(h, { srcPort: 41000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null }));
      expect(ack.verdict).toBe('COOKIE_ACCEPTED');
      const conn = [...h.host.connections.values()][0]!;
      expect(conn.mss).toBe(Math.min(expected, 1440));
      expect(h.deltas()).toMatchObject({ TcpExtSyncookiesSent: 1, TcpExtSyncookiesRecv: 1 });
    });
  }

  it('a cookie computed for one IPv6 source does not validate from another', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=2']);
    h.app.listen(80, 128);
    const synAck = h.send(frame6(h, { srcPort: 41000, tsVal: null })).replies[0]!;
    const other = parseIpv6('fd78::3')!;
    const r = h.send(frame6(h, { src6: other, srcPort: 41000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null }));
    expect(r.verdict).toBe('COOKIE_BAD');
  });
});

describe('queue verdicts are the same in both families', () => {
  for (const kernel of ['3.10', '6.x']) {
    it(`${kernel}: accept queue full → the same verdicts and counters over IPv4 and IPv6`, () => {
      const run = (ipv6: boolean) => {
        const h = harness(kernel);
        h.app.listen(80, 1, { ratePerSecond: 0 });
        const verdicts: string[] = [];
        for (let i = 0; i < 6; i++) {
          const o = { srcPort: 42000 + i, tsVal: null };
          const syn = h.send(ipv6 ? frame6(h, o) : h.frame(o));
          verdicts.push(syn.verdict);
          const synAck = syn.replies.find((x) => x.flags === 0x12);
          if (synAck) {
            const a = { srcPort: 42000 + i, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null };
            verdicts.push(h.send(ipv6 ? frame6(h, a) : h.frame(a)).verdict);
          }
        }
        return { verdicts, counters: h.listenDeltas() };
      };
      const v4 = run(false);
      const v6 = run(true);
      expect(v6).toEqual(v4);
      expect(v4.counters.ListenOverflows).toBeGreaterThan(0);
    });
  }
});

describe('ICMPv6, malformed frames and their counters', () => {
  it('answers an echo request with a valid echo reply', () => {
    const h = harness('6.x');
    const req = new Uint8Array(40 + 12);
    req.set([0x60, 0, 0, 0, 0, 12, 58, 64]);
    const view = new DataView(req.buffer);
    for (let i = 0; i < 4; i++) {
      view.setUint32(8 + 4 * i, CLIENT6[i]!);
      view.setUint32(24 + 4 * i, SERVER6[i]!);
    }
    req.set([128, 0, 0, 0, 0x12, 0x34, 0, 1, 0xde, 0xad, 0xbe, 0xef], 40);
    view.setUint16(42, finishChecksum(sumWords(req, 40, 12, pseudoHeaderSum6(req, 8, 24, 58, 12))));
    const r = h.send(req);
    expect(r.verdict).toBe('ICMP6_ECHO_REPLY');
    const reply = r.replies[0]!.bytes;
    expect(reply[40]).toBe(129);
    expect(Buffer.from(reply.subarray(44)).toString('hex')).toBe('12340001deadbeef');
    expect(finishChecksum(sumWords(reply, 40, 12, pseudoHeaderSum6(reply, 8, 24, 58, 12)))).toBe(0);
    expect(h.deltas()).toMatchObject({ Icmp6InMsgs: 1, Icmp6InEchos: 1, Icmp6OutMsgs: 1, Icmp6OutEchoReplies: 1, Ip6OutRequests: 1 });
  });

  it('counts each malformed frame under one reason (bad payload length, fragment, unknown next header, truncated extension)', () => {
    const h = harness('6.x');
    h.app.listen(8080, 128);
    const syn = () => cap.hex(cap.SYN6_TS);
    const long = syn();
    long[5] = 60;
    expect(h.send(long).verdict).toBe('MALFORMED');
    expect(h.deltas()).toEqual({ SyndropRxFrames: 1, Ip6InReceives: 1, Ip6InTruncatedPkts: 1, SyndropRxBadPayloadLength: 1 });
    expect(h.send(withExtensions(syn(), [44])).verdict).toBe('MALFORMED');
    expect(h.deltas()).toEqual({ SyndropRxFrames: 1, Ip6InReceives: 1, Ip6ReasmFails: 1, SyndropRxFragment: 1 });
    const unknown = withExtensions(syn(), [60]);
    unknown[40] = 253;
    expect(h.send(unknown).verdict).toBe('UNKNOWN_PROTO6');
    expect(h.deltas()).toEqual({ SyndropRxFrames: 1, Ip6InReceives: 1, Ip6InUnknownProtos: 1, SyndropRxUnknownProto: 1 });
    const truncated = withExtensions(syn(), [0]);
    truncated[41] = 100;
    expect(h.send(truncated).verdict).toBe('MALFORMED');
    expect(h.deltas()).toEqual({ SyndropRxFrames: 1, Ip6InReceives: 1, Ip6InHdrErrors: 1, SyndropRxTruncated: 1 });
    // Known extension headers are skipped: the SYN behind them is answered.
    expect(h.send(withExtensions(syn(), [0, 43, 60])).verdict).toBe('SYN_QUEUED');
  });

  it('an IPv4 source in 0.0.0.0/8 is martian: dropped before TCP, no reply', () => {
    const h = harness('6.x');
    h.app.listen(80, 128);
    const r = h.segment({ src: 0x00000005 });
    expect([r.verdict, r.replies.length]).toEqual(['DROP_MARTIAN_SOURCE', 0]);
    expect(h.deltas()).toEqual({ SyndropRxFrames: 1, IpInReceives: 1, SyndropRxMartianSource: 1 });
  });
});

describe('--family and the peer table', () => {
  it('--family 4: an IPv6 SYN finds no listener (RST); --family 6: an IPv4 SYN does not', () => {
    const four = harness('6.x', [], '4');
    four.app.listen(80, 128);
    expect(four.send(frame6(four)).verdict).toBe('RST_NO_LISTENER');
    expect(four.segment().verdict).toBe('SYN_QUEUED');
    const six = harness('6.x', [], '6');
    six.app.listen(80, 128);
    expect(six.segment().verdict).toBe('RST_NO_LISTENER');
    expect(six.send(frame6(six)).verdict).toBe('SYN_QUEUED');
  });

  it('a cookie flood from 20,000 IPv6 sources leaves the peer table bounded', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=2']);
    h.app.listen(80, 128);
    const src = new Uint32Array([0xfd780000, 0, 0, 0]);
    for (let i = 0; i < 20000; i++) {
      src[3] = 0x10000 + i;
      h.send(frame6(h, { src6: src, srcPort: 1024 + (i % 60000) }));
    }
    expect(h.host.state.peers6.size).toBeLessThan(1024);
    expect(h.deltas()).toMatchObject({ TcpExtSyncookiesSent: 20000 });
  });

  it('a peer that only tcp_metrics still remembers keeps its address through the sweeps of a flood', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=2']);
    h.app.listen(80, 128);
    // fd78::2 connects (a cookie connection creates its tcp_metrics entry), then resets: only
    // the metrics entry refers to its key now.
    const synAck = h.send(frame6(h, { srcPort: 40000 })).replies[0]!;
    expect(h.send(frame6(h, { srcPort: 40000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! })).verdict).toBe('COOKIE_ACCEPTED');
    h.send(frame6(h, { srcPort: 40000, seq: 1001, flags: TcpFlag.RST }));
    expect(h.host.state.connections.size).toBe(0);
    const src = new Uint32Array([0xfd790000, 0, 0, 0]);
    for (let i = 0; i < 20000; i++) {
      src[3] = 0x10000 + i;
      h.send(frame6(h, { src6: src, srcPort: 1024 + (i % 60000) }));
    }
    const addresses = h.host.state.metrics.list().map((entry) => h.host.peerText(entry.addr));
    expect(addresses).toEqual(['fd78::2']);
  });
});

describe('the flood warning for an IPv6 SYN (tcp_syn_flood_action with the IPv6 request ops; found by verify --family 6)', () => {
  function flood6(kernel: string): string[] {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=0']);
    h.app.listen(80, 2, { ratePerSecond: 0 });
    // More SYNs than any version's SYN queue holds for listen(2) (3.10: 16, spec §5.2).
    for (let i = 0; i < 40; i++) h.send(frame6(h, { srcPort: 20000 + i, seq: 5000 + i }));
    return h.host.kernelLog;
  }

  it('6.x: request_sock_TCPv6 and the listener as [::] (the 6.18 host wrote exactly this for its [fd77:3::1] listener, address aside)', () => {
    expect(flood6('6.x')).toEqual(['TCP: request_sock_TCPv6: Possible SYN flooding on port [::]:80. Dropping request.']);
  });

  it('4.4 – 6.1: request_sock_TCPv6 and the port alone', () => {
    expect(flood6('6.1')).toEqual(['TCP: request_sock_TCPv6: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.']);
  });

  it('3.10: tcp_v6_conn_request passes "TCPv6"', () => {
    expect(flood6('3.10')).toEqual(['TCP: TCPv6: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.']);
  });
});

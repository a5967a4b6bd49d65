// Spec §9b scenario vectors (#101–#143): sequences of real traffic on the virtual clock,
// several of them measured on the host's 6.18 (spec §8).

import { describe, expect, it } from 'vitest';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { SyndropError } from '../../src/errors.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  CLIENT_D,
  HOST_H,
  expectResetForAck,
  expectSynAck,
  fillAcceptQueue,
  fillSynQueue,
  hasSynRetrans,
  httpListener,
  isSynAck,

  only,
  queues,
  requestAcked,
  requestSlot,
  serverClosedConnection,
  switchesOf,
  thirdAck,
} from '../helpers/vectors.js';

function neverAccepting(h: StackHarness, backlog: number) {
  return h.app.listen(80, backlog, { ratePerSecond: 0 });
}

describe.each(ALL)('%s: any profile', (kernel) => {
  it(`${kernel}: SYN to a broadcast destination: no reply, ListenDrops+1 (spec §9b #101)`, () => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 5000, dst: h.host.broadcast });
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
  });

  it(`${kernel}: SYN to a port nobody listens on: RST/ACK with ack = seq + 1, OutRsts+1 (spec §9b #102)`, () => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, dstPort: 81, seq: 4242 });
    expect(verdict).toBe('RST_NO_LISTENER');
    const rst = only(replies);
    expect(rst.flags).toBe(TcpFlag.RST | TcpFlag.ACK);
    expect(rst.seq).toBe(0);
    expect(rst.ack).toBe(4243);
    expect(rst.srcPort).toBe(81);
    expect(h.listenDeltas()).toEqual({ TcpOutRsts: 1 });
  });

  it(`${kernel}: an ACK with a wrong ack number for a pending request: RST with seq = that ack, OutRsts+1 (spec §9b #134)`, () => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    h.listenDeltas();
    const wrong = (synAck.seq - 77) >>> 0;
    expectResetForAck(only(thirdAck(h, synAck, 5000, CLIENT_C, { ack: wrong }).replies), wrong, 5000);
    expect(h.listenDeltas()).toEqual({ TcpOutRsts: 1 });
    expect(queues(h).qlen).toBe(1);
  });

  it(`${kernel}: a retransmitted SYN gets the same SYN-ACK (same ISN), no new request (spec §9b #135)`, () => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    const first = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    h.listenDeltas();
    h.advanceTo(300);
    const again = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    expect(again.seq).toBe(first.seq);
    expect(again.ack).toBe(first.ack);
    expect(queues(h).qlen).toBe(1);
    expect(h.listenDeltas()).toEqual(hasSynRetrans(kernel) ? { TcpRetransSegs: 1, TCPSynRetrans: 1 } : { TcpRetransSegs: 1 });
  });

  it(`${kernel}: RST with seq = rcv_nxt removes the pending request (spec §9b #136)`, () => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    h.segment({ src: CLIENT_C, srcPort: 5000 });
    h.listenDeltas();
    expect(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, flags: TcpFlag.RST, tsVal: null }).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ EmbryonicRsts: 1, TcpAttemptFails: 1 });
    expect(queues(h).qlen).toBe(0);
  });

  it(`${kernel}: a cookie SYN without TS but with wscale and SACK gives a connection with neither (spec §9b #121, §1.7)`, () => {
    const h = new StackHarness(kernel, ['net.ipv4.tcp_syncookies=1']);
    const l = neverAccepting(h, 4);
    fillSynQueue(h, l.synQueueCapacity(switchesOf(kernel)));
    const syn = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: null, sack: true, windowScale: 7 });
    expect(syn.verdict).toMatch(/^SYN_COOKIE/);
    const synAck = only(syn.replies);
    expectSynAck(kernel, synAck, { tsEcr: null, sack: false, windowScale: false });
    const ack = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null });
    expect(ack.verdict).toBe('COOKIE_ACCEPTED');
    const conn = [...h.host.connections.values()].find((c) => c.peerAddr === CLIENT_C && c.peerPort === 5000)!;
    expect(conn.peerWindowScale).toBe(-1);
    expect(conn.ourWindowScale).toBe(0);
    expect(conn.sackOk).toBe(false);
  });
});

describe('accept queue, 6.x / 4.10 (spec §9b #103–#105, measured)', () => {
  it('6.x: B=2, three handshakes: 3 SYN-ACKs, 3 children queued (Recv-Q 3, Send-Q 2), PassiveOpens+3 (spec §9b #103)', () => {
    const h = new StackHarness('6.x');
    const l = neverAccepting(h, 2);
    for (let i = 0; i < 3; i++) {
      const { synAck, ackVerdict } = h.handshake(40000 + i);
      expectSynAck('6.x', synAck);
      expect(ackVerdict).toBe('REQ_ESTABLISHED');
    }
    expect(l.acceptQueueLength).toBe(3);
    expect(l.maxAckBacklog).toBe(2);
    expect(h.listenDeltas()).toEqual({ TcpPassiveOpens: 3 });
  });

  it.each(['6.x', '4.10'])('%s: B=2 with 3 children: the 4th SYN gets no reply; ListenOverflows+1, ListenDrops+1 (spec §9b #104, #105)', (kernel) => {
    const h = new StackHarness(kernel);
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3, 40000, CLIENT_C);
    h.listenDeltas();
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 40003 });
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
  });
});

describe('3.10: the young rule and the ghost connection (spec §9b #106–#111)', () => {
  /** B=2, 3 children, then the 4th SYN at 0 ms and the 5th at 100 ms. */
  function after107(sysctls: string[] = []) {
    const h = new StackHarness('3.10', sysctls);
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3, 40000, CLIENT_D);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 3 });
    h.listenDeltas();
    const s106 = h.segment({ src: CLIENT_C, srcPort: 5106 });
    expectSynAck('3.10', only(s106.replies), { dstPort: 5106 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 3 });
    h.advanceTo(100);
    const s107 = h.segment({ src: CLIENT_C, srcPort: 5107 });
    expectSynAck('3.10', only(s107.replies), { dstPort: 5107 });
    expect(queues(h)).toEqual({ qlen: 2, young: 2, acc: 3 });
    expect(h.listenDeltas()).toEqual({});
    return { h, synAck106: only(s106.replies) };
  }

  it('3.10: 4th and 5th SYNs get SYN-ACKs (young 0, then 1) (spec §9b #106, #107)', () => {
    after107();
  });

  it('3.10: the 6th SYN within 1 s is dropped: ListenOverflows+1, ListenDrops+1 (spec §9b #108)', () => {
    const { h } = after107();
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 5108 });
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
  });

  it('3.10: the third ACK of request 106 is dropped silently, request acked; SYN-ACK retransmitted at the 1 s tick (spec §9b #109)', () => {
    const { h, synAck106 } = after107();
    const { replies } = thirdAck(h, synAck106, 5106);
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
    const slot = requestSlot(h, CLIENT_C, 5106);
    expect(requestAcked(h, slot)).toBe(true);
    // The first prune tick is at 1 s; its walk reaches the request's bucket by 1.4 s (§4.2).
    const rtx = h.advanceTo(1400);
    expect(rtx.filter((r) => r.dstPort === 5106 && isSynAck(r))).toHaveLength(1);
    // The client, which believes it is connected, re-ACKs: overflow again.
    thirdAck(h, rtx.find((r) => r.dstPort === 5106)!, 5106);
    // By 1.4 s request 107's SYN-ACK may have been retransmitted too (its bucket's tick).
    const retransmitted = rtx.filter(isSynAck).length;
    expect(h.listenDeltas()).toEqual({ TcpRetransSegs: retransmitted, TCPTimeouts: retransmitted, ListenOverflows: 1, ListenDrops: 1 });
  });

  it('3.10: with tcp_abort_on_overflow=1 the third ACK gets a RST and the request goes (spec §9b #110)', () => {
    const { h, synAck106 } = after107(['net.ipv4.tcp_abort_on_overflow=1']);
    const { replies } = thirdAck(h, synAck106, 5106);
    expectResetForAck(only(replies), synAck106.seq + 1, 5106);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1, EmbryonicRsts: 1, TcpOutRsts: 1 });
    expect(requestSlot(h, CLIENT_C, 5106)).toBe(-1);
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 3 });
  });

  it('3.10: 1.4 s later both requests were retransmitted once (young 0): a new SYN is answered again (spec §9b #111; the walk of §4.2 reaches every bucket within 3 ticks)', () => {
    const { h } = after107();
    const rtx = h.advanceTo(1400);
    expect(rtx.filter(isSynAck)).toHaveLength(2);
    expect(queues(h)).toEqual({ qlen: 2, young: 0, acc: 3 });
    h.listenDeltas();
    expectSynAck('3.10', only(h.segment({ src: CLIENT_C, srcPort: 5111 }).replies));
    expect(h.listenDeltas()).toEqual({});
  });
});

describe('6.x: the ghost connection with retransmits (spec §9b #112, §8 third ACK)', () => {
  it('6.x: B=4, accept queue full, the pending request\'s ACK overflows at 0, 1, 3, 7, 15, 31 s; the request is gone at 63 s', () => {
    const h = new StackHarness('6.x');
    const l = neverAccepting(h, 4);
    fillAcceptQueue(h, 4);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    fillAcceptQueue(h, 1, 30004);
    expect(l.acceptQueueLength).toBe(5);
    expect(l.acceptQueueFull()).toBe(true);
    h.listenDeltas();
    expect(thirdAck(h, synAck, 5000).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
    for (const at of [1000, 3000, 7000, 15000, 31000]) {
      const rtx = only(h.advanceTo(at));
      expect(rtx.seq).toBe(synAck.seq);
      expect(thirdAck(h, rtx, 5000).replies).toEqual([]);
      expect(h.listenDeltas()).toEqual({ TcpRetransSegs: 1, TCPSynRetrans: 1, TCPTimeouts: 1, ListenOverflows: 1, ListenDrops: 1 });
    }
    expect(h.advanceTo(63_000)).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPTimeouts: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 5 });
  });
});

describe('3.10: SYN queue 16 for B=4, and its cookies (spec §9b #113–#116)', () => {
  function full310(syncookies: number) {
    const h = new StackHarness('3.10', [`net.ipv4.tcp_syncookies=${syncookies}`]);
    neverAccepting(h, 4);
    expect(fillSynQueue(h, 16).filter(isSynAck)).toHaveLength(16);
    h.listenDeltas();
    return h;
  }

  it('3.10: syncookies=0: 16 SYN-ACKs, the 17th dropped with one "Dropping request" warning (spec §9b #113)', () => {
    const h = full310(0);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
    expect(h.host.kernelLog).toEqual(['TCP: TCP: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.']);
  });

  it('3.10: syncookies=1: the 17th gets a cookie SYN-ACK, qlen stays 16 (spec §9b #114)', () => {
    const h = full310(1);
    expectSynAck('3.10', only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies));
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 });
    expect(queues(h).qlen).toBe(16);
  });

  it('3.10: the cookie ACK within 3 s creates the connection (spec §9b #115)', () => {
    const h = full310(1);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    h.advanceTo(2900);
    h.listenDeltas();
    expect(thirdAck(h, synAck, 5000).verdict).toBe('COOKIE_ACCEPTED');
    expect(h.listenDeltas()).toEqual({ SyncookiesRecv: 1, TcpPassiveOpens: 1 });
  });

  it('3.10: the same ACK 4 s later is refused: SyncookiesFailed+1, RST (spec §9b #116)', () => {
    const h = full310(1);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    h.advanceTo(4000);
    h.listenDeltas();
    const { replies } = thirdAck(h, synAck, 5000);
    expectResetForAck(only(replies), synAck.seq + 1, 5000);
    expect(h.listenDeltas()).toEqual({ SyncookiesFailed: 1, TcpOutRsts: 1 });
  });
});

describe('6.x cookies (spec §9b #117, #118, #120)', () => {
  it('6.x: B=4 holds 5 requests; the 6th half-open SYN gets a cookie (spec §9b #117)', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=1']);
    neverAccepting(h, 4);
    expect(fillSynQueue(h, 5).filter(isSynAck)).toHaveLength(5);
    h.listenDeltas();
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).verdict).toBe('SYN_COOKIE');
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1 });
    expect(queues(h).qlen).toBe(5);
  });

  it('6.x: syncookies=2: 10 SYNs on an empty queue give 10 cookie SYN-ACKs, nothing queued (spec §9b #118, measured)', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=2']);
    neverAccepting(h, 128);
    const replies = fillSynQueue(h, 10, 5000, CLIENT_C);
    expect(replies.filter(isSynAck)).toHaveLength(10);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 10, SyncookiesSent: 10 });
    expect(queues(h).qlen).toBe(0);
    expect(h.host.kernelLog).toEqual([]);
  });

  it('6.x: a wrong cookie during a recent overflow: SyncookiesFailed+1, RST (spec §9b #120)', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=1']);
    neverAccepting(h, 4);
    fillSynQueue(h, 5);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    h.listenDeltas();
    const bad = (synAck.seq + 2) >>> 0;
    expectResetForAck(only(thirdAck(h, synAck, 5000, CLIENT_C, { ack: bad }).replies), bad, 5000);
    expect(h.listenDeltas()).toEqual({ SyncookiesFailed: 1, TcpOutRsts: 1 });
  });
});

describe('tcp_syncookies=2 on 3.10 and centos7 (spec §9b #119, #119b)', () => {
  it('3.10: syncookies=2 acts as 1: normal SYN-ACK, request queued (spec §9b #119)', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_syncookies=2']);
    h.host.listen(80, 128);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).verdict).toBe('SYN_QUEUED');
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h).qlen).toBe(1);
  });

  it('centos7: syncookies=2: cookie SYN-ACK, nothing queued, no flood warning (spec §9b #119b, §9a #36: ListenDrops too)', () => {
    // #119b lists TCPReqQFullDoCookies and SyncookiesSent; #36 adds ListenDrops+1 for centos7
    // (3.10's cookie path ends in drop_and_free, §1.1 C10). The more specific #36 is asserted.
    const h = new StackHarness('centos7', ['net.ipv4.tcp_syncookies=2']);
    h.host.listen(80, 128);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_COOKIE_LISTENDROP');
    expectSynAck('centos7', only(replies));
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 });
    expect(queues(h).qlen).toBe(0);
    expect(h.host.kernelLog).toEqual([]);
  });
});

describe('tw_recycle scenarios (spec §9b #122–#131)', () => {
  /** H closed by the server at t=0 with last TSval 1 000 000. */
  function closedH(kernel: string, recycle: 0 | 1) {
    const h = new StackHarness(kernel, [`net.ipv4.tcp_tw_recycle=${recycle}`, 'net.ipv4.tcp_timestamps=1']);
    httpListener(h);
    serverClosedConnection(h, 4000, HOST_H, { tsStart: 999_990, tsLast: 1_000_000 });
    return h;
  }
  function synAt(h: StackHarness, t: number, tsVal: number | null, port = 4001) {
    h.advanceTo(t);
    h.listenDeltas();
    return h.segment({ src: HOST_H, srcPort: port, tsVal });
  }

  it('3.10: SYN from H with TSval 999000 at 10 s: no reply, PAWSPassive+1, ListenDrops+1 (spec §9b #122)', () => {
    const h = closedH('3.10', 1);
    expect(synAt(h, 10_000, 999_000).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
  });

  it('3.10: TSval 999999 (1 behind) is tolerated (spec §9b #123)', () => {
    const h = closedH('3.10', 1);
    expectSynAck('3.10', only(synAt(h, 10_000, 999_999).replies), { tsEcr: 999_999 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: TSval 999000 at 61 s is answered (entry older than 60 s) (spec §9b #124)', () => {
    const h = closedH('3.10', 1);
    expectSynAck('3.10', only(synAt(h, 61_000, 999_000).replies), { tsEcr: 999_000 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: TSval 2000000 is answered (spec §9b #125)', () => {
    const h = closedH('3.10', 1);
    expectSynAck('3.10', only(synAt(h, 10_000, 2_000_000).replies), { tsEcr: 2_000_000 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: with tw_recycle=0 TSval 999000 is answered and no TS entry was written (spec §9b #126)', () => {
    const h = closedH('3.10', 0);
    expect(h.host.metrics.lookup(HOST_H)?.tsStamp ?? 0).toBe(0);
    expectSynAck('3.10', only(synAt(h, 10_000, 999_000).replies), { tsEcr: 999_000 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: a SYN from H without timestamps is answered (spec §9b #127)', () => {
    const h = closedH('3.10', 1);
    expectSynAck('3.10', only(synAt(h, 10_000, null).replies), { tsEcr: null });
    expect(h.listenDeltas()).toEqual({});
  });

  it('4.4: a SYN from H without timestamps at 10 s is dropped: PAWSPassive+1, ListenDrops+1 (spec §9b #128)', () => {
    const h = closedH('4.4', 1);
    expect(synAt(h, 10_000, null).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
  });

  it('4.15: --sysctl net.ipv4.tcp_tw_recycle=1 is refused (exit 2) (spec §9b #129)', () => {
    let error: unknown;
    try {
      new Sysctls(resolveProfile('4.15'), ['net.ipv4.tcp_tw_recycle=1']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SyndropError);
    expect((error as SyndropError).code).toBe('SYNDROP_ERR_UNKNOWN_SYSCTL');
    expect((error as SyndropError).exitCode).toBe(2);
  });

  it('3.10: tw_recycle=1, RTO 200 ms: TIME_WAIT lasts 700 ms; H\'s entry holds the last TSval (spec §9b #130)', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_tw_recycle=1']);
    httpListener(h);
    h.advanceTo(2000);
    serverClosedConnection(h, 4000, HOST_H, { tsStart: 999_990, tsLast: 1_000_000 });
    expect(h.host.metrics.lookup(HOST_H)!.ts).toBe(1_000_000);
    expect(h.host.metrics.lookup(HOST_H)!.tsStamp).toBe(2);
    h.advanceTo(2699);
    expect(h.host.timewait.live).toBe(1);
    h.advanceTo(2700);
    expect(h.host.timewait.live).toBe(0);
  });

  it('3.10: tw_recycle=0: TIME_WAIT lasts 60 s (spec §9b #131)', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_tw_recycle=0']);
    httpListener(h);
    serverClosedConnection(h, 4000, HOST_H);
    h.advanceTo(59_999);
    expect(h.host.timewait.live).toBe(1);
    h.advanceTo(60_000);
    expect(h.host.timewait.live).toBe(0);
  });
});

describe('3.10: the unproven-peer quarter with max_syn_backlog 16 (spec §9b #132, #133)', () => {
  function build(halfOpen: number) {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_syncookies=0', 'net.ipv4.tcp_max_syn_backlog=16']);
    const l = neverAccepting(h, 64);
    expect(l.synQueueCapacity(switchesOf('3.10'))).toBe(32);
    expect(fillSynQueue(h, halfOpen).filter(isSynAck)).toHaveLength(halfOpen);
    h.listenDeltas();
    return h;
  }

  it('3.10: 13 half-open: a never-seen host gets no reply (16 − 13 = 3 < 4), ListenDrops+1 only (spec §9b #132)', () => {
    const h = build(13);
    expect(h.segment({ src: CLIENT_D, srcPort: 5000 }).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
  });

  it('3.10: 12 half-open: a never-seen host gets a SYN-ACK (16 − 12 = 4) (spec §9b #133)', () => {
    const h = build(12);
    expectSynAck('3.10', only(h.segment({ src: CLIENT_D, srcPort: 5000 }).replies));
    expect(h.listenDeltas()).toEqual({});
  });
});

describe('queue capacities (spec §9b #137–#142)', () => {
  it('3.10: B=128, max_syn_backlog 1024: SYN-queue capacity 256 (spec §9b #137)', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_syncookies=0', 'net.ipv4.tcp_max_syn_backlog=1024']);
    const l = neverAccepting(h, 128);
    expect(l.synQueueCapacity(switchesOf('3.10'))).toBe(256);
    // By traffic: 256 SYNs fit; the quarter rule is on (syncookies 0) but 1024 − 255 ≥ 256.
    expect(fillSynQueue(h, 256).filter(isSynAck)).toHaveLength(256);
    h.listenDeltas();
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).verdict).toBe('DROP_REQQ_FULL');
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
  });

  function capacities(kernel: string, backlog: number) {
    const h = new StackHarness(kernel, ['net.ipv4.tcp_syncookies=0']);
    const l = neverAccepting(h, backlog);
    const synQueue = fillSynQueue(h, backlog + 5).filter(isSynAck).length;
    const h2 = new StackHarness(kernel, ['net.ipv4.tcp_syncookies=0']);
    const l2 = neverAccepting(h2, backlog);
    let established = 0;
    for (let i = 0; i < backlog + 5; i++) {
      const syn = h2.segment({ src: CLIENT_D, srcPort: 30000 + i });
      const synAck = syn.replies.find(isSynAck);
      if (synAck === undefined) continue;
      if (thirdAck(h2, synAck, 30000 + i, CLIENT_D).verdict === 'REQ_ESTABLISHED') established++;
    }
    return { synQueue, acceptQueue: established, l, l2 };
  }

  it('6.x: B=128 (somaxconn 4096): both queues hold 129 (spec §9b #138)', () => {
    const { synQueue, acceptQueue, l, l2 } = capacities('6.x', 128);
    expect(synQueue).toBe(129);
    expect(acceptQueue).toBe(129);
    expect(l.synQueueCapacity(switchesOf('6.x'))).toBe(129);
    expect(l2.acceptQueueLength).toBe(129);
  });

  it('5.4: B=128: SYN queue 128 (>=), accept queue 129 (>) (spec §9b #139)', () => {
    const { synQueue, acceptQueue } = capacities('5.4', 128);
    expect(synQueue).toBe(128);
    expect(acceptQueue).toBe(129);
  });

  it('6.x: B=0, syncookies=0: one client connects (spec §9b #140, measured)', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=0']);
    const l = neverAccepting(h, 0);
    expect(h.handshake(5000).ackVerdict).toBe('REQ_ESTABLISHED');
    expect(l.acceptQueueLength).toBe(1);
    expect(h.listenDeltas()).toEqual({ TcpPassiveOpens: 1 });
    // The next is dropped at SYN time by the accept queue (spec §8 listen(fd, 0)).
    expect(h.segment({ src: CLIENT_C, srcPort: 5001 }).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
  });

  it('5.15: B=0, syncookies=0: the SYN is dropped, TCPReqQFullDrop+1, ListenDrops+1 (spec §9b #141)', () => {
    const h = new StackHarness('5.15', ['net.ipv4.tcp_syncookies=0']);
    neverAccepting(h, 0);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
  });

  it('6.x: B=1000 with somaxconn 128: Send-Q 128 (spec §9b #142)', () => {
    const h = new StackHarness('6.x', ['net.core.somaxconn=128']);
    expect(neverAccepting(h, 1000).maxAckBacklog).toBe(128);
  });
});

describe('3.10: prune threshold under pressure (spec §9b #143, §4.2, §8c)', () => {
  it('3.10: B=16 (SYN queue 32), 20 never-ACKed requests: thresh 5 while young, 2 once young is 0 and qlen ≥ 16; the walk prunes some (3.10.108: 6 of 20, scattered), never all, and stops below half', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_syncookies=0']);
    const l = neverAccepting(h, 16);
    expect(l.synQueueCapacity(switchesOf('3.10'))).toBe(32);
    fillSynQueue(h, 20);
    h.listenDeltas();
    // 1–1.4 s: every request still young when its tick starts (qlen 20 < 2·20): thresh 5, all retransmit.
    expect(h.advanceTo(1400).filter(isSynAck)).toHaveLength(20);
    expect(queues(h)).toEqual({ qlen: 20, young: 0, acc: 0 });
    // 3–3.8 s: young 0, qlen 20 ≥ 16 = half: thresh 2 > num_timeout 1: all retransmit.
    expect(h.advanceTo(3800).filter(isSynAck)).toHaveLength(20);
    expect(queues(h).qlen).toBe(20);
    // 7 s on: num_timeout 2 ≥ thresh 2 while qlen ≥ 16; each tick drops what its walk reaches.
    h.advanceTo(9000);
    const left = queues(h).qlen;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(16);
    // Every request timed out three times (≈1, 3, 7 s): retransmitted, or at the last one pruned.
    expect(h.listenDeltas()).toEqual({ TCPTimeouts: 60, TcpRetransSegs: 40 + left });
  });
});


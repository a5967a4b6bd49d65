// Spec §9a vectors for the accept queue: the SYN-time rule (young vs full, note A), the
// third ACK meeting a full accept queue, listen(fd, 0) and the backlog clamp (spec §1.1 C3,
// §1.2 D2, §1.5, §3.1 R10–R11, §5.1, §5.5).

import { describe, expect, it } from 'vitest';
import { StackHarness } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  CLIENT_D,
  P_4_10_PLUS,
  P_4_4_TO_6_8,
  P_5_4_PLUS,
  expectResetForAck,
  expectSynAck,
  fillAcceptQueue,
  fillSynQueue,
  isSynAck,
  listenerOf,
  only,
  queues,
  requestAcked,
  requestSlot,
  specFacts,
  switchesOf,
  thirdAck,
} from '../helpers/vectors.js';

function harness(kernel: string, sysctls: string[] = []): StackHarness {
  return new StackHarness(kernel, ['net.ipv4.tcp_max_syn_backlog=256', ...sysctls]);
}

/** listen(80, backlog) with an application that never accepts. */
function neverAccepting(h: StackHarness, backlog: number) {
  return h.app.listen(80, backlog, { ratePerSecond: 0 });
}

describe('3.10: the young rule on a full accept queue (spec §1.1 C3)', () => {
  it('3.10: SYN dropped when accept queue full and young > 1 (spec §9a #7, §1.1 C3)', () => {
    const h = harness('3.10');
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3);
    expect(fillSynQueue(h, 2).filter(isSynAck)).toHaveLength(2);
    expect(queues(h)).toEqual({ qlen: 2, young: 2, acc: 3 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('DROP_ACCEPTQ_FULL_YOUNG');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 2, young: 2, acc: 3 });
  });

  it('3.10: SYN-ACK queued when accept queue full but young is 1 (spec §9a #8, §1.1 C3)', () => {
    const h = harness('3.10');
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3);
    // One request whose SYN-ACK timed out once (no longer young), then a young one.
    fillSynQueue(h, 1, 20000);
    h.advanceTo(1000);
    expect(queues(h)).toEqual({ qlen: 1, young: 0, acc: 3 });
    fillSynQueue(h, 1, 20001);
    expect(queues(h)).toEqual({ qlen: 2, young: 1, acc: 3 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 3, young: 2, acc: 3 });
  });

  it('3.10: SYN-ACK queued when accept queue full and the SYN queue is empty (spec §9a #9)', () => {
    const h = harness('3.10');
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 3 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 3 });
  });
});

describe.each([...P_4_10_PLUS, '4.4-late', '4.9-late'])('%s: the "full" SYN rule (note A)', (kernel) => {
  it(`${kernel}: SYN dropped when the accept queue is full, even with no young request (spec §9a #10, §1.2 D2)`, () => {
    const h = harness(kernel);
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 3 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('DROP_ACCEPTQ_FULL');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 3 });
  });
});

describe.each(['4.4', '4.9'])('%s as released: the young rule (note A)', (kernel) => {
  it(`${kernel}: SYN-ACK queued when the accept queue is full and young is 0 (spec §9a #11, §1.2 D2)`, () => {
    const h = harness(kernel);
    neverAccepting(h, 2);
    fillAcceptQueue(h, 3);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 3 });
  });
});

describe.each(ALL)('%s: the third ACK and the accept queue (spec §3.1 R10–R11)', (kernel) => {
  it(`${kernel}: valid third ACK with acc 1 of backlog 1 creates the child: acc 2, qlen −1, young −1 (spec §9a #12)`, () => {
    const h = harness(kernel);
    neverAccepting(h, 1);
    fillAcceptQueue(h, 1);
    const syn = h.segment({ src: CLIENT_C, srcPort: 5000 });
    const synAck = only(syn.replies);
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 1 });
    h.listenDeltas();
    const { verdict, replies } = thirdAck(h, synAck, 5000);
    expect(verdict).toBe('REQ_ESTABLISHED');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TcpPassiveOpens: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 2 });
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
  });

  /** acc 2 of backlog 1 (full) and a pending request from C:5000; returns C's SYN-ACK. */
  function fullWithPending(h: StackHarness) {
    neverAccepting(h, 1);
    fillAcceptQueue(h, 1);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    // The second child: on ">=" kernels the SYN queue (1) is full now, so it comes through a cookie.
    fillAcceptQueue(h, 1, 30001);
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 2 });
    expect(listenerOf(h).acceptQueueFull()).toBe(true);
    h.listenDeltas();
    return synAck;
  }

  it(`${kernel}: third ACK with the accept queue full is dropped, request kept and acked, no RST (spec §9a #13, §3.1 listen_overflow)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_abort_on_overflow=0']);
    const synAck = fullWithPending(h);
    const { verdict, replies } = thirdAck(h, synAck, 5000);
    expect(verdict).toBe('REQ_ACCEPTQ_OVERFLOW');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 2 });
    const slot = requestSlot(h, CLIENT_C, 5000);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(requestAcked(h, slot)).toBe(true);
  });

  it(`${kernel}: with tcp_abort_on_overflow=1 the overflowing third ACK gets a RST and the request goes (spec §9a #14)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_abort_on_overflow=1']);
    const synAck = fullWithPending(h);
    const ack = synAck.seq + 1;
    const { verdict, replies } = thirdAck(h, synAck, 5000);
    expect(verdict).toBe('REQ_ACCEPTQ_OVERFLOW_ABORT');
    expectResetForAck(only(replies), ack, 5000);
    expect(h.listenDeltas()).toEqual({ ListenOverflows: 1, ListenDrops: 1, EmbryonicRsts: 1, TcpOutRsts: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 2 });
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
  });
});

describe.each(P_4_4_TO_6_8)('%s: listen(fd, 0) with one child queued', (kernel) => {
  // Spec §9a #38 lists 4.4 … 6.8 as "drop". For 4.4/4.9 as released the accept-queue rule is
  // still `full && young > 1` (§1.2 D2, note A) and young is 0 here (cookies add no request),
  // so the SYN passes D2 and gets the cookie the flood action chose. Tested per the rule.
  const young = specFacts(kernel).youngRule;
  it(`${kernel}: SYN from D ${young ? 'passes the young rule and is cookied' : 'dropped after the flood action ran'} (spec §9a #38, §1.2 D1–D2)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=1']);
    neverAccepting(h, 0);
    fillAcceptQueue(h, 1, 30000, CLIENT_C);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 1 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_D, srcPort: 5000 });
    if (young) {
      expect(verdict).toBe(specFacts(kernel).cookieListenDrop ? 'SYN_COOKIE_LISTENDROP' : 'SYN_COOKIE');
      expectSynAck(kernel, only(replies));
      expect(h.listenDeltas()).toEqual(
        specFacts(kernel).cookieListenDrop
          ? { TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 }
          : { TCPReqQFullDoCookies: 1, SyncookiesSent: 1 },
      );
    } else {
      expect(verdict).toBe('DROP_ACCEPTQ_FULL');
      expect(replies).toEqual([]);
      expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, ListenOverflows: 1, ListenDrops: 1 });
    }
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 1 });
  });
});

describe.each(['4.4-late', '4.9-late'])('%s: listen(fd, 0) with one child queued', (kernel) => {
  it(`${kernel}: SYN from D dropped after the flood action ran (spec §9a #38, note A)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=1']);
    neverAccepting(h, 0);
    fillAcceptQueue(h, 1, 30000, CLIENT_C);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_D, srcPort: 5000 });
    expect(verdict).toBe('DROP_ACCEPTQ_FULL');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, ListenOverflows: 1, ListenDrops: 1 });
  });
});

describe('3.10: listen(fd, 0)', () => {
  it('3.10: SYN-ACK queued with acc 1, qlen 0, young 0 (cap 16; young rule) (spec §9a #39)', () => {
    const h = harness('3.10');
    neverAccepting(h, 0);
    fillAcceptQueue(h, 1, 30000, CLIENT_C);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 1 });
    expect(listenerOf(h).synQueueCapacity(switchesOf('3.10'))).toBe(16);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_D, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 1 });
  });
});

describe('ss -lnt: Send-Q = min(backlog, somaxconn), Recv-Q = accept queue (spec §5.1, §5.5)', () => {
  it('3.10: backlog 511 with somaxconn 128 shows Send-Q 128, Recv-Q = acc (spec §9a #48)', () => {
    const h = harness('3.10');
    const l = neverAccepting(h, 511);
    fillAcceptQueue(h, 2);
    expect(l.maxAckBacklog).toBe(128);
    expect(l.acceptQueueLength).toBe(2);
  });

  it.each(P_5_4_PLUS)('%s: backlog 511 with somaxconn 4096 shows Send-Q 511, Recv-Q 3 (spec §9a #49)', (kernel) => {
    const h = harness(kernel);
    expect(h.host.sysctls.get('net.core.somaxconn')).toBe(4096);
    const l = neverAccepting(h, 511);
    fillAcceptQueue(h, 3);
    expect(l.maxAckBacklog).toBe(511);
    expect(l.acceptQueueLength).toBe(3);
  });

  it.each(ALL)('%s: backlog −1 with somaxconn 128 shows Send-Q 128 (unsigned compare) (spec §9a #50)', (kernel) => {
    const h = harness(kernel, ['net.core.somaxconn=128']);
    const l = neverAccepting(h, -1);
    expect(l.maxAckBacklog).toBe(128);
    expect(l.acceptQueueLength).toBe(0);
  });
});

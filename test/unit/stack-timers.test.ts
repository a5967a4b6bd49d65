// Spec §9a vectors for SYN-ACK retransmission and SYN-queue pruning (spec §4), on the
// virtual clock: 3.10's 200 ms listener timer vs the per-request timers of 4.4+.

import { describe, expect, it } from 'vitest';
import { StackHarness, type Reply } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  P_4_4_PLUS,
  fillAcceptQueue,
  fillSynQueue,
  hasSynRetrans,
  isSynAck,
  only,
  queues,
  requestAcked,
  requestSlot,
  specFacts,
  thirdAck,
} from '../helpers/vectors.js';

function harness(kernel: string, sysctls: string[] = []): StackHarness {
  return new StackHarness(kernel, ['net.ipv4.tcp_max_syn_backlog=256', ...sysctls]);
}

/** Counter deltas of `n` SYN-ACK retransmissions by the timer (spec §4.1). */
function retransmitDeltas(kernel: string, n: number, timeouts = n): Record<string, number> {
  const out: Record<string, number> = {};
  if (n > 0) out.TcpRetransSegs = n;
  if (n > 0 && hasSynRetrans(kernel)) out.TCPSynRetrans = n;
  if (timeouts > 0) out.TCPTimeouts = timeouts;
  return out;
}

function expectRetransmittedSynAck(reply: Reply, isn: number, tsEcr: number): void {
  expect(reply.flags).toBe(0x12);
  expect(reply.seq).toBe(isn);
  expect(reply.ack).toBe(1001);
  expect(reply.tsEcr).toBe(tsEcr);
  expect(reply.mss).toBe(1460);
}

describe.each(ALL)('%s: the request timer after a dropped third ACK', (kernel) => {
  it(`${kernel}: first expiry retransmits the SYN-ACK, young −1, next expiry 2 s later (spec §9a #15, §3.2, §4.1)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_abort_on_overflow=0']);
    h.app.listen(80, 1, { ratePerSecond: 0 });
    fillAcceptQueue(h, 1);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    fillAcceptQueue(h, 1, 30001);
    expect(thirdAck(h, synAck, 5000).verdict).toBe('REQ_ACCEPTQ_OVERFLOW');
    const slot = requestSlot(h, CLIENT_C, 5000);
    expect(requestAcked(h, slot)).toBe(true);
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 2 });
    const firstExpiry = h.host.requestExpiresAt(slot);
    expect(firstExpiry).toBe(1000);
    h.listenDeltas();
    expect(h.advanceTo(firstExpiry - 1)).toEqual([]);
    // 3.10's prune run walks 6 of the 16 buckets per 200 ms tick: the request is handled at
    // the first tick whose walk reaches its bucket, at most two ticks late (spec §4.2).
    let handledAt = firstExpiry;
    let replies = h.advanceTo(firstExpiry);
    while (replies.length === 0 && specFacts(kernel).prune200ms && handledAt < firstExpiry + 400) {
      handledAt += 200;
      replies = h.advanceTo(handledAt);
    }
    // TSecr: the third ACK's TSval became the request's ts_recent (spec §3.1 R5) — except on
    // kernels that defer ts_recent to the child, where the SYN's TSval is still echoed
    // (measured on 6.18 by the differential suite).
    const deferred = specFacts(kernel).tsRecentDeferred;
    expectRetransmittedSynAck(only(replies), synAck.seq, deferred ? 100 : 101);
    expect(h.listenDeltas()).toEqual(retransmitDeltas(kernel, 1));
    expect(queues(h)).toEqual({ qlen: 1, young: 0, acc: 2 });
    expect(h.host.requests.numTimeout[slot]).toBe(1);
    expect(h.host.requestExpiresAt(slot)).toBe(handledAt + 2000);
  });
});

describe.each(P_4_4_PLUS)('%s: one request never ACKed', (kernel) => {
  it(`${kernel}: SYN-ACK retransmitted at 1, 3, 7, 15, 31 s and dropped at 63 s; young −1 at 1 s (spec §9a #40, §4.1)`, () => {
    const h = harness(kernel);
    h.host.listen(80, 128);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    const slot = requestSlot(h, CLIENT_C, 5000);
    h.listenDeltas();
    let last = 0;
    for (const at of [1000, 3000, 7000, 15000, 31000]) {
      expect(h.advanceTo(at - 1)).toEqual([]);
      expectRetransmittedSynAck(only(h.advanceTo(at)), synAck.seq, 100);
      if (at === 1000) expect(queues(h)).toEqual({ qlen: 1, young: 0, acc: 0 });
      last = at;
    }
    expect(h.advanceTo(62_999)).toEqual([]);
    expect(queues(h).qlen).toBe(1);
    expect(h.advanceTo(63_000)).toEqual([]);
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
    expect(h.listenDeltas()).toEqual(retransmitDeltas(kernel, 5, 6));
    expect(last).toBe(31000);
    expect(slot).toBeGreaterThanOrEqual(0);
  });
});

describe('6.x: tcp_synack_retries=2 (spec §8 SYN-ACK timer)', () => {
  it('6.x: retransmits at 1 and 3 s, gone at 7 s', () => {
    const h = harness('6.x', ['net.ipv4.tcp_synack_retries=2']);
    h.host.listen(80, 128);
    h.segment({ src: CLIENT_C, srcPort: 5000 });
    h.listenDeltas();
    expect(h.advanceTo(1000).filter(isSynAck)).toHaveLength(1);
    expect(h.advanceTo(3000).filter(isSynAck)).toHaveLength(1);
    expect(h.advanceTo(6999)).toEqual([]);
    expect(queues(h).qlen).toBe(1);
    expect(h.advanceTo(7000)).toEqual([]);
    expect(queues(h).qlen).toBe(0);
    expect(h.listenDeltas()).toEqual(retransmitDeltas('6.x', 2, 3));
  });
});

describe('3.10: the prune threshold (spec §4.2)', () => {
  it('3.10: qlen 8 of 16 with young 1 lowers thresh to 2, so R (num_timeout 2) is dropped without a retransmit (spec §9a #41)', () => {
    const h = harness('3.10', ['net.ipv4.tcp_synack_retries=5']);
    h.host.listen(80, 5);
    h.segment({ src: CLIENT_C, srcPort: 5000 }); // R
    const r = requestSlot(h, CLIENT_C, 5000);
    h.advanceTo(400);
    fillSynQueue(h, 6, 20000); // never young again once their first SYN-ACK timed out
    // R's expiries drift with the walk (each is set from the tick that handled it, §4.2).
    let t = 400;
    while (h.host.requests.numTimeout[r]! < 2) h.advanceTo((t += 200));
    const expiry = h.host.requestExpiresAt(r);
    h.advanceTo(expiry - 400);
    fillSynQueue(h, 1, 21000); // the one young request
    expect(queues(h)).toEqual({ qlen: 8, young: 1, acc: 0 });
    expect(h.host.requests.numTimeout[r]).toBe(2);
    h.listenDeltas();
    // From R's expiry on, the first tick whose walk reaches R drops it: no SYN-ACK to R.
    const sent: Reply[] = [];
    for (t = expiry; requestSlot(h, CLIENT_C, 5000) !== -1 && t <= expiry + 400; t += 200) sent.push(...h.advanceTo(t));
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
    expect(sent.filter((s) => s.dstPort === 5000)).toEqual([]);
    expect(h.listenDeltas().TCPTimeouts).toBeGreaterThanOrEqual(1);
  });
});

describe.each(P_4_4_PLUS)('%s: the per-request threshold (spec §4.3)', (kernel) => {
  /** R from C at 0 s, six older requests at 0.5 s, two young ones at `youngAt`: qlen 9, young 2. */
  function build(youngAt: number): { h: StackHarness; r: number; isn: number } {
    const h = harness(kernel);
    h.host.listen(80, 16);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    const r = requestSlot(h, CLIENT_C, 5000);
    h.advanceTo(500);
    fillSynQueue(h, 6, 20000);
    h.advanceTo(youngAt);
    fillSynQueue(h, 2, 21000);
    expect(queues(h)).toEqual({ qlen: 9, young: 2, acc: 0 });
    h.listenDeltas();
    return { h, r, isn: synAck.seq };
  }

  it(`${kernel}: qlen 9, young 2 of backlog 16 give thresh 3: R with num_timeout 3 is dropped (spec §9a #42)`, () => {
    const { h, r } = build(14_500);
    expect(h.host.requests.numTimeout[r]).toBe(3);
    expect(h.host.requestExpiresAt(r)).toBe(15_000);
    expect(h.advanceTo(15_000)).toEqual([]);
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
    expect(h.listenDeltas()).toEqual({ TCPTimeouts: 1 });
    expect(queues(h)).toEqual({ qlen: 8, young: 2, acc: 0 });
  });

  it(`${kernel}: R with num_timeout 2 is below thresh 3: SYN-ACK retransmitted, next expiry 8 s later (spec §9a #43)`, () => {
    const { h, r, isn } = build(6_500);
    expect(h.host.requests.numTimeout[r]).toBe(2);
    expectRetransmittedSynAck(only(h.advanceTo(7_000)), isn, 100);
    expect(h.listenDeltas()).toEqual(retransmitDeltas(kernel, 1));
    expect(h.host.requests.numTimeout[r]).toBe(3);
    expect(h.host.requestExpiresAt(r)).toBe(15_000);
  });
});

describe('6.x: pruning measured on 6.18 (spec §8 Pruning)', () => {
  it('6.x: listen(16), syncookies 0, 10 requests never ACKed: 2 dropped at the third timeout, 8 get all 5 retransmits', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=0']);
    h.host.listen(80, 16);
    fillSynQueue(h, 10);
    h.listenDeltas();
    h.advanceTo(6_999);
    expect(queues(h).qlen).toBe(10);
    h.advanceTo(7_000);
    expect(queues(h).qlen).toBe(8);
    h.advanceTo(62_999);
    expect(queues(h).qlen).toBe(8);
    h.advanceTo(63_000);
    expect(queues(h).qlen).toBe(0);
    // 10 + 10 + 8 + 8 + 8 retransmits; 10 + 10 + 10 + 8 + 8 + 8 expiries.
    expect(h.listenDeltas()).toEqual(retransmitDeltas('6.x', 44, 54));
  });
});

describe('6.x: TCP_DEFER_ACCEPT under pressure (spec §3.3, §4.3 syn_ack_recalc)', () => {
  it('6.x: max_retries becomes rskq_defer_accept: acked requests are pruned by the lowered threshold like the others', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=0']);
    const l = h.host.listen(80, 16);
    l.deferAcceptRetrans = 1;
    const synAcks = fillSynQueue(h, 10);
    synAcks.forEach((synAck, i) => {
      const r = h.segment({ src: synAck.dst, srcPort: synAck.dstPort, seq: 5001 + i, ack: synAck.seq + 1, flags: 0x10, tsVal: 101, tsEcr: synAck.tsVal! });
      expect(r.verdict).toBe('REQ_DEFER_ACCEPT_DROP');
    });
    h.advanceTo(6_999);
    expect(queues(h).qlen).toBe(10);
    // num_timeout 2 ≥ thresh 2 and ≥ defer_accept 1: expire, as without TCP_DEFER_ACCEPT.
    h.advanceTo(7_000);
    expect(queues(h).qlen).toBe(8);
  });
});

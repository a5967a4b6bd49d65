// Spec §9a vectors for segments that hit a pending request (tcp_check_req, spec §3.1, §3.3)
// and the 6.18 measurements of §8 for duplicate SYNs, RSTs and TCP_DEFER_ACCEPT.

import { describe, expect, it } from 'vitest';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  P_4_4_PLUS,
  expectResetForAck,
  hasSynRetrans,
  only,
  queues,
  requestAcked,
  requestSlot,
  secsToRetrans,
  specFacts,
  switchesOf,
  thirdAck,
} from '../helpers/vectors.js';

function pending(kernel: string, sysctls: string[] = []) {
  const h = new StackHarness(kernel, sysctls);
  const l = h.app.listen(80, 128, { ratePerSecond: 0 });
  const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 100 }).replies);
  h.listenDeltas();
  return { h, l, synAck };
}

describe.each(ALL)('%s: a retransmitted SYN for a pending request', (kernel) => {
  it(`${kernel}: the same SYN-ACK (same ISN, TSecr of the first SYN) is resent, no new request, timer restarted (spec §9a #44, §3.1 R2, §8)`, () => {
    const { h, synAck } = pending(kernel);
    h.advanceTo(500);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 600 });
    expect(verdict).toBe(hasSynRetrans(kernel) ? 'REQ_SYN_RETRANSMIT' : 'REQ_SYN_RETRANSMIT_310');
    const again = only(replies);
    expect(again.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(again.seq).toBe(synAck.seq);
    expect(again.ack).toBe(1001);
    expect(again.tsEcr).toBe(100);
    expect(again.mss).toBe(synAck.mss);
    expect(again.windowScale).toBe(synAck.windowScale);
    expect(again.sackPermitted).toBe(true);
    expect(again.window).toBe(synAck.window);
    expect(h.listenDeltas()).toEqual(hasSynRetrans(kernel) ? { TcpRetransSegs: 1, TCPSynRetrans: 1 } : { TcpRetransSegs: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
    const slot = requestSlot(h, CLIENT_C, 5000);
    // 3.10 applies the new expiry on its next 200 ms prune tick (spec §4.2).
    expect(h.host.requestExpiresAt(slot)).toBe(specFacts(kernel).prune200ms ? 1600 : 1500);
  });
});

describe.each(ALL)('%s: RST for a pending request', (kernel) => {
  it(`${kernel}: RST with seq = rcv_nxt removes the request silently (spec §9a #45, §3.1 R7)`, () => {
    const { h } = pending(kernel);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, flags: TcpFlag.RST, tsVal: null });
    expect(verdict).toBe('REQ_RESET');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TcpAttemptFails: 1, EmbryonicRsts: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
  });
});

// Spec §8 / §8c: every kernel measured up to 6.12.0 removes a pending request on any
// in-window RST; only 6.18 (profile 6.x) keeps it and sends a challenge ACK (RFC 5961 §3.2).
const RST_IN_WINDOW_REMOVES = ['3.10', 'centos7', '4.4', '4.4-late', '4.9', '4.9-late', '4.10', '4.15', '4.19', '5.4', '5.10', '5.15', '6.1', '6.1-late', '6.8', '6.12'];
// The exact-seq rule: 6.18, and backported to 6.1.y and 6.12.y (measured on 6.1.192, 6.12.118).
const RST_EXACT_SEQ = ['6.1-latest', '6.12-late', '6.x'];

describe('RST in window but not at rcv_nxt (spec §8, §8c, RFC 5961)', () => {
  it.each(RST_EXACT_SEQ)('%s: challenge ACK (seq = ISN + 1, ack = 1001, window 65160 >> wscale, 63 or 509: tcp_v4_reqsk_send_ack shifts rsk_rcv_wnd without rounding), request kept, TCPChallengeACK+1 (spec §9a #45b, §8)', (kernel) => {
    const { h, synAck } = pending(kernel);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1101, flags: TcpFlag.RST, tsVal: null });
    expect(verdict).toBe('REQ_CHALLENGE_ACK');
    const ack = only(replies);
    expect(ack.flags).toBe(TcpFlag.ACK);
    expect(ack.seq).toBe((synAck.seq + 1) >>> 0);
    expect(ack.ack).toBe(1001);
    expect(ack.tsEcr).toBe(100);
    expect(ack.window).toBe(kernel === '6.x' ? 63 : 509);
    expect(h.listenDeltas()).toEqual({ TCPChallengeACK: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
  });

  it.each(RST_IN_WINDOW_REMOVES)('%s: an in-window RST at rcv_nxt + 100 removes the request: nothing sent, EmbryonicRsts+1, AttemptFails+1, TCPChallengeACK +0 (spec §8c)', (kernel) => {
    const { h } = pending(kernel);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1101, flags: TcpFlag.RST, tsVal: null });
    expect(verdict).toBe('REQ_RESET');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TcpAttemptFails: 1, EmbryonicRsts: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
    expect(requestSlot(h, CLIENT_C, 5000)).toBe(-1);
  });

  it.each([...RST_IN_WINDOW_REMOVES, ...RST_EXACT_SEQ])('%s: an RST beyond the window is ignored and the request kept (spec §8c)', (kernel) => {
    const { h } = pending(kernel);
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001 + 1_000_000, flags: TcpFlag.RST, tsVal: null });
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
  });
});

describe.each(ALL)('%s: an ACK with the wrong ack number for a pending request', (kernel) => {
  it(`${kernel}: RST from the listener with seq = that ack; the request survives (spec §9a #46, §3.1 R3, §8)`, () => {
    const { h, synAck } = pending(kernel);
    const wrong = (synAck.seq + 5000) >>> 0;
    const { replies } = thirdAck(h, synAck, 5000, CLIENT_C, { ack: wrong });
    expectResetForAck(only(replies), wrong, 5000);
    expect(h.listenDeltas()).toEqual({ TcpOutRsts: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
    // The right ACK still completes the handshake.
    expect(thirdAck(h, synAck, 5000).verdict).toBe('REQ_ESTABLISHED');
  });
});

describe.each(P_4_4_PLUS)('%s: TCP_DEFER_ACCEPT', (kernel) => {
  it(`${kernel}: a bare third ACK is dropped and marks the request acked (spec §9a #53, §3.1 R9, §3.3)`, () => {
    const { h, l, synAck } = pending(kernel);
    l.deferAcceptRetrans = secsToRetrans(5);
    expect(l.deferAcceptRetrans).toBe(3);
    const { verdict, replies } = thirdAck(h, synAck, 5000);
    expect(verdict).toBe('REQ_DEFER_ACCEPT_DROP');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPDeferAcceptDrop: 1 });
    const slot = requestSlot(h, CLIENT_C, 5000);
    expect(requestAcked(h, slot)).toBe(true);
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
  });
});

describe('6.x: TCP_DEFER_ACCEPT=5 as measured on 6.18 (spec §8)', () => {
  it('6.x: data after the bare ACK completes the accept at once', () => {
    const { h, l, synAck } = pending('6.x');
    l.deferAcceptRetrans = secsToRetrans(5);
    thirdAck(h, synAck, 5000);
    h.listenDeltas();
    const data = thirdAck(h, synAck, 5000, CLIENT_C, { tsVal: 102, payload: new TextEncoder().encode('hello') });
    expect(data.verdict).toBe('REQ_ESTABLISHED');
    expect(h.listenDeltas()).toEqual({ TcpPassiveOpens: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 1 });
  });

  it('6.x: without data the timer fires at 1 and 3 s sending nothing; the SYN-ACK at 7 s draws the ACK that completes', () => {
    const { h, l, synAck } = pending('6.x');
    l.deferAcceptRetrans = secsToRetrans(5);
    thirdAck(h, synAck, 5000);
    h.listenDeltas();
    expect(h.advanceTo(1000)).toEqual([]);
    expect(h.advanceTo(3000)).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPTimeouts: 2 });
    expect(h.advanceTo(6999)).toEqual([]);
    const rtx = only(h.advanceTo(7000));
    expect(rtx.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(rtx.seq).toBe(synAck.seq);
    expect(h.listenDeltas()).toEqual({ TCPTimeouts: 1, TcpRetransSegs: 1, TCPSynRetrans: 1 });
    expect(thirdAck(h, rtx, 5000, CLIENT_C, { tsVal: 103 }).verdict).toBe('REQ_ESTABLISHED');
    expect(h.listenDeltas()).toEqual({ TcpPassiveOpens: 1 });
  });
});

describe.each(P_4_4_PLUS)('%s: duplicate SYNs (spec §8 retransmitted SYN)', (kernel) => {
  it(`${kernel}: a second copy within tcp_invalid_ratelimit gets nothing, TCPACKSkippedSynRecv+1`, () => {
    const { h } = pending(kernel);
    h.advanceTo(100);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 200 }).replies).toHaveLength(1);
    h.listenDeltas();
    h.advanceTo(599);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 300 });
    expect(verdict).toBe('REQ_OOW_RATELIMITED');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPACKSkippedSynRecv: 1 });
    h.advanceTo(600);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 400 }).replies).toHaveLength(1);
  });

  it(`${kernel}: a repeated SYN with an older TSval gets a bare ACK and PAWSEstab+1`, () => {
    const { h, synAck } = pending(kernel);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, tsVal: 50 });
    expect(verdict).toBe('REQ_PAWS_REJECT');
    const ack = only(replies);
    expect(ack.flags).toBe(TcpFlag.ACK);
    expect(ack.seq).toBe((synAck.seq + 1) >>> 0);
    expect(ack.ack).toBe(1001);
    expect(ack.tsEcr).toBe(100);
    expect(h.listenDeltas()).toEqual({ PAWSEstab: 1 });
    expect(queues(h).qlen).toBe(1);
  });
});

// 6.15+ "tcp: be less liberal in TSEcr received while in SYN_RECV state" (profile 6.x, the
// host's 6.18); older kernels establish whatever the TSecr.
describe('third ACK with a TSecr none of our SYN-ACKs sent (issue 15 item 12)', () => {
  function third(kernel: string, tsEcrOf: (synAckTsVal: number) => number, retransmitFirst = false) {
    const { h, synAck } = pending(kernel);
    if (retransmitFirst) h.advanceTo(kernel === '3.10' ? 1200 : 1000);
    h.listenDeltas();
    return { h, synAck, r: h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: tsEcrOf(synAck.tsVal!) >>> 0 }) };
  }

  it('6.x: TSecr 1000 past our TSval → ACK (seq ISN + 1, ack 1001), dropped, TSEcrRejected+1, request kept', () => {
    const { h, synAck, r } = third('6.x', (ts) => ts + 1000);
    expect(r.verdict).toBe('REQ_TSECR_REJECT');
    const ack = only(r.replies);
    expect([ack.flags, ack.seq, ack.ack]).toEqual([TcpFlag.ACK, (synAck.seq + 1) >>> 0, 1001]);
    expect(h.listenDeltas()).toEqual({ TSEcrRejected: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
  });

  it('6.x: after a SYN-ACK retransmit the first SYN-ACK\'s TSval is still a valid TSecr', () => {
    const { r } = third('6.x', (ts) => ts, true);
    expect(r.verdict).toBe('REQ_ESTABLISHED');
  });

  it('6.x: TSecr 0 is not checked', () => {
    const { r } = third('6.x', () => 0);
    expect(r.verdict).toBe('REQ_ESTABLISHED');
  });

  it.each(['3.10', '4.10', '5.15', '6.1', '6.8'])('%s: the same foreign TSecr establishes the connection (no such check)', (kernel) => {
    const { r } = third(kernel, (ts) => ts + 1000);
    expect(r.verdict).toBe('REQ_ESTABLISHED');
  });
});

// tcp_check_req (spec §3.1): a segment for a pending request — retransmitted SYN, third
// ACK, RST, out-of-window — and the request's life in the SYN queue.

import { TcpFlag } from '../wire/tcp.js';
import { TCP_RTO_MAX, TCP_TIMEOUT_INIT } from './constants.js';
import { apply, sendReset } from './output.js';
import { dropRequest, oowRateLimited, scheduleRequestTimer } from './request-queue.js';
import { ReqFlag } from './reqsk.js';
import type { Segment } from './segment.js';
import { inWindow } from './seq.js';
import { childReceive, createChild } from './sockets.js';
import type { KernelState } from './state.js';
import { requestReceiveWindow, sendRequestAck, sendRequestSynAck } from './synack.js';
import { Verdict } from './verdict.js';

/** A segment for a pending request (spec §3.1). Returns NONE to hand it to the listener. */
export function checkReq(state: KernelState, seg: Segment, slot: number): number {
  const r = state.requests;
  const sw = state.switches;
  const tcp = seg.tcp;
  const o = seg.options;
  const listener = state.listeners[r.listener[slot]!]!;
  const seq = tcp.seq;
  let flags = tcp.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN);
  const rcvIsn = r.rcvIsn[slot]!;
  const rcvNxt = (rcvIsn + 1) >>> 0;
  const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
  // R1: PAWS against the SYN's timestamp (paws window 0 here).
  const tsRecent = r.tsRecent[slot]!;
  const pawsReject = o.hasTimestamps && tstampOk && tsRecent !== 0 && ((tsRecent - o.tsVal) | 0) > 0;
  // R2: a retransmitted SYN → SYN-ACK again.
  if (seq === rcvIsn && flags === TcpFlag.SYN && !pawsReject) {
    if (sw.requestOowRateLimit && oowRateLimited(state, r.lastOowAck, slot)) {
      return apply(state, seg, Verdict.REQ_OOW_RATELIMITED, 0, listener);
    }
    sendRequestSynAck(state, slot, r.sntIsn[slot]!, true);
    scheduleRequestTimer(state, slot, listener, state.now + Math.min(TCP_TIMEOUT_INIT * 2 ** r.numTimeout[slot]!, TCP_RTO_MAX));
    return apply(state, seg, sw.counters.hasSynRetransCounters ? Verdict.REQ_SYN_RETRANSMIT : Verdict.REQ_SYN_RETRANSMIT_310, 0, listener);
  }
  // R3: an ACK for something we did not send → the listener answers with RST.
  if ((flags & TcpFlag.ACK) !== 0 && tcp.ack !== ((r.sntIsn[slot]! + 1) >>> 0)) {
    return Verdict.NONE;
  }
  // 6.15+ ("tcp: be less liberal in TSEcr received while in SYN_RECV state"): a TSecr that
  // echoes none of our SYN-ACKs' TSvals is rejected like an old timestamp.
  const tsecrReject =
    sw.requestTsecrCheck && tstampOk && o.hasTimestamps && o.tsEcr !== 0 && !tsecrEchoesSynAck(o.tsEcr, r.sntTsvalFirst[slot]!, r.sntTsvalLast[slot]!);
  // R4: PAWS, a foreign TSecr, or out of window → ACK (rate limited on 4.x+).
  const window = requestReceiveWindow(state, tstampOk, r.peerAddr[slot]!);
  if (pawsReject || tsecrReject || !inWindow(seq, (seq + tcp.payloadLength) >>> 0, rcvNxt, (rcvNxt + window) >>> 0)) {
    if ((flags & TcpFlag.RST) === 0) {
      if (sw.requestOowRateLimit && oowRateLimited(state, r.lastOowAck, slot)) {
        return apply(state, seg, Verdict.REQ_OOW_RATELIMITED, 0, listener);
      }
      sendRequestAck(state, slot);
    }
    return apply(state, seg, pawsReject ? Verdict.REQ_PAWS_REJECT : tsecrReject ? Verdict.REQ_TSECR_REJECT : Verdict.REQ_OUT_OF_WINDOW, 0, listener);
  }
  // R5: remember the newest timestamp — in the request, or (newest kernels) only in the
  // child that takes the request over.
  let childTsRecent = r.tsRecent[slot]!;
  if (o.hasTimestamps && ((seq - rcvNxt) | 0) <= 0) {
    childTsRecent = o.tsVal;
    if (state.switches.requestTsRecentUpdate === 'request') r.tsRecent[slot] = o.tsVal;
  }
  // R6: a SYN at the request's own ISN is the handshake's, not a new one.
  if (seq === rcvIsn) flags &= ~TcpFlag.SYN;
  // R7: RST or SYN → embryonic reset (RFC 5961 refinement for RST on 4.x+).
  if ((flags & TcpFlag.RST) !== 0) {
    if (sw.requestRstRule === 'exactSeq' && seq !== rcvNxt) {
      sendRequestAck(state, slot);
      return apply(state, seg, Verdict.REQ_CHALLENGE_ACK, 0, listener);
    }
    dropRequest(state, slot, listener);
    return apply(state, seg, Verdict.REQ_RESET, 0, listener);
  }
  if ((flags & TcpFlag.SYN) !== 0) {
    sendReset(state, seg);
    dropRequest(state, slot, listener);
    return apply(state, seg, Verdict.REQ_SYN_RESET, 0, listener);
  }
  // R8: no ACK → drop.
  if ((flags & TcpFlag.ACK) === 0) return apply(state, seg, Verdict.REQ_NO_ACK, 0, listener);
  // R9: TCP_DEFER_ACCEPT holds bare ACKs.
  if (r.numTimeout[slot]! < listener.deferAcceptRetrans && tcp.payloadLength === 0) {
    r.flags[slot]! |= ReqFlag.ACKED;
    return apply(state, seg, Verdict.REQ_DEFER_ACCEPT_DROP, 0, listener);
  }
  // R10: syn_recv_sock: accept queue full → listen_overflow.
  if (listener.acceptQueueFull()) {
    if (state.sysctls.hot.abortOnOverflow === 0) {
      r.flags[slot]! |= ReqFlag.ACKED;
      return apply(state, seg, Verdict.REQ_ACCEPTQ_OVERFLOW, listener.acceptQueueLength, listener);
    }
    sendReset(state, seg);
    dropRequest(state, slot, listener);
    return apply(state, seg, Verdict.REQ_ACCEPTQ_OVERFLOW_ABORT, listener.acceptQueueLength, listener);
  }
  // R11: the child takes over; the request leaves the SYN queue.
  const child = state.child;
  child.peerAddr = r.peerAddr[slot]!;
  child.peerPort = r.peerPort[slot]!;
  child.localPort = r.localPort[slot]!;
  child.iss = r.sntIsn[slot]!;
  child.irs = rcvIsn;
  child.peerMss = r.mss[slot]!;
  child.peerWindowScale = r.peerWindowScale[slot]!;
  child.sackOk = (r.flags[slot]! & ReqFlag.SACK) !== 0;
  child.timestamps = tstampOk;
  child.tsOffset = r.tsOffset[slot]!;
  child.tsRecent = childTsRecent;
  child.rcvWnd = window;
  child.ecnOk = (r.flags[slot]! & ReqFlag.ECN) !== 0;
  child.rttSample = r.numRetrans[slot] === 0 ? state.now - r.sentAt[slot]! : -1;
  const conn = createChild(state, listener, child);
  dropRequest(state, slot, listener);
  apply(state, seg, Verdict.REQ_ESTABLISHED, listener.acceptQueueLength, listener);
  childReceive(state, seg, conn);
  return Verdict.REQ_ESTABLISHED;
}

/** between(tsecr, first, last) in sequence space: our SYN-ACKs sent TSvals first … last. */
function tsecrEchoesSynAck(tsecr: number, first: number, last: number): boolean {
  return ((last - first) >>> 0) >= ((tsecr - first) >>> 0);
}

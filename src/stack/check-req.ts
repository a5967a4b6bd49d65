// tcp_check_req (spec §3.1): a segment for a pending request — retransmitted SYN, third
// ACK, RST, out-of-window — and the request's life in the SYN queue.

import type { Host } from './host.js';
import type { Listener } from './listener.js';
import { FLOW_REQUEST, TCP_RTO_MAX, TCP_SYNQ_INTERVAL, TCP_TIMEOUT_INIT } from './constants.js';
import { sendRequestSynAck } from './conn-request.js';
import { ReqFlag } from './reqsk.js';
import { inWindow } from './seq.js';
import { Verdict } from './verdict.js';
import { TcpFlag } from '../wire/tcp.js';

/** A segment for a pending request (spec §3.1). Returns NONE to hand it to the listener. */
export function checkReq(host: Host, slot: number): number {
  const r = host.requests;
  const sw = host.switches;
  const tcp = host.tcp;
  const o = host.options;
  const listener = host.listeners[r.listener[slot]!]!;
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
    if (sw.requestOowRateLimit && oowRateLimited(host, r.lastOowAck, slot)) {
      return host.apply(Verdict.REQ_OOW_RATELIMITED, 0, listener);
    }
    sendRequestSynAck(host, slot, r.sntIsn[slot]!, true);
    scheduleRequestTimer(host, slot, listener, host.now + Math.min(TCP_TIMEOUT_INIT * 2 ** r.numTimeout[slot]!, TCP_RTO_MAX));
    return host.apply(sw.counters.hasSynRetransCounters ? Verdict.REQ_SYN_RETRANSMIT : Verdict.REQ_SYN_RETRANSMIT_310, 0, listener);
  }
  // R3: an ACK for something we did not send → the listener answers with RST.
  if ((flags & TcpFlag.ACK) !== 0 && tcp.ack !== ((r.sntIsn[slot]! + 1) >>> 0)) {
    return Verdict.NONE;
  }
  // R4: PAWS or out of window → ACK (rate limited on 4.x+).
  const window = tstampOk ? sw.synackWindowWithTs : sw.synackWindowNoTs;
  if (pawsReject || !inWindow(seq, (seq + tcp.payloadLength) >>> 0, rcvNxt, (rcvNxt + window) >>> 0)) {
    if ((flags & TcpFlag.RST) === 0) {
      if (sw.requestOowRateLimit && oowRateLimited(host, r.lastOowAck, slot)) {
        return host.apply(Verdict.REQ_OOW_RATELIMITED, 0, listener);
      }
      sendRequestAck(host, slot);
    }
    return host.apply(pawsReject ? Verdict.REQ_PAWS_REJECT : Verdict.REQ_OUT_OF_WINDOW, 0, listener);
  }
  // R5: remember the newest timestamp — in the request, or (newest kernels) only in the
  // child that takes the request over.
  let childTsRecent = r.tsRecent[slot]!;
  if (o.hasTimestamps && ((seq - rcvNxt) | 0) <= 0) {
    childTsRecent = o.tsVal;
    if (host.switches.requestTsRecentUpdate === 'request') r.tsRecent[slot] = o.tsVal;
  }
  // R6: a SYN at the request's own ISN is the handshake's, not a new one.
  if (seq === rcvIsn) flags &= ~TcpFlag.SYN;
  // R7: RST or SYN → embryonic reset (RFC 5961 refinement for RST on 4.x+).
  if ((flags & TcpFlag.RST) !== 0) {
    if (sw.requestRstRule === 'exactSeq' && seq !== rcvNxt) {
      sendRequestAck(host, slot);
      return host.apply(Verdict.REQ_CHALLENGE_ACK, 0, listener);
    }
    dropRequest(host, slot, listener);
    return host.apply(Verdict.REQ_RESET, 0, listener);
  }
  if ((flags & TcpFlag.SYN) !== 0) {
    host.sendReset();
    dropRequest(host, slot, listener);
    return host.apply(Verdict.REQ_SYN_RESET, 0, listener);
  }
  // R8: no ACK → drop.
  if ((flags & TcpFlag.ACK) === 0) return host.apply(Verdict.REQ_NO_ACK, 0, listener);
  // R9: TCP_DEFER_ACCEPT holds bare ACKs.
  if (r.numTimeout[slot]! < listener.deferAcceptRetrans && tcp.payloadLength === 0) {
    r.flags[slot]! |= ReqFlag.ACKED;
    return host.apply(Verdict.REQ_DEFER_ACCEPT_DROP, 0, listener);
  }
  // R10: syn_recv_sock: accept queue full → listen_overflow.
  if (listener.acceptQueueFull()) {
    if (host.sysctls.hot.abortOnOverflow === 0) {
      r.flags[slot]! |= ReqFlag.ACKED;
      return host.apply(Verdict.REQ_ACCEPTQ_OVERFLOW, listener.acceptQueueLength, listener);
    }
    host.sendReset();
    dropRequest(host, slot, listener);
    return host.apply(Verdict.REQ_ACCEPTQ_OVERFLOW_ABORT, listener.acceptQueueLength, listener);
  }
  // R11: the child takes over; the request leaves the SYN queue.
  const conn = host.createChild(
    listener,
    r.peerAddr[slot]!,
    r.peerPort[slot]!,
    r.localPort[slot]!,
    r.sntIsn[slot]!,
    rcvIsn,
    r.mss[slot]!,
    r.peerWindowScale[slot]!,
    (r.flags[slot]! & ReqFlag.SACK) !== 0,
    tstampOk,
    r.tsOffset[slot]!,
    childTsRecent,
    r.numRetrans[slot] === 0 ? host.now - r.sentAt[slot]! : -1,
  );
  dropRequest(host, slot, listener);
  host.apply(Verdict.REQ_ESTABLISHED, listener.acceptQueueLength, listener);
  host.childReceive(conn);
  return Verdict.REQ_ESTABLISHED;
}

/** __tcp_oow_rate_limited: at most one answer per tcp_invalid_ratelimit ms. */
export function oowRateLimited(host: Host, lastAnswer: Float64Array, slot: number): boolean {
  const elapsed = host.now - lastAnswer[slot]!;
  if (elapsed >= 0 && elapsed < host.sysctls.hot.invalidRatelimit) {
    return true;
  }
  lastAnswer[slot] = host.now;
  return false;
}

/** tcp_v4_reqsk_send_ack: seq snt_isn+1, ack rcv_nxt, our window, TSecr = ts_recent. */
export function sendRequestAck(host: Host, slot: number): void {
  const r = host.requests;
  const sw = host.switches;
  const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
  const spec = host.spec.reset();
  spec.srcAddr = host.address;
  spec.dstAddr = r.peerAddr[slot]!;
  spec.srcPort = r.localPort[slot]!;
  spec.dstPort = r.peerPort[slot]!;
  spec.seq = (r.sntIsn[slot]! + 1) >>> 0;
  spec.ack = (r.rcvIsn[slot]! + 1) >>> 0;
  spec.flags = TcpFlag.ACK;
  const ws = r.peerWindowScale[slot]! >= 0 ? sw.synackWindowScale : 0;
  spec.window = (tstampOk ? sw.synackWindowWithTs : sw.synackWindowNoTs) >>> ws;
  if (tstampOk) {
    spec.hasTimestamps = true;
    spec.tsVal = (host.tsNow() + r.tsOffset[slot]!) >>> 0;
    spec.tsEcr = r.tsRecent[slot]!;
  }
  host.emit(spec);
}

/** inet_csk_reqsk_queue_drop: unlink, fix qlen/young, stop the timer. */
export function dropRequest(host: Host, slot: number, listener: Listener): void {
  const r = host.requests;
  // The child may already own the 4-tuple (it replaces the request in the ehash).
  if (host.flows.get(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!) === ((slot << 2) | FLOW_REQUEST)) {
    host.flows.delete(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!);
  }
  host.requestTimers.cancel(slot);
  listener.qlen--;
  if (r.numTimeout[slot] === 0) listener.young--;
  r.free(slot);
}

export function scheduleRequestTimer(host: Host, slot: number, listener: Listener, at: number): void {
  if (host.switches.synackTimer === 'listener200ms') {
    // 3.10: one listener timer, first at +1 s after the queue became non-empty, then every
    // 200 ms; expiries take effect on its ticks (spec §4.2).
    const first = listener.pruneTimerStart + TCP_TIMEOUT_INIT;
    at = at <= first ? first : first + Math.ceil((at - first) / TCP_SYNQ_INTERVAL) * TCP_SYNQ_INTERVAL;
  }
  host.requestTimers.schedule(slot, at);
}

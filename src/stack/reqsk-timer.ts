// reqsk_timer_handler (4.4+) / inet_csk_reqsk_queue_prune (3.10): SYN-ACK retransmission,
// the young/old threshold and request expiry (spec §4).

import { TCP_RTO_MAX, TCP_TIMEOUT_INIT } from './constants.js';
import type { Listener } from './listener.js';
import { apply } from './output.js';
import { dropRequest, scheduleRequestTimer } from './request-queue.js';
import { nextRunReaching, synTableBucket } from './prune-scan.js';
import { ReqFlag } from './reqsk.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { sendRequestSynAck } from './synack.js';
import { Verdict } from './verdict.js';

/** reqsk_timer_handler / inet_csk_reqsk_queue_prune for one request (spec §4.1–§4.3). */
/** `flow` is scratch for the request's flow: the timer's events carry it. */
export function requestTimerFired(state: KernelState, flow: Segment, slot: number): void {
  const r = state.requests;
  const sw = state.switches;
  const listener = state.listeners[r.listener[slot]!]!;
  if (sw.synackTimer === 'listener200ms') {
    // 3.10: only when this run's walk reaches the request's bucket (spec §4.2).
    const at = nextRunReaching(listener, synTableBucket(state, listener, r.peerAddr[slot]!, r.peerPort[slot]!), state.now);
    if (at !== state.now) {
      state.requestTimers.schedule(slot, at);
      return;
    }
  }
  flow.forFlow(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!, r.sntIsn[slot]!, r.rcvIsn[slot]!);
  const maxRetries = listener.synRetries || state.sysctls.hot.synackRetries;
  const thresh = retryThreshold(state, listener, maxRetries);
  const k = r.numTimeout[slot]!;
  const acked = (r.flags[slot]! & ReqFlag.ACKED) !== 0;
  const defer = listener.deferAcceptRetrans;
  let expire: boolean;
  let resend: boolean;
  if (defer === 0) {
    expire = k >= thresh;
    resend = true;
  } else {
    // max_retries becomes rskq_defer_accept (spec §3.3, §4.2, §4.3 syn_ack_recalc).
    expire = k >= thresh && (!acked || k >= defer);
    resend = !acked || k >= defer - 1;
  }
  if (!expire) {
    if (k === 0) listener.young--;
    r.numTimeout[slot] = k + 1;
    scheduleRequestTimer(state, slot, listener, state.now + Math.min(TCP_TIMEOUT_INIT * 2 ** (k + 1), TCP_RTO_MAX));
    if (resend) {
      sendRequestSynAck(state, slot, r.sntIsn[slot]!, true);
      apply(state, flow, sw.counters.hasSynRetransCounters ? Verdict.REQ_TIMEOUT_RETRANSMIT : Verdict.REQ_TIMEOUT_RETRANSMIT_310, k + 1, listener);
    } else {
      apply(state, flow, Verdict.REQ_TIMEOUT_SILENT, k + 1, listener);
    }
    return;
  }
  dropRequest(state, slot, listener);
  apply(state, flow, Verdict.REQ_EXPIRED, k, listener);
}

/** "Reserve half of the queue for young requests" (spec §4.2 for 3.10, §4.3 for 4.4+). */
export function retryThreshold(state: KernelState, listener: Listener, maxRetries: number): number {
  // 3.10's inet_csk_reqsk_queue_prune computes thresh once per 200 ms run, from qlen and
  // young as they were when the run began, then applies it to every request expiring in
  // that run (spec §4.2); 4.4+ recompute it per request timer (spec §4.3).
  if (state.switches.synackTimer === 'listener200ms') {
    if (listener.pruneRunAt !== state.now) {
      listener.pruneRunAt = state.now;
      listener.pruneRunThresh = computeRetryThreshold(state, listener, maxRetries);
    }
    return listener.pruneRunThresh;
  }
  return computeRetryThreshold(state, listener, maxRetries);
}

export function computeRetryThreshold(state: KernelState, listener: Listener, maxRetries: number): number {
  let thresh = maxRetries;
  const qlen = listener.qlen;
  const pressure =
    state.switches.synQueueSizing === 'pow2'
      ? qlen >> (listener.maxQlenLog - 1) !== 0
      : qlen * 2 > Math.max(8, listener.maxAckBacklog);
  if (pressure) {
    let young2 = listener.young * 2;
    while (thresh > 2) {
      if (qlen < young2) break;
      thresh--;
      young2 *= 2;
    }
  }
  return thresh;
}

// The SYN queue's bookkeeping shared by tcp_conn_request, tcp_check_req, the request timer
// and TIME_WAIT: unlinking a request, arming its timer, and the out-of-window rate limit.

import { FLOW_REQUEST, TCP_SYNQ_INTERVAL, TCP_TIMEOUT_INIT } from './constants.js';
import type { Listener } from './listener.js';
import type { KernelState } from './state.js';

/** __tcp_oow_rate_limited: at most one answer per tcp_invalid_ratelimit ms. */
export function oowRateLimited(state: KernelState, lastAnswer: Float64Array, slot: number): boolean {
  const elapsed = state.now - lastAnswer[slot]!;
  if (elapsed >= 0 && elapsed < state.sysctls.hot.invalidRatelimit) {
    return true;
  }
  lastAnswer[slot] = state.now;
  return false;
}

/** inet_csk_reqsk_queue_drop: unlink, fix qlen/young, stop the timer. */
export function dropRequest(state: KernelState, slot: number, listener: Listener): void {
  const r = state.requests;
  // The child may already own the 4-tuple (it replaces the request in the ehash).
  if (state.flows.get(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!) === ((slot << 2) | FLOW_REQUEST)) {
    state.flows.delete(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!);
  }
  state.requestTimers.cancel(slot);
  if (--listener.qlen === 0) listener.qlenEmptySince = state.now;
  if (r.numTimeout[slot] === 0) listener.young--;
  r.free(slot);
}

export function scheduleRequestTimer(state: KernelState, slot: number, listener: Listener, at: number): void {
  if (state.switches.synackTimer === 'listener200ms') {
    // 3.10: one listener timer, first at +1 s after the queue became non-empty, then every
    // 200 ms; expiries take effect on its ticks (spec §4.2).
    const first = listener.pruneTimerStart + TCP_TIMEOUT_INIT;
    at = at <= first ? first : first + Math.ceil((at - first) / TCP_SYNQ_INTERVAL) * TCP_SYNQ_INTERVAL;
  }
  state.requestTimers.schedule(slot, at);
}

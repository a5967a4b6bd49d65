// tcp_conn_request / tcp_v4_conn_request (spec §1.1 for 3.10, §1.2 for 4.4+): what a SYN
// on a listener becomes — a queued request, a cookie, or a silent drop — and the SYN-ACK.

import { ipv4ToString } from '../wire/addr.js';
import { TcpFlag } from '../wire/tcp.js';
import { FLOW_REQUEST, TCP_MSS_DEFAULT, TCP_PAWS_MSL_SEC, TCP_PAWS_WINDOW, TCP_TIMEOUT_INIT } from './constants.js';
import type { Listener } from './listener.js';
import { apply, count, emit } from './output.js';
import { restartPruneSeries } from './prune-scan.js';
import { scheduleRequestTimer } from './request-queue.js';
import { ReqFlag } from './reqsk.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { synAckSpec, sendRequestSynAck } from './synack.js';
import { cookieMinute, cookieMssIndex, cookieTimestamp, makeCookie } from './syncookies.js';
import { Verdict } from './verdict.js';

/**
 * tcp_v4_conn_request + tcp_conn_request (spec §1.1 C1–C11 for 3.10, §1.2 D1–D9 for 4.4+).
 * `seg.timewaitIsn` ≠ 0: the SYN reused a TIME_WAIT 4-tuple (§1.9) and skips the flood and
 * peer checks.
 */
export function connRequest(state: KernelState, seg: Segment, listener: Listener): number {
  const src = seg.peerAddr;
  let isn = seg.timewaitIsn;
  const sw = state.switches;
  const sysctls = state.sysctls;
  // C1 / 4.4+ tcp_v4_conn_request: broadcast or multicast destination.
  if (seg.toBroadcast) return apply(state, seg, Verdict.DROP_BROADCAST, 0, listener);
  const syncookies = sysctls.hot.syncookies;
  const alwaysCookies = syncookies === 2 && sw.syncookiesAlwaysMode;
  let wantCookie = false;
  // C2 / D1: SYN queue full (or tcp_syncookies=2) → tcp_syn_flood_action (§1.3).
  if (isn === 0 && (alwaysCookies || listener.synQueueFull(sw))) {
    wantCookie = synFloodAction(state, seg, listener, syncookies, alwaysCookies);
    if (!wantCookie) return apply(state, seg, Verdict.DROP_REQQ_FULL, listener.qlen, listener);
  }
  // C3 / D2: accept queue full (§1.5), with the version's young rule (note A).
  if (listener.acceptQueueFull()) {
    if (sw.synDropRule === 'full') return apply(state, seg, Verdict.DROP_ACCEPTQ_FULL, listener.acceptQueueLength, listener);
    if (listener.young > 1) return apply(state, seg, Verdict.DROP_ACCEPTQ_FULL_YOUNG, listener.young, listener);
  }
  // C5 / D4: options that survive into the request (§1.7).
  const o = seg.options;
  const tcp = seg.tcp;
  // tcp_parse_options ignores an MSS option of 0.
  const mss = o.hasMss && o.mss !== 0 ? o.mss : TCP_MSS_DEFAULT;
  let sackOk = o.sackPermitted;
  let peerWindowScale = o.hasWindowScale ? o.windowScale : -1;
  const tstampOk = o.hasTimestamps;
  seg.ecnOk = synAsksForEcn(state, seg);
  if (wantCookie && !tstampOk) {
    // tcp_clear_options: a cookie without timestamps cannot carry wscale or SACK.
    sackOk = false;
    peerWindowScale = -1;
  }
  const sport = seg.peerPort;
  const dport = seg.localPort;
  const tsOffset = tstampOk ? state.tsOffsetFor(src, sport, dport) : 0;
  if (wantCookie) return sendCookieSynAck(state, seg, listener, src, sport, dport, mss, sackOk, peerWindowScale, tstampOk, tsOffset);
  if (isn === 0) {
    // C8a/C8b, D5/D5': the per-host PAWS check (tw_recycle) or the unproven-peer rule.
    const verdict = peerChecks(state, seg, listener, src, syncookies, tstampOk);
    if (verdict !== Verdict.NONE) return verdict;
    isn = state.secureIsn(src, sport, dport);
  }
  // C11 / D9: queue the request; send the SYN-ACK.
  const slot = state.requests.allocate();
  const r = state.requests;
  r.peerAddr[slot] = src;
  r.peerPort[slot] = sport;
  r.localPort[slot] = dport;
  r.listener[slot] = listener.index;
  r.rcvIsn[slot] = tcp.seq;
  r.sntIsn[slot] = isn;
  r.tsRecent[slot] = tstampOk ? o.tsVal : 0;
  r.tsOffset[slot] = tsOffset;
  r.mss[slot] = mss;
  r.peerWindowScale[slot] = peerWindowScale;
  r.flags[slot]! |= (sackOk ? ReqFlag.SACK : 0) | (tstampOk ? ReqFlag.TIMESTAMPS : 0) | (seg.ecnOk ? ReqFlag.ECN : 0);
  r.sentAt[slot] = state.now;
  state.flows.set(src, sport, dport, (slot << 2) | FLOW_REQUEST);
  if (listener.qlen === 0) restartPruneSeries(listener, state.now);
  listener.qlen++;
  listener.young++;
  scheduleRequestTimer(state, slot, listener, state.now + TCP_TIMEOUT_INIT);
  sendRequestSynAck(state, slot, isn, false);
  return apply(state, seg, Verdict.SYN_QUEUED, listener.qlen, listener);
}

/** tcp_syn_flood_action (spec §1.3): cookie or drop, and the once-per-listener warning. */
export function synFloodAction(state: KernelState, seg: Segment, listener: Listener, syncookies: number, alwaysCookies: boolean): boolean {
  const want = syncookies !== 0;
  if (want) count(state, Verdict.FLOOD_DO_COOKIES, listener);
  // The warning: once per listener; 4.4+ skip it when tcp_syncookies=2.
  const quiet = alwaysCookies && state.switches.synFloodLog !== 'v3.10';
  if (!listener.synfloodWarned && !quiet) {
    listener.synfloodWarned = true;
    state.kernelLog.push(floodWarning(state, listener, want, seg.ipv6));
    apply(state, seg, Verdict.FLOOD_WARNING, want ? 1 : 0, listener);
  }
  return want;
}

/**
 * The log line, word for word per version (spec §1.3). An IPv6 SYN names the IPv6 request ops:
 * "TCPv6" (3.10's tcp_v6_conn_request) or request_sock_TCPv6 (tcp6_request_sock_ops.slab_name,
 * 4.4+), and 6.2+ write an AF_INET6 listener's address as [%pI6c] — [::] here, the IPv6 listener
 * is always the wildcard. Read in net/ipv6/tcp_ipv6.c and tcp_syn_flood_action; measured by
 * `syndrop verify --family 6` on a 6.18 host.
 */
export function floodWarning(state: KernelState, listener: Listener, cookies: boolean, ipv6 = false): string {
  const action = cookies ? 'Sending cookies' : 'Dropping request';
  const v6 = ipv6 ? 'v6' : '';
  switch (state.switches.synFloodLog) {
    case 'v3.10':
      return `TCP: TCP${v6}: Possible SYN flooding on port ${listener.port}. ${action}.  Check SNMP counters.`;
    case 'v4.4':
      return `TCP: request_sock_TCP${v6}: Possible SYN flooding on port ${listener.port}. ${action}.  Check SNMP counters.`;
    default:
      // 6.2+ names the listener's bound address (0.0.0.0 for a wildcard listener, §8a, §8).
      return `TCP: request_sock_TCP${v6}: Possible SYN flooding on port ${ipv6 ? '[::]' : ipv4ToString(listener.boundAddress)}:${listener.port}. ${action}.`;
  }
}

/** C8a/C8b (3.10), D5 (4.4–4.11), D5' (4.12+). Returns NONE to go on. */
export function peerChecks(state: KernelState, seg: Segment, listener: Listener, src: number, syncookies: number, tstampOk: boolean): number {
  const sw = state.switches;
  const twRecycle = sw.hasTwRecycle && state.sysctls.hot.twRecycle !== 0;
  // 3.10 takes the tw_recycle branch only when the SYN has timestamps; 4.4–4.11 always.
  if (twRecycle && (tstampOk || sw.pawsPassiveRule === 'alsoNoTs')) {
    if (!peerIsProvenPaws(state, seg, src, tstampOk)) return apply(state, seg, Verdict.DROP_PAWS_PASSIVE, 0, listener);
    return Verdict.NONE;
  }
  const maxSynBacklog = state.sysctls.hot.maxSynBacklog;
  if (syncookies === 0 && maxSynBacklog - listener.qlen < maxSynBacklog >> 2 && !peerIsProven(state, src)) {
    return apply(state, seg, Verdict.DROP_UNPROVEN_PEER, listener.qlen, listener);
  }
  return Verdict.NONE;
}

/** tcp_peer_is_proven(req, dst, paws_check=true) (spec §2.3). */
export function peerIsProvenPaws(state: KernelState, seg: Segment, src: number, tstampOk: boolean): boolean {
  const entry = state.metrics.lookup(src);
  // tcpm_ts_stamp 0 = nothing remembered: never "fresh" (the kernel's seconds clock is far from 0).
  if (entry === undefined || entry.tsStamp === 0 || state.nowSeconds() - entry.tsStamp >= TCP_PAWS_MSL_SEC) return true;
  if (!tstampOk) return false; // 4.4: `|| !timestamps`
  return ((entry.ts - seg.options.tsVal) | 0) <= TCP_PAWS_WINDOW;
}

/** tcp_peer_is_proven(req, dst, paws_check=false): dst is NULL before 4.14 (spec §1.1 notes). */
export function peerIsProven(state: KernelState, src: number): boolean {
  if (state.switches.unprovenPeerRule === 'neverProven') return false;
  const entry = state.metrics.lookup(src);
  return entry !== undefined && entry.rtt !== 0;
}

export function sendCookieSynAck(
  state: KernelState,
  seg: Segment,
  listener: Listener,
  src: number,
  sport: number,
  dport: number,
  mss: number,
  sackOk: boolean,
  peerWindowScale: number,
  tstampOk: boolean,
  tsOffset: number,
): number {
  const sw = state.switches;
  // cookie_v4_init_sequence / cookie_v6_init_sequence: the family's table and addresses.
  const table = state.cookieMssTableFor(src);
  const mssIndex = cookieMssIndex(table, mss);
  const minute = cookieMinute(state.cookieClockBase, state.now);
  const clientIsn = seg.tcp.seqI32;
  const isn = makeCookie(state.keys, state.peerWord(src), state.localWord(src), sport, dport, clientIsn, minute, mssIndex);
  // tcp_synq_overflow: remember when the last cookie went out (≥3.13: at most once a second).
  if (!sw.cookieOverflowStampEverySecond || state.now > listener.lastOverflow + 1000) listener.lastOverflow = state.now;
  const spec = synAckSpec(state, src, sport, dport, isn, clientIsn, sackOk, peerWindowScale, tstampOk);
  if (seg.ecnOk) spec.flags |= TcpFlag.ECE;
  if (tstampOk) {
    spec.tsVal = (cookieTimestamp(state.tsNow(), peerWindowScale, sackOk, seg.ecnOk) + tsOffset) | 0;
    spec.tsEcr = seg.options.tsVal;
  }
  emit(state, spec);
  return apply(state, seg, sw.cookieCountsListenDrop ? Verdict.SYN_COOKIE_LISTENDROP : Verdict.SYN_COOKIE, mssIndex, listener);
}

/**
 * tcp_ecn_create_request: the SYN asks for ECN (ECE and CWR) without being ECT-marked itself,
 * and tcp_ecn allows answering (1 or 2). Without timestamps a cookie cannot carry the
 * agreement, but the cookie SYN-ACK still says ECE (spec §3, §1.10).
 */
function synAsksForEcn(state: KernelState, seg: Segment): boolean {
  const ecnFlags = TcpFlag.ECE | TcpFlag.CWR;
  return state.sysctls.hot.ecn !== 0 && (seg.flags & ecnFlags) === ecnFlags && (seg.ipv6 ? seg.ip6.ecn : seg.ip.ecn) === 0;
}

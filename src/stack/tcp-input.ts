// tcp_v4_rcv / tcp_v6_rcv after the IP layer (spec §1.0): one demux for both families. The
// segment is handed to the socket it belongs to — request, full socket, TIME_WAIT bucket
// or listener — by the peer's 32-bit key, an IPv4 address or an IPv6 key (peers6.ts).

import { TcpFlag } from '../wire/tcp.js';
import { checkReq } from './check-req.js';
import { connRequest } from './conn-request.js';
import { FLOW_CONN, FLOW_REQUEST } from './constants.js';
import { cookieCheck } from './cookie-check.js';
import { connReceive } from './established.js';
import type { Listener } from './listener.js';
import { WIRE_ERROR_COUNTERS } from './mib.js';
import { apply, sendReset } from './output.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { timewaitReceive } from './timewait-sock.js';
import { Verdict } from './verdict.js';

export function rejectMalformed(state: KernelState, seg: Segment, error: number): number {
  state.counters[WIRE_ERROR_COUNTERS[error]!]!++;
  return apply(state, seg, Verdict.MALFORMED, error);
}

/** tcp_parse_options records options only when the sysctls allow them (spec §1.7). */
export function applySysctlsToOptions(state: KernelState, seg: Segment): void {
  const o = seg.options;
  const hot = state.sysctls.hot;
  if (o.hasTimestamps && hot.timestamps === 0) o.hasTimestamps = false;
  if (o.sackPermitted && hot.sack === 0) o.sackPermitted = false;
  if (o.hasWindowScale && hot.windowScaling === 0) o.hasWindowScale = false;
}

/** tcp_v4_rcv / tcp_v6_rcv: ehash (request, full socket, TIME_WAIT), then the listener (spec §1.0). */
export function tcpReceive(state: KernelState, seg: Segment): number {
  // The ports and flags as ip_rcv read them into the segment (no second read of the bytes).
  const flow = seg.toBroadcast ? -1 : state.flows.get(seg.peerAddr, seg.peerPort, seg.localPort);
  if (flow >= 0) {
    const kind = flow & 3;
    const index = flow >>> 2;
    if (kind === FLOW_REQUEST) {
      const verdict = checkReq(state, seg, index);
      if (verdict !== Verdict.NONE) return verdict;
      // tcp_check_req handed the segment back to the listener (§3.1 R3). 3.10 answers it
      // from tcp_rcv_state_process (LISTEN + ACK → RST) without a cookie check, so no
      // SyncookiesFailed (spec §1.0, §9a #46); 4.4+ go on to the listener path below.
      if (state.switches.requestRejectedAckPath === 'listenerRst') {
        sendReset(state, seg);
        return apply(state, seg, Verdict.REQ_BAD_ACK);
      }
    } else if (kind === FLOW_CONN) {
      return connReceive(state, seg, state.connections.get(index)!);
    } else {
      const verdict = timewaitReceive(state, seg, index);
      if (verdict !== Verdict.SYN_TIMEWAIT_REUSE) return verdict;
    }
  }
  return listenerReceive(state, seg);
}

/** A segment for a listening port with no matching flow (spec §1.0). */
function listenerReceive(state: KernelState, seg: Segment): number {
  const found = state.listenerFor(seg.localPort);
  const listener = found !== undefined && listenerMatches(state, seg, found) ? found : undefined;
  const flags = seg.flags;
  if (listener === undefined) {
    if ((flags & TcpFlag.RST) !== 0 || seg.toBroadcast) return apply(state, seg, Verdict.DROP_NO_SOCKET_RST);
    sendReset(state, seg);
    return apply(state, seg, Verdict.RST_NO_LISTENER);
  }
  if ((flags & TcpFlag.SYN) === 0) {
    if ((flags & TcpFlag.ACK) !== 0 && (flags & TcpFlag.RST) === 0) return cookieCheck(state, seg, listener);
    if ((flags & TcpFlag.RST) !== 0) return apply(state, seg, Verdict.DROP_LISTEN_RST);
    return apply(state, seg, Verdict.DROP_LISTEN_OTHER);
  }
  if ((flags & TcpFlag.ACK) !== 0) {
    sendReset(state, seg);
    return apply(state, seg, Verdict.RST_STRAY_ACK);
  }
  if ((flags & TcpFlag.RST) !== 0) return apply(state, seg, Verdict.DROP_LISTEN_RST);
  if ((flags & TcpFlag.FIN) !== 0) return apply(state, seg, Verdict.DROP_SYN_FIN);
  return connRequest(state, seg, listener);
}

/**
 * __inet_lookup_listener / inet6_lookup_listener: a listener bound to one IPv4 address
 * matches only segments to it; a wildcard one answers the families `--family` names (a
 * dual-stack [::] socket, or a 0.0.0.0 one alone, or an IPV6_V6ONLY one alone).
 */
function listenerMatches(state: KernelState, seg: Segment, listener: Listener): boolean {
  const families = state.listenFamilies;
  if (seg.ipv6) return listener.boundAddress === 0 && families !== '4';
  if (families === '6') return false;
  return listener.boundAddress === 0 || listener.boundAddress === seg.ip.dstAddr >>> 0;
}

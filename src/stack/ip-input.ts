// ip_rcv → tcp_v4_rcv / icmp_rcv (spec §1.0): a frame from the TUN checked, counted and
// handed to the socket it belongs to — request, full socket, TIME_WAIT bucket or listener.

import { isMulticastOrBroadcast } from '../wire/addr.js';
import { writeIcmpEchoReply } from '../wire/builder.js';
import { IcmpType, IcmpView } from '../wire/icmp.js';
import { IpProtocol, Ipv4Field, Ipv4View, readI32, readU32 } from '../wire/ipv4.js';
import { TcpField, TcpFlag, TcpView } from '../wire/tcp.js';
import { WireError } from '../wire/wire-error.js';
import { checkReq } from './check-req.js';
import { connRequest } from './conn-request.js';
import { FLOW_CONN, FLOW_REQUEST } from './constants.js';
import { cookieCheck } from './cookie-check.js';
import { connReceive } from './established.js';
import { Counter, WIRE_ERROR_COUNTERS } from './mib.js';
import { apply, sendReset } from './output.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { timewaitReceive } from './timewait-sock.js';
import { Verdict } from './verdict.js';

/** One frame from the TUN. Returns the verdict of its last decision (for pcap comments). */
export function ipReceive(state: KernelState, seg: Segment, buf: Uint8Array, off: number, len: number): number {
  const c = state.counters;
  c[Counter.RxFrames]!++;
  c[Counter.IpInReceives]!++;
  const ipError = Ipv4View.check(buf, off, len);
  if (ipError !== WireError.Ok) {
    seg.begin(0);
    c[ipError === WireError.Fragment ? Counter.IpReasmFails : Counter.IpInHdrErrors]!++;
    return rejectMalformed(state, seg, ipError);
  }
  // Header fields read once, straight from the checked bytes (RFC 791 offsets): the getters
  // of Ipv4View/TcpView were not all inlined into this long function.
  seg.ip.reset(buf, off, len);
  const headerLength = (buf[off]! & 0x0f) << 2;
  const payloadOffset = off + headerLength;
  const payloadLength = ((buf[off + 2]! << 8) | buf[off + 3]!) - headerLength;
  const src = readU32(buf, off + Ipv4Field.SRC_ADDR);
  const dst = readU32(buf, off + Ipv4Field.DST_ADDR);
  seg.begin(src);
  const toBroadcast = dst === state.broadcast || isMulticastOrBroadcast(dst);
  seg.toBroadcast = toBroadcast;
  if (dst !== state.address && !toBroadcast) return apply(state, seg, Verdict.NOT_FOR_US);
  const protocol = buf[off + Ipv4Field.PROTOCOL]!;
  if (protocol === IpProtocol.TCP) {
    const tcpError = TcpView.check(buf, payloadOffset, payloadLength, src, dst, seg.options);
    if (tcpError !== WireError.Ok) {
      c[Counter.InErrs]!++;
      if (tcpError === WireError.BadTcpChecksum) c[Counter.InCsumErrors]!++;
      return rejectMalformed(state, seg, tcpError);
    }
    c[Counter.RxAccepted]!++;
    c[Counter.IpInDelivers]!++;
    c[Counter.InSegs]!++;
    seg.tcp.reset(buf, payloadOffset, payloadLength);
    const flags = buf[payloadOffset + TcpField.FLAGS]!;
    seg.peerPort = (buf[payloadOffset]! << 8) | buf[payloadOffset + 1]!;
    seg.localPort = (buf[payloadOffset + 2]! << 8) | buf[payloadOffset + 3]!;
    seg.seq = readI32(buf, payloadOffset + TcpField.SEQ);
    seg.ack = readI32(buf, payloadOffset + TcpField.ACK);
    seg.flags = flags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) c[Counter.RxSyn]!++;
    applySysctlsToOptions(state, seg);
    return tcpReceive(state, seg);
  }
  if (protocol === IpProtocol.ICMP) {
    if (IcmpView.check(buf, payloadOffset, payloadLength) !== WireError.Ok) {
      c[Counter.IcmpInErrors]!++;
      return rejectMalformed(state, seg, WireError.BadIcmp);
    }
    c[Counter.RxAccepted]!++;
    c[Counter.IpInDelivers]!++;
    c[Counter.IcmpInMsgs]!++;
    return icmpReceive(state, seg, buf, payloadOffset, payloadLength);
  }
  return apply(state, seg, Verdict.UNKNOWN_PROTO);
}

function rejectMalformed(state: KernelState, seg: Segment, error: number): number {
  state.counters[WIRE_ERROR_COUNTERS[error]!]!++;
  return apply(state, seg, Verdict.MALFORMED, error);
}

/** tcp_parse_options records options only when the sysctls allow them (spec §1.7). */
function applySysctlsToOptions(state: KernelState, seg: Segment): void {
  const o = seg.options;
  const hot = state.sysctls.hot;
  if (o.hasTimestamps && hot.timestamps === 0) o.hasTimestamps = false;
  if (o.sackPermitted && hot.sack === 0) o.sackPermitted = false;
  if (o.hasWindowScale && hot.windowScaling === 0) o.hasWindowScale = false;
}

function icmpReceive(state: KernelState, seg: Segment, buf: Uint8Array, off: number, len: number): number {
  const icmp = seg.icmp.reset(buf, off, len);
  // icmp_echo_ignore_broadcasts defaults to 1.
  if (icmp.type !== IcmpType.ECHO_REQUEST || seg.toBroadcast) return apply(state, seg, Verdict.ICMP_IGNORED);
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = seg.peerAddr;
  spec.dontFragment = false;
  const tx = state.tx;
  const at = tx.reserve();
  tx.commit(writeIcmpEchoReply(tx.slab, at, spec, buf, off, len));
  state.counters[Counter.IpOutRequests]!++;
  return apply(state, seg, Verdict.ICMP_ECHO_REPLY);
}

/** tcp_v4_rcv: ehash (request, full socket, TIME_WAIT), then the listener (spec §1.0). */
function tcpReceive(state: KernelState, seg: Segment): number {
  const tcp = seg.tcp;
  const flow = seg.toBroadcast ? -1 : state.flows.get(seg.peerAddr, tcp.srcPort, tcp.dstPort);
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
  const tcp = seg.tcp;
  const found = state.listenerFor(tcp.dstPort);
  // __inet_lookup_listener: a listener bound to one address matches only segments to it.
  const listener = found !== undefined && (found.boundAddress === 0 || found.boundAddress === seg.ip.dstAddr >>> 0) ? found : undefined;
  const flags = tcp.flags;
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

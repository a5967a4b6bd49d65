// ip_rcv → tcp_v4_rcv / icmp_rcv (spec §1.0): a frame from the TUN checked, counted and
// handed to TCP (tcp-input.ts) or answered here (ICMP echo). IPv6 frames go to ip6-input.ts.

import { isMulticastOrBroadcast } from '../wire/addr.js';
import { pseudoHeaderSum } from '../wire/checksum.js';
import { writeIcmpEchoReply } from '../wire/builder.js';
import { IcmpType, IcmpView } from '../wire/icmp.js';
import { IpProtocol, Ipv4Field, Ipv4View, readI32, readU32 } from '../wire/ipv4.js';
import { CHECKSUM_UNNECESSARY, TcpField, TcpFlag, TcpView } from '../wire/tcp.js';
import { WireError } from '../wire/wire-error.js';
import { ip6Receive } from './ip6-input.js';
import { Counter } from './mib.js';
import { apply } from './output.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { applySysctlsToOptions, rejectMalformed, tcpReceive } from './tcp-input.js';
import { Verdict } from './verdict.js';

/** One frame from the TUN. Returns the verdict of its last decision (for pcap comments). */
export function ipReceive(state: KernelState, seg: Segment, buf: Uint8Array, off: number, len: number): number {
  const c = state.counters;
  c[Counter.RxFrames]!++;
  // The version nibble picks ip_rcv or ipv6_rcv, as the TUN's packet type would.
  if (len > 0 && buf[off]! >> 4 === 6) return ip6Receive(state, seg, buf, off, len);
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
  // ip_route_input_slow: a source in 0.0.0.0/8 is martian and never reaches TCP — which is
  // what lets IPv6 peers use keys from that range (peers6.ts).
  if (src >>> 24 === 0) return apply(state, seg, Verdict.DROP_MARTIAN_SOURCE);
  const toBroadcast = dst === state.broadcast || isMulticastOrBroadcast(dst);
  seg.toBroadcast = toBroadcast;
  if (dst !== state.address && !toBroadcast) return apply(state, seg, Verdict.NOT_FOR_US);
  const protocol = buf[off + Ipv4Field.PROTOCOL]!;
  if (protocol === IpProtocol.TCP) {
    const pseudo = state.rxChecksumUnnecessary ? CHECKSUM_UNNECESSARY : pseudoHeaderSum(src, dst, IpProtocol.TCP, payloadLength);
    const tcpError = TcpView.checkWithPseudoSum(buf, payloadOffset, payloadLength, pseudo, seg.options);
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


// ipv6_rcv → tcp_v6_rcv / icmpv6_rcv: an IPv6 frame from the TUN checked, counted under
// the Ip6 / Icmp6 MIBs and handed to the shared TCP demux (tcp-input.ts) with the source
// interned as a 32-bit peer key (peers6.ts). TCP counters are shared by both families, as
// in Linux.

import { pseudoHeaderSum6 } from '../wire/checksum.js';
import { writeIcmp6EchoReply } from '../wire/builder.js';
import { Icmp6Type, IcmpView } from '../wire/icmp.js';
import { readI32 } from '../wire/ipv4.js';
import { Ipv6Field, Ipv6NextHeader, Ipv6View } from '../wire/ipv6.js';
import { CHECKSUM_UNNECESSARY, TcpField, TcpFlag, TcpView } from '../wire/tcp.js';
import { WireError } from '../wire/wire-error.js';
import { Counter } from './mib.js';
import { apply } from './output.js';
import { sweepPeers6 } from './peers6-sweep.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { applySysctlsToOptions, rejectMalformed, tcpReceive } from './tcp-input.js';
import { Verdict } from './verdict.js';

const SRC_ADDR = Ipv6Field.SRC_ADDR;
const DST_ADDR = Ipv6Field.DST_ADDR;

/** One IPv6 frame (the version nibble said 6). Returns the verdict of its last decision. */
export function ip6Receive(state: KernelState, seg: Segment, buf: Uint8Array, off: number, len: number): number {
  const c = state.counters;
  c[Counter.Ip6InReceives]!++;
  const error = Ipv6View.check(buf, off, len);
  if (error !== WireError.Ok) {
    seg.begin(0);
    c[error === WireError.BadPayloadLength ? Counter.Ip6InTruncatedPkts : Counter.Ip6InHdrErrors]!++;
    return rejectMalformed(state, seg, error);
  }
  const ip6 = seg.ip6.reset(buf, off, len);
  const walked = ip6.walkExtensions();
  if (walked !== WireError.Ok) {
    seg.begin(0);
    c[walked === WireError.Fragment ? Counter.Ip6ReasmFails : Counter.Ip6InHdrErrors]!++;
    return rejectMalformed(state, seg, walked);
  }
  // Sweep before interning this frame's source, so the sweep cannot free it.
  const peers = state.peers6;
  if (peers.wantsSweep) sweepPeers6(state);
  seg.begin(peers.intern(buf, off + SRC_ADDR));
  seg.ipv6 = true;
  // ff00::/8: answered like IPv4 broadcast (no SYN-ACK, no RST, no echo reply).
  const toMulticast = buf[off + DST_ADDR] === 0xff;
  seg.toBroadcast = toMulticast;
  if (!toMulticast && !isOurAddress(state, buf, off + DST_ADDR)) return apply(state, seg, Verdict.NOT_FOR_US6);
  const protocol = ip6.upperProtocol;
  const at = ip6.upperOffset;
  const length = ip6.upperLength;
  if (protocol === Ipv6NextHeader.TCP) {
    const pseudo = state.rxChecksumUnnecessary ? CHECKSUM_UNNECESSARY : pseudoHeaderSum6(buf, off + SRC_ADDR, off + DST_ADDR, Ipv6NextHeader.TCP, length);
    const tcpError = TcpView.checkWithPseudoSum(buf, at, length, pseudo, seg.options);
    if (tcpError !== WireError.Ok) {
      c[Counter.InErrs]!++;
      if (tcpError === WireError.BadTcpChecksum) c[Counter.InCsumErrors]!++;
      return rejectMalformed(state, seg, tcpError);
    }
    c[Counter.RxAccepted]!++;
    c[Counter.Ip6InDelivers]!++;
    c[Counter.InSegs]!++;
    seg.tcp.reset(buf, at, length);
    const flags = buf[at + TcpField.FLAGS]!;
    seg.peerPort = (buf[at]! << 8) | buf[at + 1]!;
    seg.localPort = (buf[at + 2]! << 8) | buf[at + 3]!;
    seg.seq = readI32(buf, at + TcpField.SEQ);
    seg.ack = readI32(buf, at + TcpField.ACK);
    seg.flags = flags;
    if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) c[Counter.RxSyn]!++;
    applySysctlsToOptions(state, seg);
    return tcpReceive(state, seg);
  }
  if (protocol === Ipv6NextHeader.ICMPV6) {
    const pseudo = pseudoHeaderSum6(buf, off + SRC_ADDR, off + DST_ADDR, Ipv6NextHeader.ICMPV6, length);
    if (IcmpView.check6(buf, at, length, pseudo) !== WireError.Ok) {
      c[Counter.Icmp6InErrors]!++;
      return rejectMalformed(state, seg, WireError.BadIcmp);
    }
    c[Counter.RxAccepted]!++;
    c[Counter.Ip6InDelivers]!++;
    c[Counter.Icmp6InMsgs]!++;
    return icmp6Receive(state, seg, buf, at, length);
  }
  return apply(state, seg, Verdict.UNKNOWN_PROTO6);
}

function isOurAddress(state: KernelState, buf: Uint8Array, at: number): boolean {
  if (!state.hasAddress6) return false;
  const a = state.address6;
  for (let i = 0; i < 4; i++) {
    const word = ((buf[at + 4 * i]! << 24) | (buf[at + 4 * i + 1]! << 16) | (buf[at + 4 * i + 2]! << 8) | buf[at + 4 * i + 3]!) >>> 0;
    if (word !== a[i]) return false;
  }
  return true;
}

/**
 * icmpv6_rcv: echo requests to our address are answered (icmpv6_echo_reply); everything
 * else — neighbour and router discovery included, which a layer-3 TUN never needs — is
 * counted and ignored.
 */
function icmp6Receive(state: KernelState, seg: Segment, buf: Uint8Array, off: number, len: number): number {
  const icmp = seg.icmp.reset(buf, off, len);
  if (icmp.type !== Icmp6Type.ECHO_REQUEST || seg.toBroadcast) return apply(state, seg, Verdict.ICMP_IGNORED);
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = seg.peerAddr;
  state.completeIpv6(spec);
  spec.ttl = 64;
  const tx = state.tx;
  const at = tx.reserve();
  tx.commit(writeIcmp6EchoReply(tx.slab, at, spec, buf, off, len));
  state.counters[Counter.Ip6OutRequests]!++;
  return apply(state, seg, Verdict.ICMP6_ECHO_REPLY);
}

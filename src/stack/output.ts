// What a decision leaves behind: its verdict counted and recorded, and the segments it sends.
// The only place counters move for decisions (style.md: counters, events and pcap comments
// come from one verdict and cannot disagree).

import { SegmentSpec, writeTcpSegment } from '../wire/builder.js';
import { TcpFlag } from '../wire/tcp.js';
import { EVENT_HAS_TS } from './events.js';
import type { Listener } from './listener.js';
import { isIpv6Key } from './peers6.js';
import { Counter } from './mib.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { VERDICTS } from './verdict.js';

/** Verdicts that call tcp_listendrop, so they also bump the listener's sk_drops. */
const VERDICT_COUNTS_LISTEN_DROP = Uint8Array.from(VERDICTS, (v) => (v.counters.includes(Counter.ListenDrops) ? 1 : 0));

// Every verdict's counters flattened into one typed array, verdict v's at [FIRST[v], FIRST[v+1]):
// `count` runs for every decision (twice per cookie SYN), and walking the frozen per-verdict
// arrays of the table cost it more than the increments themselves.
const VERDICT_COUNTER_FIRST = new Int32Array(VERDICTS.length + 1);
const VERDICT_COUNTER_LIST = Int32Array.from(VERDICTS.flatMap((v) => v.counters));
VERDICTS.forEach((v, i) => (VERDICT_COUNTER_FIRST[i + 1] = VERDICT_COUNTER_FIRST[i]! + v.counters.length));

/** Bumps the verdict's counters and records it with the segment's flow; returns the verdict. */
export function apply(state: KernelState, seg: Segment, verdict: number, aux = 0, listener?: Listener): number {
  count(state, verdict, listener);
  const options = seg.options;
  const hasTs = options.hasTimestamps;
  state.events.record(
    state.now,
    verdict,
    seg.peerAddr,
    seg.peerPort,
    state.address,
    seg.localPort,
    seg.seq,
    seg.ack,
    seg.flags | (hasTs ? EVENT_HAS_TS : 0),
    hasTs ? options.tsVal : 0,
    hasTs ? options.tsEcr : 0,
    aux,
  );
  if (isIpv6Key(seg.peerAddr)) state.events.notePeer6(state.peers6, seg.peerAddr);
  return verdict;
}

/**
 * Counters only, no event: for bookkeeping decisions that the packet's own verdict already
 * tells (tcp_syn_flood_action choosing a cookie runs for every SYN under tcp_syncookies=2).
 */
export function count(state: KernelState, verdict: number, listener?: Listener): void {
  const counters = state.counters;
  const end = VERDICT_COUNTER_FIRST[verdict + 1]!;
  for (let i = VERDICT_COUNTER_FIRST[verdict]!; i < end; i++) counters[VERDICT_COUNTER_LIST[i]!]!++;
  state.verdictCounts[verdict]!++;
  if (listener !== undefined && VERDICT_COUNTS_LISTEN_DROP[verdict] === 1) listener.drops++;
}

/** Writes one segment into the tx ring (the kernel's ip_build_and_send_pkt, here). */
export function emit(state: KernelState, spec: SegmentSpec): void {
  // Every kernel function addresses its reply by the peer's key; an IPv6 key makes it an
  // IPv6 segment here, in the one place segments leave (tcp_v6_send_synack / _response).
  const ipv6 = isIpv6Key(spec.dstAddr);
  if (ipv6) state.completeIpv6(spec);
  const tx = state.tx;
  const at = tx.reserve();
  tx.commit(writeTcpSegment(tx.slab, at, spec));
  const c = state.counters;
  if ((spec.flags & TcpFlag.SYN) !== 0) c[Counter.TxSynAck]!++;
  c[Counter.OutSegs]!++;
  c[ipv6 ? Counter.Ip6OutRequests : Counter.IpOutRequests]!++;
}

/** tcp_v4_send_reset / tcp_v6_send_reset for the segment (spec §8 stray ACK: seq = its ack, window 0). */
export function sendReset(state: KernelState, seg: Segment): void {
  const tcp = seg.tcp;
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = seg.peerAddr;
  spec.srcPort = tcp.dstPort;
  spec.dstPort = tcp.srcPort;
  if ((tcp.flags & TcpFlag.ACK) !== 0) {
    spec.seq = tcp.ack;
    spec.flags = TcpFlag.RST;
  } else {
    const synFin = ((tcp.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((tcp.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    spec.ack = (tcp.seq + tcp.payloadLength + synFin) >>> 0;
    spec.flags = TcpFlag.RST | TcpFlag.ACK;
  }
  spec.ipId = state.ctlReplyIpId(seg.peerAddr);
  emit(state, spec);
}

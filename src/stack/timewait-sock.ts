// The TIME_WAIT socket's life (tcp_minisocks.c): tcp_time_wait makes the bucket (spec §2.2,
// §2.4), tcp_timewait_state_process answers segments that hit it (spec §1.9), and expiry
// ends it (spec §2.4).

import { TcpFlag } from '../wire/tcp.js';
import type { Connection } from './conn.js';
import { unhashConnection } from './conn-table.js';
import { FLOW_TIMEWAIT, TCP_PAWS_MSL_SEC } from './constants.js';
import { apply, emit } from './output.js';
import { oowRateLimited } from './request-queue.js';
import type { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { TCP_TIMEWAIT_LEN_MS } from './timewait.js';
import { Verdict } from './verdict.js';

/**
 * tcp_time_wait: the bucket, the recycle timeout, the metrics stamp (spec §2.2, §2.4).
 * `flow` is the connection's flow, for the events it records.
 */
export function enterTimewait(state: KernelState, flow: Segment, conn: Connection): void {
  const tw = state.timewait;
  const sw = state.switches;
  if (tw.live >= state.sysctls.hot.maxTwBuckets) {
    apply(state, flow, Verdict.TW_OVERFLOW);
    unhashConnection(state, conn, 'closed');
    return;
  }
  const twRecycle = sw.hasTwRecycle && state.sysctls.hot.twRecycle !== 0;
  let recycleOk = false;
  if (twRecycle && conn.tsRecentStamp !== 0) {
    recycleOk = state.metrics.rememberStamp(conn.peerAddr, conn.tsRecent, conn.tsRecentStamp, state.nowSeconds(), true, state.now);
  }
  // tcp_update_metrics: the RTT makes the peer "proven" (spec §2.2).
  if (conn.rttSamples > 0) state.metrics.updateRtt(conn.peerAddr, conn.srtt, state.now);
  const slot = tw.allocate();
  tw.peerAddr[slot] = conn.peerAddr;
  tw.peerPort[slot] = conn.peerPort;
  tw.localPort[slot] = conn.localPort;
  tw.sndNxt[slot] = conn.sndNxt;
  tw.rcvNxt[slot] = conn.rcvNxt;
  tw.tsRecent[slot] = conn.tsRecent;
  tw.tsRecentStamp[slot] = conn.timestamps ? conn.tsRecentStamp : 0;
  tw.tsOffset[slot] = conn.tsOffset;
  tw.window[slot] = conn.timewaitWindow;
  tw.createdAt[slot] = state.now;
  // 3.5 × RTO when recycling (rto << 2) − (rto >> 1), else TCP_TIMEWAIT_LEN.
  const rto = conn.rto;
  tw.recycleTimeout[slot] = recycleOk ? rto * 4 - Math.floor(rto / 2) : 0;
  const lifetime = recycleOk ? tw.recycleTimeout[slot]! : TCP_TIMEWAIT_LEN_MS;
  unhashConnection(state, conn, 'closed');
  state.flows.set(conn.peerAddr, conn.peerPort, conn.localPort, (slot << 2) | FLOW_TIMEWAIT);
  state.timewaitTimers.schedule(slot, state.now + lifetime);
  apply(state, flow, sw.timewaitCounting === 'onEnter' ? Verdict.TW_ENTER_COUNTED : Verdict.TW_ENTER, lifetime);
}

/**
 * tcp_paws_reject(&tmp_opt, th->rst) as TIME_WAIT calls it: PAWS window 0, so a TSval one
 * behind ts_recent is already old (spec §1.9, measured on 3.10–6.18 in §8c); no ts_recent, no
 * rejection; a RST is let through once the stamp is TCP_PAWS_MSL old.
 */
function timewaitPawsReject(state: KernelState, tsRecent: number, tsRecentStamp: number, tsVal: number, isRst: boolean): boolean {
  if (((tsRecent - tsVal) | 0) <= 0 || tsRecent === 0) return false;
  return !(isRst && state.nowSeconds() - tsRecentStamp >= TCP_PAWS_MSL_SEC);
}

/** tcp_timewait_state_process (spec §1.9). */
export function timewaitReceive(state: KernelState, seg: Segment, slot: number): number {
  const tw = state.timewait;
  const tcp = seg.tcp;
  const o = seg.options;
  const sw = state.switches;
  const flags = tcp.flags;
  const seq = tcp.seq;
  const rcvNxt = tw.rcvNxt[slot]!;
  const tsRecent = tw.tsRecent[slot]!;
  const hasStamp = tw.tsRecentStamp[slot] !== 0;
  const isRst = (flags & TcpFlag.RST) !== 0;
  const pawsReject = hasStamp && o.hasTimestamps && timewaitPawsReject(state, tsRecent, tw.tsRecentStamp[slot]!, o.tsVal, isRst);
  const isSyn = (flags & TcpFlag.SYN) !== 0;
  const isAck = (flags & TcpFlag.ACK) !== 0;
  const endSeq = (seq + tcp.payloadLength + (isSyn ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0)) >>> 0;
  // In-window bare ACK or RST at rcv_nxt.
  if (!pawsReject && seq === rcvNxt && (endSeq === seq || isRst)) {
    if (isRst && state.sysctls.hot.rfc1337 === 0) {
      killTimewait(state, slot);
      return apply(state, seg, Verdict.TW_RST_KILL);
    }
    if (!isRst) state.timewaitTimers.schedule(slot, state.now + timewaitLifetime(state, slot));
    return apply(state, seg, Verdict.TW_SILENT);
  }
  // A new SYN: higher sequence, or a newer timestamp.
  if (
    isSyn &&
    !isRst &&
    !isAck &&
    !pawsReject &&
    (((seq - rcvNxt) | 0) > 0 || (o.hasTimestamps && ((tsRecent - o.tsVal) | 0) < 0))
  ) {
    // tcp_tw_isn: the new request continues the old sequence space, unless this version
    // loses the field before tcp_conn_request reads it (profile timewaitSynIsn, §8c).
    let isn = 0;
    if (sw.timewaitSynIsn === 'continue') {
      isn = (tw.sndNxt[slot]! + 65535 + 2) >>> 0;
      if (isn === 0) isn = 1;
    }
    seg.timewaitIsn = isn;
    killTimewait(state, slot);
    apply(state, seg, Verdict.SYN_TIMEWAIT_REUSE, isn);
    return Verdict.SYN_TIMEWAIT_REUSE;
  }
  if (isRst) return apply(state, seg, Verdict.TW_SILENT);
  if (pawsReject || isAck) state.timewaitTimers.schedule(slot, state.now + TCP_TIMEWAIT_LEN_MS);
  const pawsVerdict = sw.timewaitPawsCounter === 'PAWSTimewait' ? Verdict.TW_PAWS_TIMEWAIT : Verdict.TW_PAWS_ESTAB;
  if (sw.requestOowRateLimit && oowRateLimited(state, tw.lastOowAck, slot)) {
    if (pawsReject) apply(state, seg, pawsVerdict);
    return apply(state, seg, Verdict.TW_ACK_RATELIMITED);
  }
  sendTimewaitAck(state, slot);
  return apply(state, seg, pawsReject ? pawsVerdict : Verdict.TW_ACK);
}

export function timewaitLifetime(state: KernelState, slot: number): number {
  const recycle = state.timewait.recycleTimeout[slot]!;
  return recycle > 0 ? recycle : TCP_TIMEWAIT_LEN_MS;
}

/** tcp_v4_timewait_ack: seq tw_snd_nxt, ack tw_rcv_nxt, TS of the old connection. */
export function sendTimewaitAck(state: KernelState, slot: number): void {
  const tw = state.timewait;
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = tw.peerAddr[slot]!;
  spec.srcPort = tw.localPort[slot]!;
  spec.dstPort = tw.peerPort[slot]!;
  spec.seq = tw.sndNxt[slot]!;
  spec.ack = tw.rcvNxt[slot]!;
  spec.flags = TcpFlag.ACK;
  spec.window = tw.window[slot]!;
  spec.ipId = state.ctlReplyIpId(spec.dstAddr);
  if (tw.tsRecentStamp[slot] !== 0) {
    spec.hasTimestamps = true;
    spec.tsVal = (state.tsNow() + tw.tsOffset[slot]!) >>> 0;
    spec.tsEcr = tw.tsRecent[slot]!;
  }
  emit(state, spec);
}

export function killTimewait(state: KernelState, slot: number): void {
  const tw = state.timewait;
  state.flows.delete(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!);
  state.timewaitTimers.cancel(slot);
  tw.free(slot);
}

export function timewaitExpired(state: KernelState, flow: Segment, slot: number): void {
  const tw = state.timewait;
  const sw = state.switches;
  flow.forFlow(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!, tw.sndNxt[slot]!, tw.rcvNxt[slot]!);
  const short = tw.recycleTimeout[slot]! > 0;
  killTimewait(state, slot);
  // Counted at expiry: a short (recycled) TIME_WAIT as TWKilled, a 60 s one as TW (spec §2.4).
  if (sw.timewaitCounting === 'atExpiry') apply(state, flow, short ? Verdict.TW_EXPIRED_KILLED : Verdict.TW_EXPIRED_TW);
  else apply(state, flow, Verdict.TW_EXPIRED);
}

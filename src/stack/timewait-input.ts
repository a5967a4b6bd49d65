// tcp_timewait_state_process (spec §1.9) and TIME_WAIT expiry (spec §2.4): what a segment
// hitting a TIME_WAIT bucket gets, and how the bucket ends.

import type { Host } from './host.js';
import { oowRateLimited } from './check-req.js';
import { TCP_PAWS_WINDOW } from './constants.js';
import { TCP_TIMEWAIT_LEN_MS } from './timewait.js';
import { Verdict } from './verdict.js';
import { TcpFlag } from '../wire/tcp.js';

/** tcp_timewait_state_process (spec §1.9). */
export function timewaitReceive(host: Host, slot: number): number {
  const tw = host.timewait;
  const tcp = host.tcp;
  const o = host.options;
  const sw = host.switches;
  const flags = tcp.flags;
  const seq = tcp.seq;
  const rcvNxt = tw.rcvNxt[slot]!;
  const tsRecent = tw.tsRecent[slot]!;
  const hasStamp = tw.tsRecentStamp[slot] !== 0;
  const pawsReject = hasStamp && o.hasTimestamps && ((tsRecent - o.tsVal) | 0) > TCP_PAWS_WINDOW;
  const isRst = (flags & TcpFlag.RST) !== 0;
  const isSyn = (flags & TcpFlag.SYN) !== 0;
  const isAck = (flags & TcpFlag.ACK) !== 0;
  const endSeq = (seq + tcp.payloadLength + (isSyn ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0)) >>> 0;
  // In-window bare ACK or RST at rcv_nxt.
  if (!pawsReject && seq === rcvNxt && (endSeq === seq || isRst)) {
    if (isRst && host.sysctls.hot.rfc1337 === 0) {
      killTimewait(host, slot);
      return host.apply(Verdict.TW_RST_KILL);
    }
    if (!isRst) host.timewaitTimers.schedule(slot, host.now + timewaitLifetime(host, slot));
    return host.apply(Verdict.TW_SILENT);
  }
  // A new SYN: higher sequence, or a newer timestamp.
  if (
    isSyn &&
    !isRst &&
    !isAck &&
    !pawsReject &&
    (((seq - rcvNxt) | 0) > 0 || (o.hasTimestamps && ((tsRecent - o.tsVal) | 0) < 0))
  ) {
    let isn = (tw.sndNxt[slot]! + 65535 + 2) >>> 0;
    if (isn === 0) isn = 1;
    host.twIsn = isn;
    killTimewait(host, slot);
    host.apply(Verdict.SYN_TIMEWAIT_REUSE, isn);
    return Verdict.SYN_TIMEWAIT_REUSE;
  }
  if (isRst) return host.apply(Verdict.TW_SILENT);
  if (pawsReject || isAck) host.timewaitTimers.schedule(slot, host.now + TCP_TIMEWAIT_LEN_MS);
  const pawsVerdict = sw.timewaitPawsCounter === 'PAWSTimewait' ? Verdict.TW_PAWS_TIMEWAIT : Verdict.TW_PAWS_ESTAB;
  if (sw.requestOowRateLimit && oowRateLimited(host, tw.lastOowAck, slot)) {
    if (pawsReject) host.apply(pawsVerdict);
    return host.apply(Verdict.TW_ACK_RATELIMITED);
  }
  sendTimewaitAck(host, slot);
  return host.apply(pawsReject ? pawsVerdict : Verdict.TW_ACK);
}

export function timewaitLifetime(host: Host, slot: number): number {
  const recycle = host.timewait.recycleTimeout[slot]!;
  return recycle > 0 ? recycle : TCP_TIMEWAIT_LEN_MS;
}

/** tcp_v4_timewait_ack: seq tw_snd_nxt, ack tw_rcv_nxt, TS of the old connection. */
export function sendTimewaitAck(host: Host, slot: number): void {
  const tw = host.timewait;
  const spec = host.spec.reset();
  spec.srcAddr = host.address;
  spec.dstAddr = tw.peerAddr[slot]!;
  spec.srcPort = tw.localPort[slot]!;
  spec.dstPort = tw.peerPort[slot]!;
  spec.seq = tw.sndNxt[slot]!;
  spec.ack = tw.rcvNxt[slot]!;
  spec.flags = TcpFlag.ACK;
  spec.window = tw.window[slot]!;
  if (tw.tsRecentStamp[slot] !== 0) {
    spec.hasTimestamps = true;
    spec.tsVal = (host.tsNow() + tw.tsOffset[slot]!) >>> 0;
    spec.tsEcr = tw.tsRecent[slot]!;
  }
  host.emit(spec);
}

export function killTimewait(host: Host, slot: number): void {
  const tw = host.timewait;
  host.flows.delete(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!);
  host.timewaitTimers.cancel(slot);
  tw.free(slot);
}

export function timewaitExpired(host: Host, slot: number): void {
  const tw = host.timewait;
  const sw = host.switches;
  host.setEventFlow(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!, tw.sndNxt[slot]!, tw.rcvNxt[slot]!);
  const short = tw.recycleTimeout[slot]! > 0;
  killTimewait(host, slot);
  if (sw.timewaitCounting === 'fastTimerTW') host.apply(short ? Verdict.TW_EXPIRED_TW : Verdict.TW_EXPIRED_KILLED);
  else if (sw.timewaitCounting === 'expiryKilledIfShort') host.apply(short ? Verdict.TW_EXPIRED_KILLED : Verdict.TW_EXPIRED_TW);
  else host.apply(Verdict.TW_EXPIRED);
}

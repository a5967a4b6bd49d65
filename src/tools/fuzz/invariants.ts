// What must hold after every frame, whatever arrives: every frame accounted for once,
// queues within their limits, counters consistent with the sockets, replies well formed.

import { ConnState } from '../../stack/conn.js';
import type { Host } from '../../stack/host.js';
import { COUNTERS, Counter } from '../../stack/mib.js';
import { VERDICTS } from '../../stack/verdict.js';
import { IcmpView } from '../../wire/icmp.js';
import { IpProtocol, Ipv4View } from '../../wire/ipv4.js';
import { TcpView } from '../../wire/tcp.js';
import { TcpOptions } from '../../wire/tcp-options.js';
import { WireError } from '../../wire/wire-error.js';

export class InvariantError extends Error {
  /** Short name of the broken invariant (`--skip NAME` silences it while a known bug is open). */
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}

/** Keys being skipped, with how often each was violated; any other violation throws. */
export type SkipCounts = Map<string, number>;
export const NO_SKIP: SkipCounts = new Map();

export function violate(skip: SkipCounts, key: string, message: string): void {
  const seen = skip.get(key);
  if (seen === undefined) throw new InvariantError(key, message);
  skip.set(key, seen + 1);
}

export const INVARIANT_KEYS = ['tiny-mss', 'accounting', 'counters', 'syn-queue', 'accept-queue', 'request-socks', 'connections', 'curr-estab', 'timewait', 'timers', 'reply'] as const;

const REJECT_COUNTERS: readonly number[] = COUNTERS.map((c, i) => ({ c, i }))
  .filter(({ c }) => c.name.startsWith('SyndropRx') && !['SyndropRxFrames', 'SyndropRxAccepted', 'SyndropRxSyn'].includes(c.name))
  .map(({ i }) => i);

/** Rejection counters by reason name (`truncated`, `bad-ip-checksum`, `not-for-us` …). */
export function rejectionsByReason(counters: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of REJECT_COUNTERS) {
    const name = COUNTERS[i]!.name.slice('SyndropRx'.length).replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    out[name] = counters[i]!;
  }
  return out;
}

/**
 * What must hold after any input: every frame counted once (accepted or one reason), the
 * queues within their limits, gauges agreeing with the sockets that exist, no NaN anywhere.
 * `timewaitReuses` = SYNs that legally bypassed the SYN-queue check (tcp_conn_request's `!isn`).
 */
export function checkHostInvariants(host: Host, skip: SkipCounts = NO_SKIP): void {
  const c = host.counters;
  const frames = c[Counter.RxFrames]!;
  let rejected = 0;
  for (const i of REJECT_COUNTERS) rejected += c[i]!;
  if (c[Counter.RxAccepted]! + rejected !== frames) {
    violate(skip, 'accounting', `accepted ${c[Counter.RxAccepted]} + rejected ${rejected} ≠ frames ${frames}`);
  }
  if (c[Counter.IpInReceives]! + c[Counter.Ip6InReceives]! !== frames) {
    violate(skip, 'accounting', `IpInReceives ${c[Counter.IpInReceives]} + Ip6InReceives ${c[Counter.Ip6InReceives]} ≠ SyndropRxFrames ${frames}`);
  }
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (!Number.isFinite(v) || v < 0) violate(skip, 'counters', `counter ${COUNTERS[i]!.name} = ${v}`);
  }
  const reuses = host.verdictCounts[VERDICTS.findIndex((v) => v.name === 'SYN_TIMEWAIT_REUSE')]!;
  let qlenTotal = 0;
  for (const listener of host.listeners) {
    const capacity = listener.synQueueCapacity(host.profile.switches);
    if (listener.qlen < 0 || listener.young < 0 || listener.young > listener.qlen) {
      violate(skip, 'syn-queue', `listener :${listener.port} qlen ${listener.qlen} young ${listener.young}`);
    }
    if (listener.qlen > capacity + reuses) {
      violate(skip, 'syn-queue', `listener :${listener.port} SYN queue ${listener.qlen} above its limit ${capacity}`);
    }
    if (listener.acceptQueueLength > listener.maxAckBacklog + 1) {
      violate(skip, 'accept-queue', `listener :${listener.port} accept queue ${listener.acceptQueueLength} above backlog ${listener.maxAckBacklog} + 1`);
    }
    qlenTotal += listener.qlen;
  }
  if (qlenTotal !== host.requests.live) violate(skip, 'request-socks', `request socks ${host.requests.live} ≠ SYN queue lengths ${qlenTotal}`);
  let established = 0;
  for (const conn of host.connections.values()) {
    if (conn.state === ConnState.CLOSED) violate(skip, 'connections', `closed connection ${conn.id} still in the table`);
    if (conn.state === ConnState.ESTABLISHED || conn.state === ConnState.CLOSE_WAIT) established++;
  }
  if (c[Counter.CurrEstab] !== established) violate(skip, 'curr-estab', `TcpCurrEstab ${c[Counter.CurrEstab]} ≠ ${established} established sockets`);
  const maxTw = host.sysctls.get('net.ipv4.tcp_max_tw_buckets');
  if (host.timewait.live > maxTw) violate(skip, 'timewait', `TIME_WAIT ${host.timewait.live} above tcp_max_tw_buckets ${maxTw}`);
  const next = host.nextTimerAt();
  if (Number.isNaN(next)) violate(skip, 'timers', 'nextTimerAt() is NaN');
}

export const replyOptions = new TcpOptions();

/** Every frame the host emits must pass the same checks a receiver applies, and come from it. */
export function checkReply(host: Host, slab: Uint8Array, off: number, len: number, skip: SkipCounts = NO_SKIP): void {
  const ipError = Ipv4View.check(slab, off, len);
  if (ipError !== WireError.Ok) {
    violate(skip, 'reply', `host sent a malformed IPv4 frame (wire error ${ipError})`);
    return;
  }
  const ip = new Ipv4View(slab, off, len);
  if (ip.totalLength !== len) violate(skip, 'reply', `host sent ${len} bytes with IPv4 total length ${ip.totalLength}`);
  if (ip.srcAddr !== host.address) violate(skip, 'reply', `host sent a frame from ${ip.srcAddr >>> 0}, not its address`);
  if (ip.protocol === IpProtocol.TCP) {
    const e = TcpView.check(slab, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, replyOptions);
    if (e !== WireError.Ok) violate(skip, 'reply', `host sent a malformed TCP segment (wire error ${e})`);
  } else if (ip.protocol === IpProtocol.ICMP) {
    const e = IcmpView.check(slab, ip.payloadOffset, ip.payloadLength);
    if (e !== WireError.Ok) violate(skip, 'reply', `host sent a malformed ICMP message (wire error ${e})`);
  } else {
    violate(skip, 'reply', `host sent protocol ${ip.protocol}`);
  }
}

// ── The generator ──

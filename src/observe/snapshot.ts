// Plain, JSON-able pictures of a running Host for the control socket: counters, queues,
// sockets, events, metrics. Built only when someone asks; never on the packet path.

import type { ExplainInput } from './explain.js';
import type { Host } from '../stack/host.js';
import { CONN_STATE_NAMES } from '../stack/conn.js';
import { COUNTERS, snapshotCounters } from '../stack/mib.js';
import { VERDICTS } from '../stack/verdict.js';
import type { RawEvent } from '../stack/events.js';
import { ipv4ToString, ipv6ToString } from '../wire/addr.js';
import { tcpFlagsToString } from '../wire/tcp.js';
import type { ListenerSnapshot, SocketSnapshot, SocketState } from './ss.js';
import { endpointAddress } from './endpoint-text.js';

export function counterSnapshot(host: Host): Record<string, number> {
  return snapshotCounters(host.counters, host.profile.switches.counters);
}

export function listenerSnapshots(host: Host): ListenerSnapshot[] {
  return host.listeners.map((l) => ({
    // As ss shows it: the bound address, 0.0.0.0 for a wildcard listener ([::] when it
    // answers IPv6 only; a dual-stack one keeps the IPv4 form the existing tools expect).
    localAddress: l.boundAddress === 0 && host.state.listenFamilies === '6' ? '::' : ipv4ToString(l.boundAddress),
    localPort: l.port,
    acceptQueueLength: l.acceptQueueLength,
    acceptQueueMax: l.maxAckBacklog,
    synQueueLength: l.qlen,
    synQueueMax: l.synQueueCapacity(host.profile.switches),
    young: l.young,
    drops: l.drops,
  }));
}

export function socketSnapshots(host: Host): SocketSnapshot[] {
  const socket = (state: SocketState, localPort: number, peerAddr: number, peerPort: number, sendQ: number, retransmits: number): SocketSnapshot => ({
    state,
    localAddress: host.localText(peerAddr),
    localPort,
    peerAddress: host.peerText(peerAddr),
    peerPort,
    recvQ: 0,
    sendQ,
    retransmits,
  });
  const out: SocketSnapshot[] = [];
  const r = host.requests;
  for (const slot of host.requestSlots()) {
    out.push({
      ...socket('SYN-RECV', r.localPort[slot]!, r.peerAddr[slot]!, r.peerPort[slot]!, 0, r.numRetrans[slot]!),
      expiresMs: Math.max(0, host.requestExpiresAt(slot) - host.now),
      timer: 'on',
    });
  }
  for (const conn of host.connections.values()) {
    out.push(socket(CONN_STATE_NAMES[conn.state] as SocketState, conn.localPort, conn.peerAddr, conn.peerPort, conn.sendQueueBytes, conn.retransmits));
  }
  const tw = host.timewait;
  for (const slot of host.timewaitSlots()) {
    out.push({
      ...socket('TIME-WAIT', tw.localPort[slot]!, tw.peerAddr[slot]!, tw.peerPort[slot]!, 0, 0),
      expiresMs: Math.max(0, host.timewaitExpiresAt(slot) - host.now),
      timer: 'timewait',
    });
  }
  return out;
}

/** One decision as users read it: addresses, flags, timestamps, reason, counters touched. */
export interface EventRecord {
  n: number;
  /** Milliseconds since the instance started (the stack's clock). */
  t: number;
  /** Wall-clock time, ISO 8601. */
  time: string;
  verdict: string;
  action: string;
  reason: string | null;
  /** 'kernel' when this kernel version reports the same drop-reason name; 'syndrop' otherwise. */
  reasonSource: 'kernel' | 'syndrop' | null;
  kernelFunction: string;
  spec: string;
  src: string;
  dst: string;
  flags: string;
  seq: number;
  ack: number;
  tsval: number | null;
  tsecr: number | null;
  counters: string[];
  text: string;
  aux: number;
}

export function renderEvent(host: Host, raw: RawEvent, startWallMs: number): EventRecord {
  const info = VERDICTS[raw.verdict]!;
  const sw = host.profile.switches;
  let reasonSource: EventRecord['reasonSource'] = null;
  if (info.reason !== null) {
    const kernel =
      (info.kernelReason === 'dropReasons' && sw.hasDropReasons) ||
      (info.kernelReason === 'listenOverflow' && sw.listenOverflowDropReason);
    reasonSource = kernel ? 'kernel' : 'syndrop';
  }
  return {
    n: raw.n,
    t: Math.round(raw.time * 1000) / 1000,
    time: new Date(startWallMs + raw.time).toISOString(),
    verdict: info.name,
    action: info.action,
    reason: info.reason,
    reasonSource,
    kernelFunction: info.kernelFunction,
    spec: info.spec,
    // IPv6 as ss writes it: [fd77::2]:80.
    src: raw.peerAddr6 === null ? `${ipv4ToString(raw.peerAddr)}:${raw.peerPort}` : `[${ipv6ToString(raw.peerAddr6)}]:${raw.peerPort}`,
    dst: raw.peerAddr6 === null ? `${ipv4ToString(raw.localAddr)}:${raw.localPort}` : `[${ipv6ToString(host.state.address6)}]:${raw.localPort}`,
    flags: raw.flags === 0 && raw.seq === 0 ? '-' : tcpFlagsToString(raw.flags),
    seq: raw.seq,
    ack: raw.ack,
    tsval: raw.hasTimestamps ? raw.tsVal : null,
    tsecr: raw.hasTimestamps ? raw.tsEcr : null,
    counters: info.counters.map((i) => COUNTERS[i]!.name).filter((name) => isPresent(host, name)),
    text: info.text,
    aux: raw.aux,
  };
}

function isPresent(host: Host, name: string): boolean {
  const c = COUNTERS.find((x) => x.name === name);
  return c !== undefined && (c.presentWhen === undefined || host.profile.switches.counters[c.presentWhen]);
}

export interface EventFilter {
  reason?: string;
  peer?: string;
  verdict?: string;
}

export function eventMatches(e: EventRecord, filter: EventFilter): boolean {
  if (filter.reason !== undefined && e.reason !== filter.reason && e.verdict !== filter.reason) return false;
  if (filter.peer !== undefined) {
    if (endpointAddress(e.src) !== filter.peer && e.src !== filter.peer) return false;
  }
  if (filter.verdict !== undefined && e.verdict !== filter.verdict) return false;
  return true;
}

/** Events from number `from` on (clamped to what the ring still holds). */
export function eventsSince(host: Host, from: number, startWallMs: number, filter: EventFilter = {}, limit = Infinity): EventRecord[] {
  const ring = host.events;
  const out: EventRecord[] = [];
  for (let n = Math.max(from, ring.oldest); n < ring.total && out.length < limit; n++) {
    const e = renderEvent(host, ring.read(n), startWallMs);
    if (eventMatches(e, filter)) out.push(e);
  }
  return out;
}

/** Drops by reason name, from the per-verdict totals (Prometheus, top). */
export function dropsByReason(host: Host): Record<string, number> {
  const out: Record<string, number> = {};
  VERDICTS.forEach((info, i) => {
    const n = host.verdictCounts[i]!;
    if (n > 0 && info.reason !== null && (info.action === 'drop' || info.action === 'rst')) {
      out[info.reason] = (out[info.reason] ?? 0) + n;
    }
  });
  return out;
}

export function verdictTotals(host: Host): Record<string, number> {
  const out: Record<string, number> = {};
  VERDICTS.forEach((info, i) => {
    if (host.verdictCounts[i]! > 0) out[info.name] = host.verdictCounts[i]!;
  });
  return out;
}

export function metricsSnapshot(host: Host): Array<{ address: string; ageSeconds: number; tsval: number | null; tsAgeSeconds: number | null; rttMs: number | null; line: string }> {
  return host.metrics.list().map((m) => ({
    address: host.peerText(m.addr),
    ageSeconds: Math.round((host.now - m.stamp) / 10) / 100,
    tsval: m.tsStamp !== 0 ? m.ts >>> 0 : null,
    tsAgeSeconds: m.tsStamp !== 0 ? Math.max(0, Math.floor(host.now / 1000) - m.tsStamp) : null,
    rttMs: m.rtt > 0 ? m.rtt : null,
    line: host.metrics.describe(m, host.now, host.peerText(m.addr)),
  }));
}

/** What `explain` reads from a live or offline host: one builder for every front end. */
export function hostExplainInput(host: Host, startWallMs: number): ExplainInput {
  return {
    profile: host.profile,
    sysctls: host.sysctls.scalars(),
    counters: counterSnapshot(host),
    verdicts: verdictTotals(host),
    listeners: listenerSnapshots(host),
    events: eventsSince(host, 0, startWallMs),
    kernelLog: [...host.kernelLog],
  };
}

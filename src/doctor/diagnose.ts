// Findings for a real host: the causes of observe/drop-causes.ts (the rule model `syndrop
// explain` uses), applied to what the host's kernel counted, listed and logged. Pure: a
// HostReading in, a report out.

import {
  acceptOverflowCause,
  acceptQueueEvidence,
  backlogClampedCause,
  cookieCounterEvidence,
  cookiesCause,
  floodLogCause,
  maxSynBacklogEvidence,
  pawsCause,
  synQueueFullCause,
  unprovenPeerCause,
  type CauseText,
  type FindingBlock,
  type RuleContext,
  type Severity,
} from '../observe/drop-causes.js';
import type { Profile } from '../profiles/profile.js';
import { count, counterEvidence, counterWindow, observed, rateOf, valuesFor, type CounterWindow } from './counter-window.js';
import { profileForHost } from './host-profile.js';
import type { FloodLine } from './parse-kernel-log.js';
import { listenerName, type ListenerLine } from './parse-ss.js';
import type { HostReading } from './reading.js';

export type DoctorFindingId = 'accept-queue-overflow' | 'syn-queue-full' | 'syncookies' | 'unproven-peer' | 'paws-nat' | 'backlog-clamped' | 'syn-flood-logged';

export interface DoctorFinding extends FindingBlock {
  id: DoctorFindingId;
  /** The listener as ADDR:PORT, or null when the host-wide counters cannot tell which. */
  listener: string | null;
}

export interface DoctorReport {
  kernel: string | null;
  profile: string;
  profileReason: string;
  source: string;
  intervalSeconds: number | null;
  listeners: ListenerLine[];
  findings: DoctorFinding[];
  /** What could not be read (one line each). */
  notes: string[];
}

interface Judge {
  profile: Profile;
  window: CounterWindow | null;
  sysctls: Record<string, number>;
  listeners: ListenerLine[];
  /** False when no ss output was read: an empty list then means "unknown", not "none". */
  listenersRead: boolean;
  floodLines: FloodLine[];
  reading: HostReading;
}

function context(judge: Judge, where: string | null): RuleContext {
  return { switches: judge.profile.switches, sysctls: judge.sysctls, where: where ?? 'the listener', audience: 'host' };
}

/**
 * A finding from a cause. With two readings a drop whose counter did not move during the
 * interval happened earlier: it is reported as info, so --fail-on-drops watches the present.
 */
function finding(id: DoctorFindingId, cause: CauseText, listener: string | null, block: { count: number; evidence: string[]; rate?: string | null; since?: string | null; last?: string | null; severity?: Severity }): DoctorFinding {
  const { severity, title, what, rule, spec, fix } = cause;
  return { id, listener, severity: block.severity ?? severity, title, what, count: block.count, rate: block.rate ?? null, since: block.since ?? null, last: block.last ?? null, rule, spec, evidence: block.evidence, fix };
}

/** Drop findings from counters: current (moved in the interval) or earlier (info). */
function severityFor(judge: Judge, cause: CauseText, counter: string): Severity {
  const window = judge.window!;
  return window.isDelta && count(window, counter) === 0 ? 'info' : cause.severity;
}

function earlierNote(judge: Judge, counter: string): string[] {
  const window = judge.window!;
  return window.isDelta && count(window, counter) === 0 ? [`no change during the ${window.intervalSeconds} s reading: these drops happened earlier`] : [];
}

/** Floods logged for a listener of this reading: 6.2+ lines by address:port, older ones by port. */
function floodLinesFor(judge: Judge, listener: ListenerLine | null, sendingCookies: boolean): FloodLine[] {
  return judge.floodLines.filter((f) => f.sendingCookies === sendingCookies && (listener === null || matchesListener(f, listener)));
}

function matchesListener(flood: FloodLine, listener: ListenerLine): boolean {
  return flood.port === listener.port && (flood.address === null || flood.address === listener.address || listener.address === '*');
}

/** The listener a flood line names, among this reading's listeners. */
function listenerOfFlood(judge: Judge, flood: FloodLine): ListenerLine | null {
  return judge.listeners.find((l) => matchesListener(flood, l)) ?? null;
}

function acceptQueueFindings(judge: Judge): DoctorFinding[] {
  const window = judge.window!;
  const overflows = observed(window, 'TcpExtListenOverflows');
  if (overflows === 0) return [];
  const full = judge.listeners.filter((l) => l.recvQ > l.sendQ);
  const candidates = full.length > 0 ? full : judge.listeners.filter((l) => l.recvQ > 0 && l.recvQ >= l.sendQ);
  const shared = [counterEvidence(window, ['TcpExtListenOverflows', 'TcpExtListenDrops']), ...earlierNote(judge, 'TcpExtListenOverflows')];
  const sw = judge.profile.switches;
  const rule = sw.synDropRule === 'young' ? 'on this kernel a SYN still gets a SYN-ACK while at most one young request waits; the third ACK then overflows' : 'on this kernel every SYN is dropped while the queue is full';
  if (candidates.length === 0) {
    const cause = acceptOverflowCause(context(judge, null));
    const none = judge.listenersRead ? 'no listener has a full accept queue right now (the overflow came in bursts, or the listener is gone)' : 'listeners not read: which one overflowed is unknown';
    return [finding('accept-queue-overflow', cause, null, { count: overflows, evidence: [...shared, none, rule], rate: rateOf(window, 'TcpExtListenOverflows'), severity: severityFor(judge, cause, 'TcpExtListenOverflows') })];
  }
  return candidates.map((l) => {
    const cause = acceptOverflowCause(context(judge, listenerName(l)));
    const evidence = [...shared, `${listenerName(l)}: ${acceptQueueEvidence(l.recvQ, l.sendQ)}`, rule];
    if (candidates.length > 1) evidence.push(`${candidates.length} listeners are full; the counter is per network namespace, not per listener`);
    return finding('accept-queue-overflow', cause, listenerName(l), { count: overflows, evidence, rate: rateOf(window, 'TcpExtListenOverflows'), severity: severityFor(judge, cause, 'TcpExtListenOverflows') });
  });
}

/** SYN queue full: with cookies off (drops) or on (cookies); the flood log names the listener. */
function synQueueFindings(judge: Judge): DoctorFinding[] {
  const window = judge.window!;
  const findings: DoctorFinding[] = [];
  const drops = observed(window, 'TcpExtTCPReqQFullDrop');
  if (drops > 0) {
    const logged = floodLinesFor(judge, null, false).map((f) => listenerOfFlood(judge, f)).find((l) => l !== null) ?? null;
    const where = logged ? listenerName(logged) : null;
    const cause = synQueueFullCause(context(judge, where));
    const evidence = [counterEvidence(window, ['TcpExtTCPReqQFullDrop', 'TcpExtListenDrops']), ...earlierNote(judge, 'TcpExtTCPReqQFullDrop'), `net.ipv4.tcp_syncookies = ${judge.sysctls['net.ipv4.tcp_syncookies'] ?? '?'}`];
    if (logged) evidence.push(`the kernel log names ${where}: "Possible SYN flooding … Dropping request"`);
    if (logged?.synRecv !== null && logged?.synRecv !== undefined) evidence.push(`${logged.synRecv} half-open (SYN-RECV) sockets on port ${logged.port}`);
    findings.push(finding('syn-queue-full', cause, where, { count: drops, evidence, rate: rateOf(window, 'TcpExtTCPReqQFullDrop'), severity: severityFor(judge, cause, 'TcpExtTCPReqQFullDrop') }));
  }
  const cookies = observed(window, 'TcpExtSyncookiesSent');
  if (cookies > 0) {
    const logged = floodLinesFor(judge, null, true).map((f) => listenerOfFlood(judge, f)).find((l) => l !== null) ?? null;
    const where = logged ? listenerName(logged) : null;
    const evidence = [counterEvidence(window, ['TcpExtSyncookiesSent']), ...cookieCounterEvidence(valuesFor(window, 'TcpExtSyncookiesSent'))];
    const timestamps = judge.sysctls['net.ipv4.tcp_timestamps'];
    evidence.push(
      timestamps === 0
        ? 'net.ipv4.tcp_timestamps = 0: every cookie connection runs without window scaling and SACK (spec §1.7)'
        : 'the cost: a client whose SYN carries no timestamps gets a cookie connection without window scaling and SACK (spec §1.7)',
    );
    if (judge.profile.switches.cookieCountsListenDrop) evidence.push(`on ${judge.profile.name} each cookie SYN-ACK also counts TcpExtListenDrops (spec §1.8)`);
    if (logged) evidence.push(`the kernel log names ${where}: "Possible SYN flooding … Sending cookies"`);
    findings.push(finding('syncookies', cookiesCause(context(judge, where)), where, { count: cookies, evidence, rate: rateOf(window, 'TcpExtSyncookiesSent') }));
  }
  return findings;
}

/** ListenDrops no other counter accounts for, with cookies off: the last-quarter rule (spec §1.8). */
function unprovenPeerFindings(judge: Judge): DoctorFinding[] {
  const window = judge.window!;
  const syncookies = judge.sysctls['net.ipv4.tcp_syncookies'];
  if (syncookies !== undefined && syncookies !== 0) return [];
  const named = ['TcpExtListenOverflows', 'TcpExtTCPReqQFullDrop', 'TcpExtPAWSPassive'];
  const countsCookies = judge.profile.switches.cookieCountsListenDrop;
  const residueOf = (values: Record<string, number>): number => {
    const get = (name: string): number => values[name] ?? 0;
    return get('TcpExtListenDrops') - named.reduce((sum, n) => sum + get(n), 0) - (countsCookies ? get('TcpExtSyncookiesSent') : 0);
  };
  const moving = window.isDelta ? residueOf(window.counts) : 0;
  const residue = moving > 0 ? moving : residueOf(window.totals);
  if (residue <= 0) return [];
  const cookieDrops = countsCookies && (window.totals['TcpExtSyncookiesSent'] ?? 0) > 0;
  const cause = unprovenPeerCause(context(judge, null));
  const evidence = [
    `TcpExtListenDrops exceeds ListenOverflows + TCPReqQFullDrop + PAWSPassive${cookieDrops ? ' + cookies' : ''} by ${residue}: drops only ListenDrops counts (spec §1.8)`,
    counterEvidence(window, ['TcpExtListenDrops', ...named]),
    `net.ipv4.tcp_syncookies = ${syncookies ?? '?'}`,
    maxSynBacklogEvidence(context(judge, null)),
    judge.profile.switches.unprovenPeerRule === 'rttMetric' ? 'on this kernel a peer with an RTT in tcp_metrics is proven and passes' : 'on this kernel every peer counts as unproven (no route at the check)',
  ];
  const severity = window.isDelta && moving <= 0 ? 'info' : cause.severity;
  return [finding('unproven-peer', cause, null, { count: residue, evidence, rate: rateOf(window, 'TcpExtListenDrops'), severity })];
}

/** tw_recycle's per-host PAWS (≤ 4.11, spec §2.3): the counter, the sysctl, the remembered TSvals. */
function pawsFindings(judge: Judge): DoctorFinding[] {
  const window = judge.window!;
  const rejected = observed(window, 'TcpExtPAWSPassive');
  const recycle = judge.sysctls['net.ipv4.tcp_tw_recycle'];
  if (rejected === 0 && recycle !== 1) return [];
  const remembered = (judge.reading.tcpMetrics ?? []).filter((m) => m.twTsval !== null);
  const evidence = [
    counterEvidence(window, ['TcpExtPAWSPassive']),
    `net.ipv4.tcp_tw_recycle = ${recycle ?? '?'}, net.ipv4.tcp_timestamps = ${judge.sysctls['net.ipv4.tcp_timestamps'] ?? '?'}`,
    remembered.length > 0
      ? `ip tcp_metrics remembers a TSval for ${remembered.length} peer(s): ${remembered.slice(0, 3).map((m) => `${m.address} tw_ts ${m.twTsval}/${m.twTsAgeSeconds}sec ago`).join(', ')}`
      : 'ip tcp_metrics: no remembered TSvals read',
    'one address with several TS clocks is a NAT: every client behind it but the one with the newest clock is refused for 60 s',
  ];
  const cause = pawsCause(context(judge, null), false);
  if (rejected === 0) return [finding('paws-nat', cause, null, { count: 0, evidence: [...evidence, 'no rejection counted yet: a risk, not a drop'], severity: 'warning' })];
  return [finding('paws-nat', cause, null, { count: rejected, evidence, rate: rateOf(window, 'TcpExtPAWSPassive'), severity: severityFor(judge, cause, 'TcpExtPAWSPassive') })];
}

/** Listeners whose Send-Q equals net.core.somaxconn: listen() asked for at least that much (spec §5.1). */
function backlogFindings(judge: Judge): DoctorFinding[] {
  const somaxconn = judge.sysctls['net.core.somaxconn'];
  if (somaxconn === undefined) return [];
  return judge.listeners
    .filter((l) => l.sendQ === somaxconn)
    .map((l) => {
      const crowded = l.recvQ >= l.sendQ;
      const evidence = [`${listenerName(l)}: ss -ltn Send-Q ${l.sendQ} = net.core.somaxconn ${somaxconn}: listen() asked for ${somaxconn} or more and got ${somaxconn}`, acceptQueueEvidence(l.recvQ, l.sendQ)];
      if (!crowded) evidence.push('the queue is not full now: this only matters under bursts');
      return finding('backlog-clamped', backlogClampedCause(context(judge, listenerName(l))), listenerName(l), { count: l.sendQ, evidence, severity: crowded ? 'warning' : 'info' });
    });
}

/** At most this many flood findings when no listener list can tell which lines matter. */
const MAX_UNMATCHED_FLOOD_FINDINGS = 5;

/**
 * One finding per listener the kernel log says was flooded (spec §1.3). The log is host-wide:
 * with a listener list, lines for listeners not in it (other namespaces, closed sockets)
 * become one note instead of findings.
 */
function floodLogFindings(judge: Judge, notes: string[]): DoctorFinding[] {
  const groups = new Map<string, FloodLine[]>();
  for (const f of judge.floodLines) {
    const key = `${f.address ?? '*'}:${f.port} ${f.sendingCookies}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  let shown = [...groups.values()];
  if (judge.listenersRead) {
    const elsewhere = shown.filter((lines) => listenerOfFlood(judge, lines[0]!) === null);
    shown = shown.filter((lines) => listenerOfFlood(judge, lines[0]!) !== null);
    if (elsewhere.length > 0) notes.push(`kernel log: flood lines for ${elsewhere.length} listener(s) not listening here (the log is host-wide: other namespaces or closed sockets); latest: ${elsewhere.at(-1)!.at(-1)!.line}`);
  } else if (shown.length > MAX_UNMATCHED_FLOOD_FINDINGS) {
    notes.push(`kernel log: ${shown.length - MAX_UNMATCHED_FLOOD_FINDINGS} older flood listener(s) not shown`);
    shown = shown.slice(-MAX_UNMATCHED_FLOOD_FINDINGS);
  }
  return shown.map((lines) => {
    const first = lines[0]!;
    const here = listenerOfFlood(judge, first);
    const name = here ? listenerName(here) : `${first.address ?? '*'}:${first.port}`;
    const cause = floodLogCause(context(judge, name), first.sendingCookies);
    const evidence = [`${lines.length} line(s), e.g. ${first.line}`];
    if (!judge.listenersRead) evidence.push('listeners not read: whether it still listens is unknown');
    if (first.form !== judge.profile.switches.synFloodLog) evidence.push(`the line's wording is the ${first.form} form; profile ${judge.profile.name} logs the ${judge.profile.switches.synFloodLog} form`);
    const counter = first.sendingCookies ? 'TcpExtTCPReqQFullDoCookies' : 'TcpExtTCPReqQFullDrop';
    const current = judge.window !== null && (!judge.window.isDelta || count(judge.window, counter) > 0);
    return finding('syn-flood-logged', cause, here ? name : null, { count: lines.length, evidence, since: first.when || null, last: lines.at(-1)!.when || null, severity: current ? cause.severity : 'info' });
  });
}

export function diagnose(reading: HostReading): DoctorReport {
  const host = profileForHost(reading.kernelRelease, reading.osRelease);
  const judge: Judge = {
    profile: host.profile,
    window: counterWindow(reading),
    sysctls: reading.sysctls ?? {},
    listeners: reading.listeners ?? [],
    listenersRead: reading.listeners !== null,
    floodLines: reading.floodLines ?? [],
    reading,
  };
  const fromCounters = judge.window === null ? [] : [...pawsFindings(judge), ...acceptQueueFindings(judge), ...synQueueFindings(judge), ...unprovenPeerFindings(judge)];
  const notes = [...reading.notes];
  const findings = [...fromCounters, ...backlogFindings(judge), ...floodLogFindings(judge, notes)];
  if (judge.window === null) notes.push('no counters read: drop findings need /proc/net/netstat, nstat -az or netstat -s');
  return {
    kernel: reading.kernelRelease,
    profile: host.profile.name,
    profileReason: host.reason,
    source: reading.source,
    intervalSeconds: judge.window?.intervalSeconds ?? null,
    listeners: judge.listeners,
    findings,
    notes,
  };
}

export const hasDropFinding = (report: DoctorReport): boolean => report.findings.some((f) => f.severity === 'drop');

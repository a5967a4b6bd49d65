// `syndrop explain`: turns counters, events, sysctls and the profile into a short
// diagnosis per problem — what is dropped, since when, by which rule, the evidence, the fix.
// Pure: the running instance hands in its snapshot. The wording and the rules live in
// drop-causes.ts, shared with `syndrop doctor`; this file gathers the emulator's evidence.

import { endpointAddress, endpointPort, endpointText } from './endpoint-text.js';
import type { EventRecord } from './snapshot.js';
import type { ListenerSnapshot } from './ss.js';
import {
  acceptOverflowCause,
  acceptQueueEvidence,
  cookieCounterEvidence,
  cookiesCause,
  maxSynBacklogEvidence,
  noListenerCause,
  pawsCause,
  renderFindingBlock,
  requestsExpiredCause,
  synDropRuleEvidence,
  synQueueFullCause,
  unprovenPeerCause,
  type CauseText,
  type FindingBlock,
  type RuleContext,
} from './drop-causes.js';

export interface ExplainInput {
  profile: { name: string; description: string; switches: { synDropRule: string; hasTwRecycle: boolean; synQueueFullCmp: string; synQueueSizing: string } };
  sysctls: Record<string, number>;
  counters: Record<string, number>;
  verdicts: Record<string, number>;
  listeners: ListenerSnapshot[];
  /** Recent events (the ring), oldest first. */
  events: EventRecord[];
  /** What the emulated kernel logged, as `dmesg` would show it (the flood warning, §1.3). */
  kernelLog?: string[];
}

/**
 * One diagnosis; its wording (title, what, rule, spec, fix) comes from drop-causes.ts, the
 * model `syndrop doctor` shares. `since`/`last`: first and last time seen (ISO), when events
 * still hold them.
 */
export interface Problem extends FindingBlock {
  id: 'paws-nat' | 'paws-passive' | 'accept-overflow' | 'syn-queue-full' | 'unproven-peer' | 'cookies' | 'no-listener' | 'requests-expired';
}

const get = (record: Record<string, number>, name: string): number => record[name] ?? 0;

function timesOf(events: EventRecord[], verdicts: string[]): { since: string | null; last: string | null; matching: EventRecord[] } {
  const matching = events.filter((e) => verdicts.includes(e.verdict));
  return { since: matching[0]?.time ?? null, last: matching.at(-1)?.time ?? null, matching };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

/** Does one address show TSvals that cannot come from one clock? (NAT evidence) */
function unrelatedClocks(events: EventRecord[], peer: string): { clocks: number; samples: Array<{ t: number; tsval: number }> } {
  const samples = events
    .filter((e) => endpointAddress(e.src) === peer && e.tsval !== null && (e.flags === 'S' || e.verdict === 'DROP_PAWS_PASSIVE'))
    .map((e) => ({ t: e.t, tsval: e.tsval! }));
  // Group samples into clocks: a sample continues a clock if its TSval advanced by about
  // the elapsed time (±1 s of skew at 1000 Hz, +1 s grace for 100/250 Hz clients).
  const clocks: Array<{ t: number; tsval: number }> = [];
  for (const s of samples) {
    const same = clocks.find((c) => {
      const advanced = (s.tsval - c.tsval) | 0;
      return advanced >= -1 && advanced <= Math.max(2000, (s.t - c.t) * 1.1 + 1000);
    });
    if (same !== undefined) {
      same.t = s.t;
      same.tsval = s.tsval;
    } else clocks.push({ ...s });
  }
  return { clocks: clocks.length, samples };
}

/** A problem with its keys in the order `explain --json` has always printed them. */
function problem(id: Problem['id'], cause: CauseText, count: number, seen: { since: string | null; last: string | null }, evidence: string[]): Problem {
  const { severity, title, what, rule, spec, fix } = cause;
  return { id, severity, title, what, count, since: seen.since, last: seen.last, rule, spec, evidence, fix };
}

export function explain(input: ExplainInput): Problem[] {
  const { counters, verdicts, events, sysctls, profile } = input;
  const problems: Problem[] = [];
  const listener = input.listeners[0];
  const ctx: RuleContext = {
    switches: profile.switches,
    sysctls,
    where: listener ? endpointText(listener.localAddress, listener.localPort) : 'the listener',
    audience: 'emulator',
  };

  // --- per-host PAWS (tw_recycle) ---
  const paws = get(counters, 'TcpExtPAWSPassive') || get(verdicts, 'DROP_PAWS_PASSIVE');
  if (paws > 0) {
    const { since, last, matching } = timesOf(events, ['DROP_PAWS_PASSIVE']);
    const peers = unique(matching.map((e) => endpointAddress(e.src)));
    const evidence = [`TcpExtPAWSPassive = ${paws}: SYNs rejected by the per-host timestamp check`];
    let natPeer: string | null = null;
    for (const peer of peers) {
      const { clocks, samples } = unrelatedClocks(events, peer);
      if (clocks >= 2) {
        natPeer = peer;
        const values = samples.slice(0, 4).map((s) => s.tsval).join(', ');
        evidence.push(`one source address ${peer}, ${clocks} unrelated TSval clocks (${values}…) → several clients behind a NAT`);
      }
    }
    if (peers.length > 0 && natPeer === null) evidence.push(`rejected peers: ${peers.slice(0, 5).join(', ')}`);
    evidence.push(`net.ipv4.tcp_tw_recycle = ${sysctls['net.ipv4.tcp_tw_recycle'] ?? 0}, net.ipv4.tcp_timestamps = ${sysctls['net.ipv4.tcp_timestamps'] ?? 0}`);
    problems.push(problem(natPeer !== null ? 'paws-nat' : 'paws-passive', pawsCause(ctx, natPeer !== null), paws, { since, last }, evidence));
  }

  // --- accept queue overflow ---
  const overflows = get(counters, 'TcpExtListenOverflows');
  if (overflows > 0) {
    const verdictNames = ['DROP_ACCEPTQ_FULL', 'DROP_ACCEPTQ_FULL_YOUNG', 'REQ_ACCEPTQ_OVERFLOW', 'REQ_ACCEPTQ_OVERFLOW_ABORT', 'COOKIE_ACCEPTQ_FULL'];
    const { since, last } = timesOf(events, verdictNames);
    const atSyn = get(verdicts, 'DROP_ACCEPTQ_FULL') + get(verdicts, 'DROP_ACCEPTQ_FULL_YOUNG');
    const atAck = get(verdicts, 'REQ_ACCEPTQ_OVERFLOW') + get(verdicts, 'COOKIE_ACCEPTQ_FULL');
    const resets = get(verdicts, 'REQ_ACCEPTQ_OVERFLOW_ABORT');
    const evidence = [`TcpExtListenOverflows = ${overflows}, TcpExtListenDrops = ${get(counters, 'TcpExtListenDrops')}`];
    if (listener) evidence.push(acceptQueueEvidence(listener.acceptQueueLength, listener.acceptQueueMax));
    if (atSyn > 0) evidence.push(synDropRuleEvidence(ctx, atSyn));
    if (atAck > 0) evidence.push(`${atAck} third ACKs dropped: those clients think they are connected while the server retransmits its SYN-ACK`);
    if (resets > 0) evidence.push(`${resets} clients reset (tcp_abort_on_overflow=1): they see "connection reset by peer"`);
    problems.push(problem('accept-overflow', acceptOverflowCause(ctx), overflows, { since, last }, evidence));
  }

  // --- SYN queue full, cookies off ---
  const reqqDrop = get(counters, 'TcpExtTCPReqQFullDrop');
  if (reqqDrop > 0) {
    const { since, last, matching } = timesOf(events, ['DROP_REQQ_FULL']);
    const sources = unique(matching.map((e) => endpointAddress(e.src)));
    const evidence = [
      `TcpExtTCPReqQFullDrop = ${reqqDrop}, TcpExtListenDrops = ${get(counters, 'TcpExtListenDrops')}`,
      listener ? `SYN queue ${listener.synQueueLength}/${listener.synQueueMax} half-open requests` : '',
      sources.length > 0 ? `${sources.length} distinct source address(es) among recent drops` : '',
    ].filter((x) => x !== '');
    problems.push(problem('syn-queue-full', synQueueFullCause(ctx), reqqDrop, { since, last }, evidence));
  }

  // --- unproven peers ---
  const unproven = get(verdicts, 'DROP_UNPROVEN_PEER');
  if (unproven > 0) {
    const { since, last } = timesOf(events, ['DROP_UNPROVEN_PEER']);
    const evidence = [`ListenDrops without ListenOverflows/TCPReqQFullDrop: ${unproven} drops by this rule`, maxSynBacklogEvidence(ctx)];
    problems.push(problem('unproven-peer', unprovenPeerCause(ctx), unproven, { since, last }, evidence));
  }

  // --- cookies in use ---
  const cookiesSent = get(counters, 'TcpExtSyncookiesSent');
  if (cookiesSent > 0) {
    const { since, last } = timesOf(events, ['SYN_COOKIE', 'SYN_COOKIE_LISTENDROP']);
    problems.push(problem('cookies', cookiesCause(ctx), cookiesSent, { since, last }, cookieCounterEvidence(counters)));
  }

  // --- refused: no listener ---
  const refused = get(verdicts, 'RST_NO_LISTENER');
  if (refused > 0) {
    const { since, last, matching } = timesOf(events, ['RST_NO_LISTENER']);
    const ports = unique(matching.map((e) => endpointPort(e.dst)));
    const evidence = [`TcpOutRsts = ${get(counters, 'TcpOutRsts')}`];
    problems.push(problem('no-listener', noListenerCause(ctx, refused, ports), refused, { since, last }, evidence));
  }

  // --- requests expiring ---
  const expired = get(verdicts, 'REQ_EXPIRED');
  if (expired > 0) {
    const { since, last } = timesOf(events, ['REQ_EXPIRED']);
    const evidence = [`TcpExtTCPTimeouts = ${get(counters, 'TcpExtTCPTimeouts')}, TcpRetransSegs = ${get(counters, 'TcpRetransSegs')}`];
    problems.push(problem('requests-expired', requestsExpiredCause(ctx, expired), expired, { since, last }, evidence));
  }
  // The flood warning is evidence for the SYN-queue findings, word for word as dmesg shows it
  // (once per listener; 6.2+ name the listener's bound address, as ss does).
  const floodLines = (input.kernelLog ?? []).filter((line) => line.includes('Possible SYN flooding'));
  const queueProblem = problems.find((p) => p.id === 'syn-queue-full') ?? problems.find((p) => p.id === 'cookies');
  if (queueProblem !== undefined) for (const line of floodLines) queueProblem.evidence.push(`kernel log (dmesg): ${line}`);
  return problems;
}

export function renderExplain(problems: Problem[], profileName: string): string {
  if (problems.length === 0) return `syndrop explain (kernel ${profileName}): no drops found — counters show no listen-path problem.\n`;
  const lines: string[] = [`syndrop explain (kernel ${profileName}): ${problems.length} finding(s)`, ''];
  problems.forEach((p, i) => lines.push(...renderFindingBlock(p, i)));
  return lines.join('\n');
}

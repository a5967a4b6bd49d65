// Step-by-step comparison of what the clients saw from the real kernel and from syndrop:
// step results (connected / timed out / reset), the segments the server sent per flow
// (kind, options, window, sequence relations, timing within tolerance) and the deltas of the
// listen-path counters between snapshots.

import type { CapturedSegment, DriverResult } from './driver.js';
import type { Scenario } from './scenario.js';

/** The listen-path counters (spec §6) compared on both sides; everything else in the server
 *  namespace (forwarding, Ip*, segment totals) is deliberately ignored. */
export const LISTEN_PATH_COUNTERS: readonly string[] = [
  'TcpPassiveOpens',
  'TcpAttemptFails',
  'TcpRetransSegs',
  'TcpOutRsts',
  'TcpExtSyncookiesSent',
  'TcpExtSyncookiesRecv',
  'TcpExtSyncookiesFailed',
  'TcpExtEmbryonicRsts',
  'TcpExtTW',
  'TcpExtTWKilled',
  'TcpExtPAWSEstab',
  'TcpExtPAWSTimewait',
  'TcpExtListenOverflows',
  'TcpExtListenDrops',
  'TcpExtTCPReqQFullDoCookies',
  'TcpExtTCPReqQFullDrop',
  'TcpExtTCPTimeouts',
  'TcpExtTCPSynRetrans',
  'TcpExtTCPACKSkippedSynRecv',
  'TcpExtTCPACKSkippedTimeWait',
  'TcpExtTCPChallengeACK',
  'TcpExtTCPDeferAcceptDrop',
];

export interface Difference {
  /** Index of the first step the difference can be attributed to. */
  step: number;
  /** The step as written in the scenario, e.g. `ack f (ackDelta 1000)`. */
  stepText: string;
  /** What differs: `outcome c3`, `segments f`, `counter TcpExtListenDrops (steps 0–4)` … */
  what: string;
  kernel: unknown;
  syndrop: unknown;
}

/** One normalised server segment: what must match, and when it came. */
interface Token {
  t: number;
  step: number;
  text: string;
}

export function describeStep(scenario: Scenario, index: number): string {
  if (index < 0) return '(start)';
  if (index >= scenario.steps.length) return '(end)';
  const { op, ...rest } = scenario.steps[index]!;
  const args = Object.entries(rest)
    .map(([k, v]) => (k === 'flow' || k === 'client' ? String(v) : `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`))
    .join(' ');
  return `#${index} ${op}${args ? ' ' + args : ''}`;
}

/** Step a segment belongs to: the last step that had started when it arrived. */
function stepAt(result: DriverResult, t: number): number {
  let step = 0;
  for (const s of result.steps) if (s.t <= t) step = s.step;
  return step;
}

function segmentText(seg: CapturedSegment): string {
  const parts: string[] = [seg.kind];
  if (seg.kind === 'SA') {
    parts.push(`opts=${seg.opts.kinds.join(',') || '-'}`);
    if (seg.opts.mss !== undefined) parts.push(`mss=${seg.opts.mss}`);
    if (seg.opts.ws !== undefined) parts.push(`ws=${seg.opts.ws}`);
    parts.push(`win=${seg.win}`);
    if (seg.ackRel !== undefined) parts.push(`ack=isn+${seg.ackRel}`);
    if (seg.seqRel !== undefined) parts.push(seg.seqRel === 0 ? 'seq=same-isn' : 'seq=new-isn');
    // The TIME_WAIT reuse ISN continues the old sequence space (+65537) or is a fresh clock ISN
    // (4.14–6.9, spec §8c): a clock ISN's distance from tw_snd_nxt is random, only its kind counts.
    if (seg.isnFromTw !== undefined) parts.push(seg.isnFromTw === 65537 ? 'isn=tw_snd_nxt+65537' : 'isn=clock');
    if (seg.tsecrEchoes !== undefined) parts.push(`tsecr=${seg.tsecrEchoes}-syn`);
  } else if (seg.kind === 'R' || seg.kind === 'RA') {
    if (seg.kind === 'RA' && seg.ackRel !== undefined) parts.push(`ack=isn+${seg.ackRel}`);
    if (seg.rstSeqIsAck !== undefined) parts.push(seg.rstSeqIsAck ? 'seq=their-ack' : 'seq=other');
  } else if (seg.kind === 'A') {
    if (seg.twAck !== undefined) parts.push(seg.twAck ? 'tw-ack(old snd_nxt/rcv_nxt)' : 'ack(other)');
    else if (seg.ackRel !== undefined) parts.push(`ack=isn+${seg.ackRel}`);
    // The window of full sockets, requests and TIME_WAIT (spec §8c: rcv_wnd >> wscale).
    parts.push(`win=${seg.win}`);
  }
  if (seg.kind !== 'D' && seg.ipIdZero !== undefined) parts.push(seg.ipIdZero ? 'id=0' : 'id≠0');
  return parts.join(' ');
}

function tokensOf(result: DriverResult, segments: CapturedSegment[]): Token[] {
  const tokens: Token[] = [];
  for (const seg of segments) {
    // Pure ACKs inside data flows are compared too (issue 15 item 16: a second ACK after our
    // own data or FIN is a difference).
    const last = tokens[tokens.length - 1];
    if (seg.kind === 'D') {
      const fin = seg.flags.includes('F');
      if (last && last.text.startsWith('D ')) {
        // Consecutive data merge into one token; its window is the first segment's.
        const m = /^D bytes=(\d+) fin=(\w+) win=(\d+)$/.exec(last.text)!;
        last.text = `D bytes=${Number(m[1]) + seg.len} fin=${m[2] === 'true' || fin} win=${m[3]}`;
        continue;
      }
      tokens.push({ t: seg.t, step: stepAt(result, seg.t), text: `D bytes=${seg.len} fin=${fin} win=${seg.win}` });
      continue;
    }
    tokens.push({ t: seg.t, step: stepAt(result, seg.t), text: segmentText(seg) });
  }
  return tokens;
}

function floodBase(flow: string): string | null {
  const i = flow.indexOf('#');
  return i < 0 ? null : flow.slice(0, i);
}

/** A flood is compared as a whole: how many sources were answered, how, and how often. */
function floodSummary(segments: CapturedSegment[]): Record<string, number> {
  const firstByFlow = new Map<string, CapturedSegment>();
  const summary: Record<string, number> = { 'sources answered': 0, 'SYN-ACKs': 0, RSTs: 0 };
  for (const seg of segments) {
    if (seg.kind === 'SA') {
      summary['SYN-ACKs']!++;
      if (!firstByFlow.has(seg.flow)) firstByFlow.set(seg.flow, seg);
    } else if (seg.kind === 'R' || seg.kind === 'RA') {
      summary.RSTs!++;
    }
  }
  summary['sources answered'] = firstByFlow.size;
  for (const seg of firstByFlow.values()) {
    const key = `first SYN-ACK opts=${seg.opts.kinds.join(',') || '-'}`;
    summary[key] = (summary[key] ?? 0) + 1;
  }
  return summary;
}

function tolerance(scenario: Scenario, t: number): number {
  return Math.max(scenario.timingToleranceMs ?? 300, 0.1 * t);
}

function groupByFlow(capture: CapturedSegment[]): Map<string, CapturedSegment[]> {
  const map = new Map<string, CapturedSegment[]>();
  for (const seg of capture) {
    const key = floodBase(seg.flow) === null ? seg.flow : `${floodBase(seg.flow)}#*`;
    const list = map.get(key) ?? [];
    list.push(seg);
    map.set(key, list);
  }
  return map;
}

function compareSegments(scenario: Scenario, kernel: DriverResult, syndrop: DriverResult, out: Difference[]): void {
  const k = groupByFlow(kernel.capture);
  const s = groupByFlow(syndrop.capture);
  const flows = [...new Set([...k.keys(), ...s.keys()])].sort();
  for (const flow of flows) {
    const ks = k.get(flow) ?? [];
    const ss = s.get(flow) ?? [];
    if (flow.endsWith('#*')) {
      const a = floodSummary(ks);
      const b = floodSummary(ss);
      if (JSON.stringify(a, Object.keys(a).sort()) !== JSON.stringify(b, Object.keys(b).sort())) {
        const first = Math.min(ks[0]?.t ?? Infinity, ss[0]?.t ?? Infinity);
        const step = Number.isFinite(first) ? stepAt(kernel, first) : 0;
        out.push({ step, stepText: describeStep(scenario, step), what: `flood ${flow.slice(0, -2)}`, kernel: a, syndrop: b });
      }
      continue;
    }
    const kt = tokensOf(kernel, ks);
    const st = tokensOf(syndrop, ss);
    const n = Math.max(kt.length, st.length);
    for (let i = 0; i < n; i++) {
      const a = kt[i];
      const b = st[i];
      const timed = (x: Token | undefined) => (x ? `${x.text} @${(x.t / 1000).toFixed(2)}s` : '(nothing)');
      let differs = !a || !b || a.text !== b.text;
      if (!differs && a && b && !a.text.startsWith('D ')) differs = Math.abs(a.t - b.t) > tolerance(scenario, Math.max(a.t, b.t));
      if (differs) {
        const step = Math.min(a?.step ?? Infinity, b?.step ?? Infinity);
        out.push({
          step,
          stepText: describeStep(scenario, step),
          what: `segments to ${flow} (#${i + 1})`,
          kernel: timed(a),
          syndrop: timed(b),
        });
        break;
      }
    }
  }
}

function compareSteps(scenario: Scenario, kernel: DriverResult, syndrop: DriverResult, out: Difference[]): void {
  for (let i = 0; i < scenario.steps.length; i++) {
    const a = kernel.steps[i]?.result ?? {};
    const b = syndrop.steps[i]?.result ?? {};
    const op = scenario.steps[i]!.op;
    if (op === 'check') {
      const ao = (a.outcomes ?? {}) as Record<string, string>;
      const bo = (b.outcomes ?? {}) as Record<string, string>;
      for (const client of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) {
        if (ao[client] !== bo[client]) {
          out.push({ step: i, stepText: describeStep(scenario, i), what: `outcome of ${client}`, kernel: ao[client], syndrop: bo[client] });
        }
      }
    } else if (op === 'ack' || op === 'data' || op === 'fin' || op === 'rst' || op === 'recv' || op === 'send' || op === 'floodAck') {
      if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ step: i, stepText: describeStep(scenario, i), what: `${op} result`, kernel: a, syndrop: b });
    }
  }
}

function compareCounters(scenario: Scenario, kernel: DriverResult, syndrop: DriverResult, out: Difference[]): void {
  const ignored = new Set(scenario.ignoreCounters ?? []);
  const intervals = Math.min(kernel.snapshots.length, syndrop.snapshots.length);
  for (let i = 1; i < intervals; i++) {
    const from = kernel.snapshots[i - 1]!.step + 1;
    const to = kernel.snapshots[i]!.step;
    for (const name of LISTEN_PATH_COUNTERS) {
      if (ignored.has(name)) continue;
      const dk = (kernel.snapshots[i]!.counters[name] ?? 0) - (kernel.snapshots[i - 1]!.counters[name] ?? 0);
      const ds = (syndrop.snapshots[i]!.counters[name] ?? 0) - (syndrop.snapshots[i - 1]!.counters[name] ?? 0);
      if (dk !== ds) {
        out.push({ step: from, stepText: describeStep(scenario, from), what: `counter ${name} (steps ${from}–${to})`, kernel: dk, syndrop: ds });
      }
    }
  }
}

/** The flood warnings, word for word, with the listener's address written as <listener>. */
function compareFloodLog(scenario: Scenario, kernel: DriverResult, syndrop: DriverResult, out: Difference[]): void {
  if (kernel.floodLog === undefined || syndrop.floodLog === undefined) return;
  // IPv6 listeners are written [addr]:port (6.2+, %pI6c in brackets).
  const norm = (lines: string[]) => lines.map((l) => l.replace(/on port (\d+\.\d+\.\d+\.\d+|\[[0-9a-f:.]+\]):/, 'on port <listener>:'));
  const a = norm(kernel.floodLog);
  const b = norm(syndrop.floodLog);
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    const step = scenario.steps.length - 1;
    out.push({ step, stepText: describeStep(scenario, step), what: 'flood warning (kernel log)', kernel: a, syndrop: b });
  }
}

/** All differences, the earliest step first (ties: outcomes, segments, counters). */
export function compareRuns(scenario: Scenario, kernel: DriverResult, syndrop: DriverResult): Difference[] {
  const out: Difference[] = [];
  compareSteps(scenario, kernel, syndrop, out);
  compareSegments(scenario, kernel, syndrop, out);
  compareCounters(scenario, kernel, syndrop, out);
  compareFloodLog(scenario, kernel, syndrop, out);
  return out.map((d, i) => ({ d, i })).sort((x, y) => x.d.step - y.d.step || x.i - y.i).map((x) => x.d);
}

/** Counter deltas over the whole run (first to last snapshot), listen-path counters only, non-zero. */
export function totalDeltas(result: DriverResult): Record<string, number> {
  const first = result.snapshots[0]?.counters ?? {};
  const last = result.snapshots[result.snapshots.length - 1]?.counters ?? {};
  const out: Record<string, number> = {};
  for (const name of LISTEN_PATH_COUNTERS) {
    const d = (last[name] ?? 0) - (first[name] ?? 0);
    if (d !== 0) out[name] = d;
  }
  return out;
}

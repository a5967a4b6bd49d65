// The differential harness: every scenario twice with the same real clients — against the
// host's kernel in the lab's server namespace and against `syndrop run --kernel <profile>` on
// the TUN — both sides at once (they share nothing: the kernel listener's counters are the
// server namespace's, syndrop's are its own, and forwarding to the TUN touches no TCP MIB).

import { labUp } from '../lab/lab.js';
import { runInNetns } from '../lab/exec.js';
import { labTopology, type LabTopology } from '../lab/topology.js';
import { compareRuns, totalDeltas, type Difference } from './compare.js';
import { verifyAddressing, type VerifyFamily } from './family.js';
import { runDriver, type CapturedSegment, type DriverResult } from './driver.js';
import { loadKnownDifferences, loadScenarios, selectScenarios, type KnownDifference, type Scenario } from './scenario.js';
import { hostKernel, KernelSide, SyndropSide, type ServerSide } from './sides.js';

export interface VerifyOptions {
  /** Lab prefix (default from SYNDROP_LAB_PREFIX, else sd). */
  prefix?: string;
  /** syndrop profile compared with the host; default 6.x (the host runs 6.13+). */
  profile?: string;
  /** Control-socket instance name for the syndrop side. */
  instance?: string;
  only?: string[];
  /** The clients' IP family (default 4); IPv6 skips the scenarios listed as not yet runnable. */
  family?: VerifyFamily;
  /** Called after each scenario (progress output). */
  onScenario?: (report: ScenarioReport, index: number, total: number) => void;
}

export interface SideReport {
  /** Outcome of every real client at the last `check` step. */
  outcomes: Record<string, string>;
  /** Listen-path counter deltas over the whole scenario (non-zero only). */
  counters: Record<string, number>;
  /** Server segments captured (first 200). */
  segments: Array<Pick<CapturedSegment, 't' | 'flow' | 'kind' | 'flags' | 'win' | 'len'> & { opts: string }>;
  segmentCount: number;
}

export interface ScenarioReport {
  name: string;
  title: string;
  spec: string;
  agree: boolean;
  /** Reason from assets/verify/known-differences.json when this disagreement is a listed, deliberate one. */
  known: string | null;
  firstDifference: Difference | null;
  differences: Difference[];
  kernel: SideReport | null;
  syndrop: SideReport | null;
  durationMs: number;
  error?: string;
  /** Set when the scenario was not run on this family, with the reason (from known-differences.json). */
  skipped?: string;
  /**
   * Set when the first run disagreed and a second run (fresh ports) agreed: the first
   * difference, kept so a timing race on a loaded machine is visible, not hidden.
   */
  disagreedOnceThenAgreed?: Difference | null;
}

export interface VerifyReport {
  hostKernel: string;
  profile: string;
  /** Set on an IPv6 run (an IPv4 report stays as it was). */
  family?: 6;
  lab: string;
  scenarios: ScenarioReport[];
  agreed: number;
  total: number;
  knownDifferences: number;
  unexpected: number;
  /** IPv6 runs: scenarios not run on IPv6, each with its reason in its report row. */
  skipped?: number;
  runtimeMs: number;
}

function sideReport(result: DriverResult): SideReport {
  let outcomes: Record<string, string> = {};
  for (const step of result.steps) {
    if (step.op === 'check') outcomes = (step.result.outcomes ?? {}) as Record<string, string>;
  }
  return {
    outcomes,
    counters: totalDeltas(result),
    segments: result.capture.slice(0, 200).map((s) => ({ t: s.t, flow: s.flow, kind: s.kind, flags: s.flags, win: s.win, len: s.len, opts: s.opts.kinds.join(',') })),
    segmentCount: result.capture.length,
  };
}

async function setClientSysctls(topology: LabTopology, values: Record<string, number> | undefined): Promise<Array<[string, string]>> {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return [];
  const ns = topology.nodes.c3.netns;
  const { stdout } = await runInNetns(ns, ['sysctl', '-n', ...entries.map(([k]) => k)]);
  const old = stdout.trim().split('\n');
  await runInNetns(ns, ['sysctl', '-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
  return entries.map(([k], i) => [k, (old[i] ?? '').trim()]);
}

async function restoreClientSysctls(topology: LabTopology, saved: Array<[string, string]>): Promise<void> {
  if (saved.length === 0) return;
  await runInNetns(topology.nodes.c3.netns, ['sysctl', '-q', '-w', ...saved.map(([k, v]) => `${k}=${v}`)], { allowFailure: true });
}

function plannedMs(scenario: Scenario): number {
  return scenario.steps.reduce((sum, step) => sum + (step.op === 'wait' ? step.ms : 0), 0);
}

async function runSide(side: ServerSide, scenario: Scenario, topology: LabTopology, port: number, spoofNet: string, seed: number): Promise<DriverResult> {
  await side.start(scenario, port);
  try {
    const result = await runDriver(
      topology.nodes.c3.netns,
      { server: side.address, port, closedPort: port + 1, spoofNet, seed, steps: scenario.steps },
      () => side.counters(),
      plannedMs(scenario) + 20_000,
    );
    result.floodLog = await side.floodLog(port);
    return result;
  } finally {
    await side.stop();
  }
}

/**
 * Run one scenario on both sides and compare. Never throws: failures become `error`. The real
 * kernel is the host's in the server namespace unless `reference` names another (a qemu guest).
 */
export async function runScenario(
  scenario: Scenario,
  topology: LabTopology,
  profile: string,
  instance: string,
  port: number,
  known: Map<string, string>,
  reference?: ServerSide,
  family: VerifyFamily = 4,
): Promise<ScenarioReport> {
  const started = Date.now();
  const addressing = verifyAddressing(family);
  const kernelSide = reference ?? new KernelSide(topology, addressing.kernelAddress);
  // Every scenario ends with a counter snapshot, so the last interval is always compared.
  const steps = scenario.steps[scenario.steps.length - 1]?.op === 'snap' ? scenario.steps : [...scenario.steps, { op: 'snap' as const }];
  const effective: Scenario = { ...scenario, steps };
  const seed = port;
  const base: Omit<ScenarioReport, 'agree' | 'firstDifference' | 'differences' | 'kernel' | 'syndrop' | 'durationMs'> = {
    name: scenario.name,
    title: scenario.title,
    spec: scenario.spec,
    known: null,
  };
  let saved: Array<[string, string]> = [];
  try {
    saved = await setClientSysctls(topology, scenario.clientSysctls);
    // allSettled, not all: a side that fails must not leave the other one still running into
    // the next scenario (its traffic would land in that scenario's counters).
    const settled = await Promise.allSettled([
      runSide(kernelSide, effective, topology, port, addressing.kernelSpoofNet, seed),
      runSide(new SyndropSide(topology, profile, instance, family), effective, topology, port, addressing.syndropSpoofNet, seed),
    ]);
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw failed[0]!.reason;
    const [kernel, syndrop] = settled.map((r) => (r as PromiseFulfilledResult<DriverResult>).value) as [DriverResult, DriverResult];
    const differences = compareRuns(effective, kernel, syndrop);
    const agree = differences.length === 0;
    return {
      ...base,
      agree,
      known: agree ? null : (known.get(scenario.name) ?? null),
      firstDifference: differences[0] ?? null,
      differences,
      kernel: sideReport(kernel),
      syndrop: sideReport(syndrop),
      durationMs: Date.now() - started,
    };
  } catch (error) {
    return {
      ...base,
      agree: false,
      firstDifference: null,
      differences: [],
      kernel: null,
      syndrop: null,
      durationMs: Date.now() - started,
      error: error instanceof Error ? error.message : String(error),
    };
  } finally {
    await restoreClientSysctls(topology, saved);
  }
}

/** The whole suite (or --only), sequentially, on one lab. */
export async function runVerify(options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const topology = labTopology(options.prefix);
  await labUp({ prefix: topology.prefix });
  const profile = options.profile ?? '6.x';
  const instance = options.instance ?? `${process.env.SYNDROP_INSTANCE ?? 'default'}-verify`;
  const family = options.family ?? 4;
  const selected = selectScenarios(loadScenarios(), options.only);
  const lists = knownLists(family);
  const known = new Map(lists.differences.map((k) => [k.scenario, k.reason]));
  const skips = new Map(lists.skipped.map((k) => [k.scenario, k.reason]));
  const skippedReports = selected.filter((s) => skips.has(s.name)).map((s) => skippedReport(s, skips.get(s.name)!));
  const scenarios = selected.filter((s) => !skips.has(s.name));
  // A fresh port range per run: TIME_WAIT sockets of an earlier run (60 s) must not meet the
  // crafted flows of this one, which reuse their source addresses and ports.
  const basePort = 10_000 + 2 * Math.floor(Math.random() * 20_000);
  const reports: ScenarioReport[] = [];
  for (let i = 0; i < scenarios.length; i++) {
    let report = await runScenario(scenarios[i]!, topology, profile, instance, basePort + 2 * i, known, undefined, family);
    if (!report.agree && report.known === null) {
      // A difference must reproduce to count: real timers on a busy 2-core machine can put
      // one retransmission on either side of an observation edge. Re-run once, fresh ports.
      const again = await runScenario(scenarios[i]!, topology, profile, instance, basePort + 2 * (scenarios.length + i), known, undefined, family);
      if (again.agree) report = { ...again, disagreedOnceThenAgreed: report.firstDifference };
    }
    reports.push(report);
    options.onScenario?.(report, i, scenarios.length);
  }
  const agreed = reports.filter((r) => r.agree).length;
  const knownDifferences = reports.filter((r) => !r.agree && r.known !== null).length;
  return {
    hostKernel: await hostKernel(),
    profile,
    lab: topology.prefix,
    scenarios: reports,
    agreed,
    total: reports.length,
    knownDifferences,
    unexpected: reports.length - agreed - knownDifferences,
    runtimeMs: Date.now() - started,
    ...(family === 6 ? { family, scenarios: [...reports, ...skippedReports], skipped: skippedReports.length } : {}),
  };
}

/** The listed differences (and, for IPv6, the scenarios not run) of known-differences.json. */
function knownLists(family: VerifyFamily): { differences: KnownDifference[]; skipped: KnownDifference[] } {
  if (family === 4) return { differences: loadKnownDifferences(), skipped: [] };
  return { differences: loadKnownDifferences(undefined, 'differencesIpv6'), skipped: loadKnownDifferences(undefined, 'skippedIpv6') };
}

function skippedReport(scenario: Scenario, reason: string): ScenarioReport {
  const none = { known: null, firstDifference: null, differences: [], kernel: null, syndrop: null, durationMs: 0 };
  return { name: scenario.name, title: scenario.title, spec: scenario.spec, agree: false, ...none, skipped: reason };
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** One row per scenario, then the agreement figure. */
export function formatVerifyTable(report: VerifyReport): string {
  const rows: string[][] = [['SCENARIO', 'RESULT', 'FIRST DIFFERING STEP']];
  for (const s of report.scenarios) {
    const result = s.skipped !== undefined ? 'skipped' : s.agree ? (s.disagreedOnceThenAgreed !== undefined ? 'agree (2nd run)' : 'agree') : s.error ? 'error' : s.known ? 'disagree (known)' : 'disagree';
    let first = '';
    const d = s.firstDifference ?? s.disagreedOnceThenAgreed ?? null;
    if (s.skipped !== undefined) first = `not on IPv6 yet: ${s.skipped}`;
    else if (s.error) first = s.error;
    else if (d !== null) {
      const prefix = s.agree ? 'first run only: ' : '';
      first = `${prefix}${d.stepText}: ${d.what}: kernel ${show(d.kernel)} / syndrop ${show(d.syndrop)} [spec ${s.spec}]`;
    }
    rows.push([s.name, result, first]);
  }
  const widths = [0, 1].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => `${pad(r[0]!, widths[0]!)}  ${pad(r[1]!, widths[1]!)}  ${r[2]}`.trimEnd());
  lines.push('');
  lines.push(formatAgreement(report));
  return lines.join('\n');
}

export function formatAgreement(report: VerifyReport): string {
  const pct = report.total === 0 ? 0 : (100 * report.agreed) / report.total;
  return (
    `agreement${report.family === 6 ? ' over IPv6' : ''}: ${report.agreed}/${report.total} scenarios (${pct.toFixed(1)}%) with host kernel ${report.hostKernel} vs profile ${report.profile}; ` +
    `${report.knownDifferences} known difference(s), ${report.unexpected} unexpected${report.skipped !== undefined ? `, ${report.skipped} not run on IPv6` : ''}; ${(report.runtimeMs / 1000).toFixed(1)} s`
  );
}

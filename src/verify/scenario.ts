// Differential scenarios as data: what the server is (backlog, accept policy, application,
// sysctls) and what the clients do, step by step. The same script is played against the host's
// real kernel and against `syndrop run` (assets/verify/scenarios/*.json).

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath } from '../assets.js';
import { SyndropError, usageError } from '../errors.js';

/** TCP options of a crafted SYN; ts: true means "send a timestamp" (the driver picks TSval). */
export interface SynOptions {
  mss?: number;
  sack?: boolean;
  ts?: boolean;
  ws?: number;
}

/**
 * One client action. Real sockets (`connect` … `close`) belong to the client namespace's kernel;
 * crafted flows (`syn` … `floodAck`) come from spoofed sources and are driven segment by segment.
 */
export type Step =
  | { op: 'wait'; ms: number }
  | { op: 'snap' }
  | { op: 'connect'; client: string; count?: number; gapMs?: number }
  | { op: 'check'; clients?: string[] }
  | { op: 'send'; client: string; data?: string }
  | { op: 'recv'; client: string }
  | { op: 'close'; client: string; graceful?: boolean }
  | { op: 'syn'; flow: string; opts?: SynOptions; seq?: 'isn' | 'next' | 'lower'; tsval?: 'now' | 'old' | 'same'; closedPort?: boolean; window?: number }
  | { op: 'ack'; flow: string; ackDelta?: number; data?: string }
  | { op: 'data'; flow: string; data: string }
  | { op: 'fin'; flow: string }
  | { op: 'rst'; flow: string; seqDelta?: number; withAck?: boolean }
  | { op: 'flood'; flow: string; count: number; opts?: SynOptions; gapUs?: number }
  | { op: 'floodAck'; flow: string; gapUs?: number };

export type AcceptPolicy = 'never' | 'fast' | number;
export type ServerApp = 'http' | 'echo' | 'discard';

export interface Scenario {
  name: string;
  title: string;
  /** Spec sections the scenario exercises, e.g. "§1.5, §3.1". */
  spec: string;
  backlog: number;
  accept: AcceptPolicy;
  app: ServerApp;
  /** Server sysctls: written in the kernel's server namespace, given to syndrop as --sysctl. */
  sysctls?: Record<string, number>;
  /** Sysctls of the client namespace for this scenario (restored afterwards). */
  clientSysctls?: Record<string, number>;
  steps: Step[];
  /** Counters not compared in this scenario, with the reason in `why`. */
  ignoreCounters?: string[];
  /** Timing tolerance for server segments (ms); default 300 ms or 10 %, whichever is larger. */
  timingToleranceMs?: number;
}

export interface ScenarioFile {
  group: string;
  scenarios: Scenario[];
}

const STEP_OPS = new Set(['wait', 'snap', 'connect', 'check', 'send', 'recv', 'close', 'syn', 'ack', 'data', 'fin', 'rst', 'flood', 'floodAck']);

function validate(scenario: Scenario, file: string): void {
  const where = `${file}: scenario ${scenario.name ?? '(unnamed)'}`;
  if (typeof scenario.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(scenario.name)) throw new SyndropError('SYNDROP_ERR_USAGE', `${where}: bad name`);
  if (!Number.isInteger(scenario.backlog)) throw new SyndropError('SYNDROP_ERR_USAGE', `${where}: backlog must be an integer`);
  if (!Array.isArray(scenario.steps) || scenario.steps.length === 0) throw new SyndropError('SYNDROP_ERR_USAGE', `${where}: no steps`);
  for (const step of scenario.steps) {
    if (!STEP_OPS.has(step.op)) throw new SyndropError('SYNDROP_ERR_USAGE', `${where}: unknown step op ${String(step.op)}`);
    if (step.op === 'flood' && (step.count < 1 || step.count > 2000)) {
      throw new SyndropError('SYNDROP_ERR_USAGE', `${where}: floods are bounded to 1..2000 SYNs`);
    }
  }
}

/** Every scenario under assets/verify/scenarios, in file then declaration order. */
export function loadScenarios(dir: string = assetPath('verify', 'scenarios')): Scenario[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const out: Scenario[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ScenarioFile;
    for (const scenario of parsed.scenarios) {
      validate(scenario, file);
      if (seen.has(scenario.name)) throw new SyndropError('SYNDROP_ERR_USAGE', `${file}: duplicate scenario ${scenario.name}`);
      seen.add(scenario.name);
      out.push(scenario);
    }
  }
  return out;
}

/** Scenarios whose name matches one of the patterns (exact, or a prefix ending in '*'). */
export function selectScenarios(all: Scenario[], only: string[] | undefined): Scenario[] {
  if (!only || only.length === 0) return all;
  const picked = all.filter((s) => only.some((p) => (p.endsWith('*') ? s.name.startsWith(p.slice(0, -1)) : s.name === p)));
  if (picked.length === 0) throw usageError(`--only ${only.join(',')}: no such scenario (see assets/verify/scenarios)`);
  return picked;
}

export interface KnownDifference {
  scenario: string;
  /** Why the difference is a deliberate limitation of the emulator, not a bug. */
  reason: string;
}

/** A limitation the scenarios are written around (not a listed difference): prose for reviewers. */
export interface Limitation {
  topic: string;
  text: string;
}

/** assets/verify/known-differences.json: the differences CI accepts, each with its reason. */
export interface KnownDifferencesFile {
  title: string;
  about: string[];
  differences: KnownDifference[];
  /** `syndrop verify --family 6`: the differences accepted over IPv6. */
  differencesIpv6: KnownDifference[];
  /** Scenarios `verify --family 6` does not run yet, each with why. */
  skippedIpv6: KnownDifference[];
  limitations: Limitation[];
}

/** Lists of scenario + reason in the file: IPv4 differences, IPv6 differences, scenarios not run on IPv6. */
export type KnownList = 'differences' | 'differencesIpv6' | 'skippedIpv6';

/**
 * The listed differences of assets/verify/known-differences.json. A missing or malformed file is
 * an error, not an empty list: an entry silently skipped would fail CI with no word of why.
 */
export function loadKnownDifferences(path: string = assetPath('verify', 'known-differences.json'), list: KnownList = 'differences'): KnownDifference[] {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<KnownList, unknown>>;
  const entries = parsed[list];
  if (!Array.isArray(entries)) throw new SyndropError('SYNDROP_ERR_USAGE', `${path}: "${list}" must be a list`);
  return entries.map((entry, i) => {
    const { scenario, reason } = (entry ?? {}) as Partial<KnownDifference>;
    if (typeof scenario !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(scenario)) {
      throw new SyndropError('SYNDROP_ERR_USAGE', `${path}: ${list}[${i}]: "scenario" must be a scenario name`);
    }
    if (typeof reason !== 'string' || reason.trim().length === 0) {
      throw new SyndropError('SYNDROP_ERR_USAGE', `${path}: ${list}[${i}] (${scenario}): "reason" must say why`);
    }
    return { scenario, reason: reason.trim() };
  });
}

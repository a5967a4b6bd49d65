// Runs scenarios: brings the lab up if needed, runs each scenario with its own emulator child,
// always cleans up, and leaves the lab as it was found — a lab the user had up stays up (with
// its client sysctls restored), a lab the runner brought up is taken down again.

import { SyndropError, usageError } from '../../errors.js';
import { resolveProfile } from '../../profiles/resolve.js';
import { labDown, labUp, listNetns, requireRoot } from '../lab.js';
import { haveTool } from '../exec.js';
import { LAB_NODE_NAMES, labTopology, type LabTopology } from '../topology.js';
import { ScenarioContext, timingFor } from './context.js';
import type { ScenarioFamily } from './family.js';
import { silentProgress, type Progress } from './progress.js';
import { SCENARIOS, scenarioByName } from './registry.js';
import type { ScenarioResult } from './types.js';

export const DEFAULT_MATRIX_KERNELS = ['3.10', '4.4', '4.10', '5.4', '6.x'] as const;

export interface RunOptions {
  realTiming?: boolean;
  progress?: Progress;
  /** Lab prefix (default from SYNDROP_LAB_PREFIX, else `sd`). */
  prefix?: string;
  /** Keep each emulator's recording in the result (for `--report`). */
  record?: boolean;
  /** The clients' IP family (default 4). */
  family?: ScenarioFamily;
}

interface LabSession {
  topology: LabTopology;
  broughtUp: boolean;
}

const REQUIRED_TOOLS = ['ip', 'curl', 'iptables', 'nft'];

async function openLab(prefix: string | undefined, family: ScenarioFamily): Promise<LabSession> {
  requireRoot();
  const required = family === 4 ? REQUIRED_TOOLS : [...REQUIRED_TOOLS, 'ip6tables'];
  for (const tool of required) {
    if (!(await haveTool(tool))) throw new SyndropError('SYNDROP_ERR_MISSING_TOOL', `'${tool}' not found: scenarios need ${required.join(', ')} (apt-get install iproute2 curl iptables nftables)`);
  }
  const topology = labTopology(prefix);
  const existing = new Set(await listNetns());
  const wasUp = LAB_NODE_NAMES.every((n) => existing.has(topology.nodes[n].netns));
  // labUp is idempotent: on a lab that is up it only repairs what is missing.
  await labUp({ prefix: topology.prefix });
  return { topology, broughtUp: !wasUp };
}

async function closeLab(session: LabSession): Promise<void> {
  if (session.broughtUp) await labDown({ prefix: session.topology.prefix });
}

/** Stop children and undo changes on Ctrl-C / SIGTERM too, then exit 130 / 143. */
function withSignalCleanup<T>(work: (register: (fn: () => Promise<unknown>) => void) => Promise<T>): Promise<T> {
  const pending: Array<() => Promise<unknown>> = [];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nsyndrop: ${signal}: stopping the scenario and cleaning up\n`);
    void (async () => {
      for (const fn of pending.reverse()) await fn().catch(() => undefined);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return work((fn) => pending.push(fn)).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
}

async function runOne(session: LabSession, name: string, kernel: string, options: RunOptions, register: (fn: () => Promise<unknown>) => void): Promise<ScenarioResult> {
  const scenario = scenarioByName(name);
  const profile = resolveProfile(kernel);
  const progress = options.progress ?? silentProgress();
  const family = options.family ?? 4;
  const ctx = new ScenarioContext(session.topology, timingFor(options.realTiming === true), progress, `scenario-${process.pid}`, options.record === true, family);
  register(() => ctx.cleanup());
  const started = Date.now();
  progress.begin(name, family === 4 ? profile.name : `${profile.name}, IPv6`);
  let error: string | undefined;
  let outcome = { cell: 'error', facts: {} as Record<string, unknown> };
  try {
    outcome = await scenario.run(ctx, profile);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    const problems = await ctx.cleanup();
    if (problems.length > 0) error = [error, ...problems.map((p) => `cleanup: ${p}`)].filter(Boolean).join('; ');
  }
  const ok = error === undefined && ctx.rows.length > 0 && ctx.rows.every((r) => r.ok);
  progress.end(ok);
  return {
    scenario: name,
    kernel: profile.name,
    family,
    profileDescription: profile.description,
    ok,
    rows: ctx.rows,
    outcome,
    durationMs: Date.now() - started,
    ...(error === undefined ? {} : { error }),
    ...(options.record === true ? { recordings: ctx.recordings } : {}),
  };
}

export async function runScenario(name: string, kernel: string, options: RunOptions = {}): Promise<ScenarioResult> {
  scenarioByName(name);
  resolveProfile(kernel);
  return withSignalCleanup(async (register) => {
    const session = await openLab(options.prefix, options.family ?? 4);
    register(() => closeLab(session));
    try {
      return await runOne(session, name, kernel, options, register);
    } finally {
      await closeLab(session);
    }
  });
}

export interface MatrixResult {
  family: ScenarioFamily;
  kernels: string[];
  scenarios: string[];
  results: ScenarioResult[];
  ok: boolean;
}

export async function runMatrix(kernels: readonly string[], names: readonly string[] = SCENARIOS.map((s) => s.name), options: RunOptions = {}): Promise<MatrixResult> {
  if (kernels.length === 0) throw usageError('--kernels: give at least one kernel');
  const canonical = kernels.map((k) => resolveProfile(k).name);
  for (const name of names) scenarioByName(name);
  return withSignalCleanup(async (register) => {
    const session = await openLab(options.prefix, options.family ?? 4);
    register(() => closeLab(session));
    const results: ScenarioResult[] = [];
    try {
      for (const name of names) {
        for (const kernel of canonical) results.push(await runOne(session, name, kernel, options, register));
      }
    } finally {
      await closeLab(session);
    }
    return { family: options.family ?? 4, kernels: canonical, scenarios: [...names], results, ok: results.every((r) => r.ok) };
  });
}

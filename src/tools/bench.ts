// `make bench`: SYN-path throughput in-process and over TUN, allocation/GC per million SYNs,
// memory per half-open request, latency of single SYNs at low rate. Prints one table and writes
// bench/results/latest.json, with per-round ratios, their spread and the machine's steal/load so
// a noisy run says so.
//
//   node dist/tools/bench.js [--quick] [--skip-tun] [--count N] [--runs N] [--memory-requests N]
//                            [--tun-rounds N] [--tun-seconds S] [--tun-count N] [--prefix P]
//                            [--latency-rounds N] [--latency-count N] [--latency-rate R]
//                            [--instance I] [--out FILE] [--no-pin] [--profile] [--only LIST]
//
// The in-process measurements run in child processes of this script (a fresh heap per path),
// pinned with `taskset -c 1` when the machine has two CPUs or more; section 4 needs root.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AllocMeter } from './bench/alloc.js';
import { IN_PROCESS_PATHS, runInProcessPath, type InProcessPath, type PathResult } from './bench/inprocess.js';
import { runMemory, type MemoryResult } from './bench/memory.js';
import { offlineSection } from './bench/offline.js';
import { evaluateTargets, renderReport, summarizePath, type BenchReport } from './bench/report.js';
import { topSelfTime } from './bench/profile.js';
import { LatencyBench, type LatencySection } from './bench/latency.js';
import { machineWindow } from './bench/machine.js';
import { TunBench, tunPrerequisites, type TunSection } from './bench/tun.js';
import { runFloodMemory } from './flood-memory.js';
import { toolOptionsOrExit, type ToolOptions } from './tool-args.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '..', '..');
/** --profile writes the workers' .cpuprofile files here (outside the repository). */
const PROF_DIR = join(tmpdir(), 'syndrop-bench-prof');

interface Options {
  quick: boolean;
  skipTun: boolean;
  count: number;
  runs: number;
  memoryRequests: number;
  tunRounds: number;
  tunSeconds: number;
  tunCount: number;
  latencyRounds: number;
  latencyCount: number;
  latencyRate: number;
  prefix: string;
  instance: string;
  out: string;
  pin: boolean;
  profile: boolean;
  only: Set<string>;
  floodSeconds: number;
  worker: string | null;
  path: string | null;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const SECTIONS = ['inprocess', 'memory', 'offline', 'tun', 'latency', 'flood'];

const BENCH_OPTIONS = {
  quick: { type: 'boolean', help: 'smoke counts: 20k frames, 1 TUN round of 2 s, 1 latency round of 300 probes, no flood' },
  'skip-tun': { type: 'boolean', help: 'in-process sections only (no lab, no root)' },
  count: { type: 'integer', default: null, min: 64, help: 'frames per in-process run (default 1000000, quick 20000)' },
  runs: { type: 'integer', default: 5, min: 1, help: 'in-process runs (the median is reported)' },
  'memory-requests': { type: 'integer', default: null, min: 1, help: 'half-open requests for the memory section (default 1000000)' },
  'tun-rounds': { type: 'integer', default: null, min: 1, help: 'TUN rounds per side, interleaved (default 5, quick 1)' },
  'tun-seconds': { type: 'integer', default: null, min: 1, max: 60, help: 'seconds per TUN round (default 4, quick 2)' },
  'tun-count': { type: 'integer', default: null, min: 1, help: 'SYNs per TUN round (default 1M per second)' },
  'latency-rounds': { type: 'integer', default: null, min: 1, help: 'latency rounds, interleaved (default 3, quick 1)' },
  'latency-count': { type: 'integer', default: null, min: 10, max: 100000, help: 'probes per latency run (default 3000, quick 300)' },
  'latency-rate': { type: 'integer', default: 1000, min: 1, max: 20000, help: 'latency probes per second' },
  prefix: { type: 'string', default: process.env.SYNDROP_BENCH_LAB_PREFIX ?? 'sdb', help: 'lab prefix of the bench lab' },
  instance: { type: 'string', default: process.env.SYNDROP_BENCH_INSTANCE ?? 'bench', help: 'control-socket instance name' },
  out: { type: 'string', default: join(ROOT, 'bench', 'results', 'latest.json'), help: 'where the JSON report goes' },
  'no-pin': { type: 'boolean', help: 'do not pin workers with taskset' },
  profile: { type: 'boolean', help: 'write .cpuprofile files of the workers' },
  'flood-seconds': { type: 'integer', default: 60, min: 1, max: 120, help: 'length of the bounded flood (at most 120)' },
  only: { type: 'string', default: SECTIONS.join(','), help: 'comma-separated sections to run' },
  // Internal: how the script runs its own measurement workers.
  worker: { type: 'string', default: null, help: '(internal) run one worker job' },
  path: { type: 'string', default: null, help: '(internal) the in-process path of a worker' },
} satisfies ToolOptions;

function parseOptions(argv: string[]): Options {
  const v = toolOptionsOrExit('bench', BENCH_OPTIONS, argv);
  if (v === null) process.exit(process.exitCode as number);
  const quick = v.quick;
  const only = new Set(v.only.split(',').filter(Boolean));
  for (const section of only) if (!SECTIONS.includes(section)) usage(`--only: unknown section ${section}`);
  const tunSeconds = v['tun-seconds'] ?? (quick ? 2 : 4);
  return {
    quick,
    skipTun: v['skip-tun'],
    count: v.count ?? (quick ? 20_000 : 1_000_000),
    runs: v.runs,
    memoryRequests: v['memory-requests'] ?? (quick ? 20_000 : 1_000_000),
    tunRounds: v['tun-rounds'] ?? (quick ? 1 : 5),
    latencyRounds: v['latency-rounds'] ?? (quick ? 1 : 3),
    latencyCount: v['latency-count'] ?? (quick ? 300 : 3000),
    latencyRate: v['latency-rate'],
    tunSeconds,
    tunCount: v['tun-count'] ?? tunSeconds * 1_000_000,
    prefix: v.prefix,
    instance: v.instance,
    out: resolve(v.out),
    pin: !v['no-pin'],
    profile: v.profile,
    only,
    floodSeconds: v['flood-seconds'],
    worker: v.worker,
    path: v.path,
  };
}

// ------------------------------------------------------------------ workers

const RESULT_MARK = 'BENCH-RESULT ';

function workerMain(o: Options): void {
  let result: unknown;
  if (o.worker === 'inprocess') {
    const path = o.path as InProcessPath;
    if (!IN_PROCESS_PATHS.includes(path)) usage(`--path must be one of ${IN_PROCESS_PATHS.join(', ')}`);
    result = runInProcessPath(path, o.count, o.runs);
  } else if (o.worker === 'memory') {
    result = runMemory(o.memoryRequests);
  } else {
    usage(`unknown worker ${o.worker}`);
  }
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}

/** `taskset -c 1` when there are two CPUs or more and taskset exists (checked by trying). */
let pinPrefix: string[] | null = null;
async function pinning(o: Options): Promise<string[]> {
  if (pinPrefix !== null) return pinPrefix;
  pinPrefix = [];
  if (o.pin && cpus().length >= 2) {
    const ok = await new Promise<boolean>((res) => {
      const c = spawn('taskset', ['-c', '1', 'true'], { stdio: 'ignore' });
      c.on('error', () => res(false));
      c.on('exit', (code) => res(code === 0));
    });
    if (ok) pinPrefix = ['taskset', '-c', '1'];
  }
  return pinPrefix;
}

async function spawnWorker<T>(o: Options, args: string[], label: string): Promise<T> {
  const prefix = await pinning(o);
  const nodeArgs = ['--expose-gc', '--max-old-space-size=4096'];
  if (o.profile) {
    const dir = PROF_DIR;
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `${label}.cpuprofile`);
  }
  const argv = [...prefix, process.execPath, ...nodeArgs, SELF, ...args];
  return new Promise<T>((res, rej) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', rej);
    child.on('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code !== 0 || line === undefined) {
        rej(new Error(`bench worker ${label} failed (exit ${code ?? signal}): ${out.slice(-400)}`));
        return;
      }
      res(JSON.parse(line.slice(RESULT_MARK.length)) as T);
    });
  });
}

function printProfile(label: string, log: (line: string) => void): void {
  const file = join(PROF_DIR, `${label}.cpuprofile`);
  try {
    log(`  profile ${file} (self time, whole worker incl. frame-pool setup):`);
    for (const f of topSelfTime(file, 14)) log(`    ${f.selfPercent.toFixed(1).padStart(5)}%  ${f.name}  ${f.location}`);
  } catch (error) {
    log(`  profile ${file}: ${(error as Error).message}`);
  }
}

// ------------------------------------------------------------------ lab sections (4 and 6)

type Skipped = { skipped: true; reason: string };

/** The TUN throughput and latency sections share one lab, one kernel listener, one teardown. */
async function labSections(o: Options, log: (line: string) => void): Promise<{ tun: TunSection | Skipped; latency: LatencySection | Skipped }> {
  const wanted = { tun: o.only.has('tun'), latency: o.only.has('latency') };
  const skip = (reason: string) => ({
    tun: { skipped: true as const, reason: wanted.tun ? reason : 'not selected (--only)' },
    latency: { skipped: true as const, reason: wanted.latency ? reason : 'not selected (--only)' },
  });
  if (o.skipTun) return skip('--skip-tun');
  if (!wanted.tun && !wanted.latency) return skip('not selected (--only)');
  const reason = tunPrerequisites(ROOT);
  if (reason !== undefined) {
    log(`tun, latency: skipped (${reason})`);
    return skip(reason);
  }
  const serverCpu = cpus().length >= 2 ? 1 : 0;
  const bench = new TunBench({
    root: ROOT, prefix: o.prefix, instance: o.instance, rounds: o.tunRounds, seconds: o.tunSeconds, count: o.tunCount,
    genCpu: 0, serverCpu, keepLab: false, log,
  });
  const latencyBench = new LatencyBench({
    servers: bench.servers, clientNetns: bench.clientNetns, rounds: o.latencyRounds, rate: o.latencyRate, count: o.latencyCount,
    genCpu: 0, log,
  });
  const stop = () => {
    void bench.tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const out: { tun: TunSection | Skipped; latency: LatencySection | Skipped } = skip('failed before it ran');
  const failed = (error: unknown) => {
    log(`lab sections: ${(error as Error).message}`);
    return { skipped: true as const, reason: `failed: ${(error as Error).message}` };
  };
  try {
    const latencySeconds = o.latencyRounds * 6 * (o.latencyCount / o.latencyRate + 4);
    await bench.setUp((wanted.tun ? bench.expectedSeconds() : 0) + (wanted.latency ? latencySeconds : 0));
    if (wanted.tun) out.tun = await bench.run().catch(failed);
    if (wanted.latency) out.latency = await latencyBench.run().catch(failed);
  } catch (error) {
    const f = failed(error);
    if (wanted.tun) out.tun = f;
    if (wanted.latency) out.latency = f;
  } finally {
    await bench.tearDown();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return out;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.worker !== null) {
    workerMain(o);
    return;
  }
  const started = Date.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const loadBefore = loadavg();
  const wholeRun = machineWindow();
  const pinned = (await pinning(o)).length > 0 ? 'workers pinned with taskset -c 1' : 'not pinned';
  const common = ['--count', String(o.count), '--runs', String(o.runs), '--memory-requests', String(o.memoryRequests)];

  const inProcess: BenchReport['inProcess'] = {};
  const allocation: BenchReport['allocation'] = {
    method: AllocMeter.available()
      ? 'v8.GCProfiler: heap bytes = used-heap growth + bytes freed by each GC; scavenges/mark-sweeps counted per GC record; external = ArrayBuffer growth'
      : 'unavailable (v8.GCProfiler missing)',
  };
  if (o.only.has('inprocess')) {
    for (const path of IN_PROCESS_PATHS) {
      log(`in-process: ${path} (${o.count.toLocaleString('en-US')} frames × ${o.runs} runs + warm-up)…`);
      const result = await spawnWorker<PathResult>(o, ['--worker', 'inprocess', '--path', path, ...common], `inprocess-${path}`);
      const s = summarizePath(result);
      inProcess[path] = s;
      allocation[path] = s.alloc;
      if (o.profile) printProfile(`inprocess-${path}`, log);
      log(`  ${path}: median ${Math.round(s.perSec.median).toLocaleString('en-US')}/s (min ${Math.round(s.perSec.min).toLocaleString('en-US')}, max ${Math.round(s.perSec.max).toLocaleString('en-US')}), ${s.alloc.scavengesPer1M.toFixed(1)} scavenges/1M${s.ok ? '' : ' — UNEXPECTED OUTCOMES'}`);
    }
  } else inProcess.skipped = 'not selected (--only)';

  let memory: BenchReport['memory'] = { skipped: 'not selected (--only)' };
  if (o.only.has('memory')) {
    log(`memory: ${o.memoryRequests.toLocaleString('en-US')} half-open requests…`);
    memory = await spawnWorker<MemoryResult>(o, ['--worker', 'memory', ...common], 'memory');
    if (o.profile) printProfile('memory', log);
  }

  const offline = o.only.has('offline') ? offlineSection({ quick: o.quick, out: join(dirname(o.out), 'offline.json'), log }) : null; // replay and simulate (issue 17), bench/offline.ts
  const { tun, latency } = await labSections(o, log);

  // 5. The "a 60 s bounded flood keeps RSS flat while a legitimate curl connects":
  // the flood-memory tool, both phases (cookies on, then off), in its own lab.
  let flood: BenchReport['flood'] = { skipped: 'not selected (--only)' };
  if (o.skipTun || o.quick) flood = { skipped: o.quick ? '--quick' : '--skip-tun (needs the lab)' };
  else if (o.only.has('flood')) {
    const reason = tunPrerequisites(ROOT);
    if (reason !== undefined) flood = { skipped: reason };
    else {
      log(`flood: ${o.floodSeconds} s per phase, cookies on then off…`);
      try {
        flood = await runFloodMemory({ seconds: o.floodSeconds, prefix: `${o.prefix}f`, instance: `${o.instance}-flood`, log });
      } catch (error) {
        flood = { skipped: `failed: ${(error as Error).message}` };
      }
    }
  }

  const partial: Omit<BenchReport, 'targets'> = {
    meta: {
      date: new Date().toISOString(),
      node: process.versions.node,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      pinned,
      quick: o.quick,
      loadAvgBefore: loadBefore,
      loadAvgAfter: loadavg(),
      durationSeconds: (Date.now() - started) / 1000,
      argv: process.argv.slice(2),
      machine: wholeRun(),
    },
    inProcess,
    allocation,
    memory,
    tun,
    flood,
    latencySection: latency,
    latency: latency.skipped
      ? null
      : Object.fromEntries(Object.entries(latency.syn).map(([k, v]) => [k, { p50_us: v.p50_us, p99_us: v.p99_us }])),
    cpu_ns_per_synack: tun.skipped ? null : tun.cpuNsPerSynAck,
    offlineGrid: offline?.grid ?? null,
  };
  const report: BenchReport = { ...partial, targets: evaluateTargets(partial) };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderReport(report)}\n\nwritten: ${o.out}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

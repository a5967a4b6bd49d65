// `make bench` section "offline", the grid (issue 17: "use worker threads to fill both cores";
// issue 21 item 4): the same `syndrop simulate --kernels 3.10,6.x --sweep backlog=128,1024`
// through the real CLI with --jobs 1 (the four runs one after another in the main thread) and
// with --jobs 2 (two worker threads), wall time of the whole command, alternated round by round
// so a neighbour's burst hits both; the speedup is per round, with its spread. Both outputs
// must be the same bytes, or the measurement is refused. Beside wall time, the CPU each thread
// spent in its runs (the pool's SYNDROP_GRID_TRACE lines): the serial thread's total over the
// busiest worker's is the speedup free cores would give, which a neighbour taking turns on the
// cores does not blur (with every core busy, wall time is the scheduler's share, not the code).

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROJECT_ROOT } from '../../assets.js';
import { machineWindow, noiseVerdict, type MachineWindow } from './machine.js';
import { summary } from './stats.js';

export interface GridBenchResult {
  command: string;
  cores: number;
  rounds: Array<{ jobs1Seconds: number; jobs2Seconds: number; speedup: number; cpuSpeedup: number }>;
  speedup: { median: number; min: number; max: number; spread: number };
  /** Per round: the runs' CPU on the one thread of --jobs 1 ÷ on the busiest thread of --jobs 2. */
  cpuSpeedup: { median: number; min: number; max: number; spread: number };
  machine: MachineWindow;
  /** Why the speedup should not be trusted (spread, steal), or null. */
  noisy: string | null;
}

function gridArgs(quick: boolean): string[] {
  // Full: 250 k clients per run (~0.7 s of one core each once warm), a few seconds for the four on one thread.
  const [synRate, duration] = quick ? ['50000', '1'] : ['50000', '5'];
  return ['simulate', '--kernels', '3.10,6.x', '--sweep', 'backlog=128,1024', '--syn-rate', synRate, '--accept-rate', String(Number(synRate) * 0.8), '--duration', duration, '--json'];
}

const TRACE = /^syndrop: grid run \d+\/\d+ on thread (\d+), cpu ([\d.]+) s$/gm;

function timed(args: string[], jobs: number): { seconds: number; stdout: string; busiestThreadCpu: number } {
  const start = performance.now();
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), ...args, '--jobs', String(jobs)], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, SYNDROP_GRID_TRACE: '1' },
  });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`syndrop ${args.join(' ')} --jobs ${jobs} exited ${run.status}: ${run.stderr}`);
  const perThread = new Map<string, number>();
  for (const [, thread, cpu] of run.stderr.matchAll(TRACE)) perThread.set(thread!, (perThread.get(thread!) ?? 0) + Number(cpu));
  if (perThread.size !== Math.min(jobs, 4)) throw new Error(`--jobs ${jobs}: the runs went to ${perThread.size} threads`);
  return { seconds, stdout: run.stdout, busiestThreadCpu: Math.max(...perThread.values()) };
}

export function benchGrid(quick: boolean): GridBenchResult {
  const args = gridArgs(quick);
  const window = machineWindow();
  const rounds: GridBenchResult['rounds'] = [];
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    // Alternate which goes first: a slow start (page cache, a neighbour) must not favour one.
    const [first, second] = round % 2 === 0 ? [1, 2] : [2, 1];
    const a = timed(args, first);
    const b = timed(args, second);
    if (a.stdout !== b.stdout) throw new Error(`${args.join(' ')}: --jobs 1 and --jobs 2 printed different output`);
    const [serial, threaded] = first === 1 ? [a, b] : [b, a];
    rounds.push({
      jobs1Seconds: serial.seconds,
      jobs2Seconds: threaded.seconds,
      speedup: serial.seconds / threaded.seconds,
      cpuSpeedup: serial.busiestThreadCpu / threaded.busiestThreadCpu,
    });
  }
  const machine = window();
  const speedup = summary(rounds.map((r) => r.speedup));
  const cpuSpeedup = summary(rounds.map((r) => r.cpuSpeedup));
  return { command: `syndrop ${args.join(' ')}`, cores: availableParallelism(), rounds, speedup, cpuSpeedup, machine, noisy: noiseVerdict({ speedup: speedup.spread }, machine) };
}

export function gridLine(grid: GridBenchResult): string {
  const seconds = (key: 'jobs1Seconds' | 'jobs2Seconds') => grid.rounds.map((r) => r[key].toFixed(2)).join('/');
  const range = (s: GridBenchResult['speedup']) => `${s.median.toFixed(2)}× (rounds ${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  return (
    `  grid (4 runs): --jobs 1 ${seconds('jobs1Seconds')} s, --jobs 2 ${seconds('jobs2Seconds')} s → wall speedup ${range(grid.speedup)}; ` +
    `thread CPU, serial ÷ busiest worker ${range(grid.cpuSpeedup)} (${grid.cores} cores, busy ${grid.machine.busyPercent}%)${grid.noisy === null ? '' : ` NOISY: ${grid.noisy}`}`
  );
}

// `make bench` section "offline", the grid (issue 17: "use worker threads to fill both cores";
// issue 21 item 4): the same `syndrop simulate --kernels 3.10,6.x --sweep backlog=128,1024`
// through the real CLI with --jobs 1 (the four runs one after another in the main thread) and
// with --jobs 2 (two worker threads), wall time of the whole command, alternated round by round
// so a neighbour's burst hits both; the speedup is per round, with its spread. Both outputs
// must be the same bytes, or the measurement is refused.

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
  rounds: Array<{ jobs1Seconds: number; jobs2Seconds: number; speedup: number }>;
  speedup: { median: number; min: number; max: number; spread: number };
  machine: MachineWindow;
  /** Why the speedup should not be trusted (spread, steal), or null. */
  noisy: string | null;
}

function gridArgs(quick: boolean): string[] {
  // Full: ~1 M clients per run, a few seconds for the four runs on one thread.
  const [synRate, duration] = quick ? ['50000', '1'] : ['50000', '5'];
  return ['simulate', '--kernels', '3.10,6.x', '--sweep', 'backlog=128,1024', '--syn-rate', synRate, '--accept-rate', String(Number(synRate) * 0.8), '--duration', duration, '--json'];
}

function timed(args: string[], jobs: number): { seconds: number; stdout: string } {
  const start = performance.now();
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), ...args, '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`syndrop ${args.join(' ')} --jobs ${jobs} exited ${run.status}: ${run.stderr}`);
  return { seconds, stdout: run.stdout };
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
    const [jobs1Seconds, jobs2Seconds] = first === 1 ? [a.seconds, b.seconds] : [b.seconds, a.seconds];
    rounds.push({ jobs1Seconds, jobs2Seconds, speedup: jobs1Seconds / jobs2Seconds });
  }
  const machine = window();
  const speedup = summary(rounds.map((r) => r.speedup));
  return { command: `syndrop ${args.join(' ')}`, cores: availableParallelism(), rounds, speedup, machine, noisy: noiseVerdict({ speedup: speedup.spread }, machine) };
}

export function gridLine(grid: GridBenchResult): string {
  const seconds = (key: 'jobs1Seconds' | 'jobs2Seconds') => grid.rounds.map((r) => r[key].toFixed(2)).join('/');
  return `  grid (4 runs): --jobs 1 ${seconds('jobs1Seconds')} s, --jobs 2 ${seconds('jobs2Seconds')} s → speedup ${grid.speedup.median.toFixed(2)}× (rounds ${grid.speedup.min.toFixed(2)}–${grid.speedup.max.toFixed(2)}, ${grid.cores} cores, busy ${grid.machine.busyPercent}%)${grid.noisy === null ? '' : ` NOISY: ${grid.noisy}`}`;
}

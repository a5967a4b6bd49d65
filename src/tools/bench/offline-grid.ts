// `make bench` section "offline", the grid (issue 17: "use worker threads to fill both cores";
// issue 21 item 4): the same `syndrop simulate --kernels 3.10,6.x --sweep backlog=128,1024`
// through the real CLI with --jobs 1 (the four runs one after another in the main thread) and
// with --jobs 2 (two worker threads), wall time of the whole command, alternated round by round
// so a neighbour's burst hits both; the speedup is per round, with its spread. Both outputs
// must be the same bytes, or the measurement is refused. Beside wall time, the CPU each thread
// spent in each run (the pool's SYNDROP_GRID_TRACE lines): the serial thread's total over the
// time the workers would take on free cores is the speedup free cores would give, which a
// neighbour taking turns on the cores does not blur (with every core busy, wall time is the
// scheduler's share, not the code). "On free cores" replays the pool's hand-out (each run, in
// order, to the first worker free) with the CPU each run took: the busiest worker as it ran is
// not that, since a worker the neighbour starves hands its share to the other (a CI run saw
// 3 runs to 1 and a ratio of 1.10 for a split that is 2 to 2 on free cores).

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
  /**
   * Per round: wall seconds of each command; CPU seconds of the four runs on --jobs 1's thread,
   * of the four on --jobs 2's workers, and what those would take on two free cores.
   */
  rounds: Array<{ jobs1Seconds: number; jobs2Seconds: number; speedup: number; jobs1Cpu: number; jobs2Cpu: number; jobs2FreeCoresCpu: number; cpuSpeedup: number }>;
  speedup: { median: number; min: number; max: number; spread: number };
  /** Per round: the runs' CPU on the one thread of --jobs 1 ÷ the --jobs 2 runs' CPU scheduled on two free cores. */
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

const TRACE = /^syndrop: grid run (\d+)\/\d+ on thread (\d+), cpu ([\d.]+) s$/gm;

/**
 * How long `threads` free cores take for runs of these CPU times handed out as the pool does
 * (in order, each to the thread that is free first): the longest thread's total.
 */
export function freeCoresSeconds(runCpuSeconds: number[], threads: number): number {
  const loads = new Array<number>(threads).fill(0);
  for (const cpu of runCpuSeconds) {
    const first = loads.indexOf(Math.min(...loads));
    loads[first]! += cpu;
  }
  return Math.max(...loads);
}

function timed(args: string[], jobs: number): { seconds: number; stdout: string; cpu: number; freeCoresCpu: number } {
  const start = performance.now();
  const run = spawnSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), ...args, '--jobs', String(jobs)], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, SYNDROP_GRID_TRACE: '1' },
  });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`syndrop ${args.join(' ')} --jobs ${jobs} exited ${run.status}: ${run.stderr}`);
  const traced = [...run.stderr.matchAll(TRACE)];
  const threads = new Set(traced.map(([, , thread]) => thread));
  if (traced.length !== 4) throw new Error(`--jobs ${jobs}: ${traced.length} of 4 runs traced`);
  if (threads.size !== Math.min(jobs, 4)) throw new Error(`--jobs ${jobs}: the runs went to ${threads.size} threads`);
  const runCpu = new Array<number>(4).fill(0);
  for (const [, index, , cpu] of traced) runCpu[Number(index) - 1] = Number(cpu);
  return { seconds, stdout: run.stdout, cpu: runCpu.reduce((a, b) => a + b, 0), freeCoresCpu: freeCoresSeconds(runCpu, jobs) };
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
      jobs1Cpu: serial.cpu,
      jobs2Cpu: threaded.cpu,
      jobs2FreeCoresCpu: threaded.freeCoresCpu,
      cpuSpeedup: serial.cpu / threaded.freeCoresCpu,
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
    `thread CPU, serial ÷ two free cores ${range(grid.cpuSpeedup)} (${grid.cores} cores, busy ${grid.machine.busyPercent}%)${grid.noisy === null ? '' : ` NOISY: ${grid.noisy}`}`
  );
}

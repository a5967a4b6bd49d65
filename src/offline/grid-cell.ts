// One cell of an offline grid (`simulate --kernels … --sweep …`, `replay --kernels …`): what
// runs it and what travels between the pool and its worker threads. A cell is a whole run of
// a deterministic engine, so the thread that runs it cannot change its result.

import { readFileSync } from 'node:fs';
import { runReplay, type ReplayOptions } from '../replay/replay.js';
import type { ReplayResult } from '../replay/replay-result.js';
import { runSimulation, type SimulateOptions } from '../simulate/simulate.js';
import type { SimulateResult } from '../simulate/simulate-result.js';

export type GridKind = 'simulate' | 'replay';

/** The pool → a worker: run cell `index` (the options are plain data: structured clone keeps Infinity). */
export interface CellRequest {
  index: number;
  kind: GridKind;
  options: SimulateOptions | ReplayOptions;
}

/** An error as it crosses the thread boundary: a SyndropError keeps its code and exit code. */
export interface CellError {
  code: string | null;
  exitCode: number | null;
  message: string;
  stack: string | null;
}

/** A worker → the pool: the cell's result (plain data) or why it failed. */
export type CellReply =
  | { index: number; threadId: number; cpuSeconds: number; result: SimulateResult | ReplayResult }
  | { index: number; threadId: number; cpuSeconds: number; error: CellError };

/**
 * CPU seconds (user + system) the calling thread has used, NaN off Linux: a run's own work,
 * which a neighbour taking turns on the core does not inflate as it does wall time.
 */
export function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after "(comm) ": state is field 3, utime 14 and stime 15, in USER_HZ (100) ticks.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export function runCell(kind: GridKind, options: SimulateOptions | ReplayOptions): SimulateResult | ReplayResult {
  return kind === 'simulate' ? runSimulation(options as SimulateOptions) : runReplay(options as ReplayOptions);
}

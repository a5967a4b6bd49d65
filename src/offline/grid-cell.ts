// One cell of an offline grid (`simulate --kernels … --sweep …`, `replay --kernels …`): what
// runs it and what travels between the pool and its worker threads. A cell is a whole run of
// a deterministic engine, so the thread that runs it cannot change its result.

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
  | { index: number; threadId: number; result: SimulateResult | ReplayResult }
  | { index: number; threadId: number; error: CellError };

export function runCell(kind: GridKind, options: SimulateOptions | ReplayOptions): SimulateResult | ReplayResult {
  return kind === 'simulate' ? runSimulation(options as SimulateOptions) : runReplay(options as ReplayOptions);
}

// Runs the cells of an offline grid on worker threads, one worker per core by default (a
// 2-core machine does two simulations at once), and gives the results back in cell order, so
// the output is byte for byte the serial run's: every engine is deterministic for its seed.
// `jobs` 1, or a single cell, runs in this thread as before. An error is the one the serial
// run would have met first: the failing cell with the lowest index, once every cell before it
// is done; cells after it are abandoned.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';
import { SyndropError, type SyndropErrorCode } from '../errors.js';
import type { ReplayOptions } from '../replay/replay.js';
import type { ReplayResult } from '../replay/replay-result.js';
import type { SimulateOptions } from '../simulate/simulate.js';
import type { SimulateResult } from '../simulate/simulate-result.js';
import { runCell, threadCpuSeconds, type CellError, type CellReply, type GridKind } from './grid-cell.js';

/** Worker threads for `cells` runs: `jobs` when given, else one per core; never more than the cells. */
export function gridThreads(cells: number, jobs?: number): number {
  return Math.max(1, Math.min(jobs ?? availableParallelism(), cells));
}

export function simulateGrid(cells: SimulateOptions[], jobs?: number): Promise<SimulateResult[]> {
  return runGrid('simulate', cells, gridThreads(cells.length, jobs)) as Promise<SimulateResult[]>;
}

export function replayGrid(cells: ReplayOptions[], jobs?: number): Promise<ReplayResult[]> {
  return runGrid('replay', cells, gridThreads(cells.length, jobs)) as Promise<ReplayResult[]>;
}

/**
 * SYNDROP_GRID_TRACE=1: one stderr line per cell naming the thread that ran it and the CPU it
 * took (tests check the pool is used; the bench adds up each thread's CPU).
 */
function trace(index: number, count: number, thread: number, cpuSeconds: number, failed = false): void {
  if (process.env.SYNDROP_GRID_TRACE) process.stderr.write(`syndrop: grid run ${index + 1}/${count} on thread ${thread}, cpu ${cpuSeconds.toFixed(2)} s${failed ? ', failed' : ''}\n`);
}

async function runGrid(kind: GridKind, cells: Array<SimulateOptions | ReplayOptions>, threads: number): Promise<unknown[]> {
  if (threads <= 1) {
    return cells.map((options, index) => {
      const cpuStart = threadCpuSeconds();
      const result = runCell(kind, options);
      trace(index, cells.length, threadId, threadCpuSeconds() - cpuStart);
      return result;
    });
  }
  return runInWorkers(kind, cells, threads, workerScript());
}

/**
 * The worker's JavaScript: beside this module once compiled (dist/offline/), or dist/'s copy
 * when this module runs from its TypeScript source (vitest), since a Worker needs a JS file.
 */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'grid-worker.js'), join(here, '..', '..', 'dist', 'offline', 'grid-worker.js')];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new SyndropError('SYNDROP_ERR_MISSING_TOOL', `the grid's worker ${candidates[1]} is missing: run make build (or use --jobs 1)`);
  return found;
}

function fromCell(error: CellError): Error {
  if (error.code !== null) return new SyndropError(error.code as SyndropErrorCode, error.message, error.exitCode ?? undefined);
  const rebuilt = new Error(error.message);
  if (error.stack !== null) rebuilt.stack = error.stack;
  return rebuilt;
}

function runInWorkers(kind: GridKind, cells: Array<SimulateOptions | ReplayOptions>, threads: number, script: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const results: unknown[] = new Array(cells.length);
    const workers: Worker[] = [];
    /** Which cell each busy worker runs. */
    const running = new Map<Worker, number>();
    let next = 0;
    let failure: { index: number; error: Error } | null = null;
    let settled = false;

    const settleWhenIdle = () => {
      if (settled || running.size > 0 || (failure === null && next < cells.length)) return;
      settled = true;
      void Promise.all(workers.map((worker) => worker.terminate())).then(() => (failure === null ? resolve(results) : reject(failure.error)));
    };
    const handOut = (worker: Worker) => {
      if (failure !== null || next >= cells.length) return;
      running.set(worker, next);
      worker.postMessage({ index: next, kind, options: cells[next] });
      next++;
    };
    const fail = (index: number, error: Error) => {
      if (failure === null || index < failure.index) failure = { index, error };
      // Cells after the first failure would not have run serially: stop them.
      for (const [worker, cell] of running) {
        if (cell > failure.index) {
          running.delete(worker);
          void worker.terminate();
        }
      }
    };

    for (let i = 0; i < threads; i++) {
      const worker = new Worker(script);
      workers.push(worker);
      worker.on('message', (reply: CellReply) => {
        if (running.get(worker) !== reply.index) return; // a cell abandoned after a failure
        running.delete(worker);
        if ('error' in reply) fail(reply.index, fromCell(reply.error));
        else results[reply.index] = reply.result;
        trace(reply.index, cells.length, reply.threadId, reply.cpuSeconds, 'error' in reply);
        handOut(worker);
        settleWhenIdle();
      });
      // A crash outside the cell's try (out of memory, a failed module load): that cell failed.
      const lost = (error: Error) => {
        const index = running.get(worker);
        if (index === undefined) return;
        running.delete(worker);
        fail(index, error);
        settleWhenIdle();
      };
      worker.on('error', lost);
      worker.on('exit', (code) => lost(new Error(`grid worker thread exited with code ${code} during run ${(running.get(worker) ?? 0) + 1}`)));
      handOut(worker);
    }
  });
}

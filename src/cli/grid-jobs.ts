// `--jobs N` on the commands that run a grid (simulate, replay): how many worker threads run
// its cells (src/offline/grid-pool.ts). Above the core count is allowed: the user's choice.

import { usageError } from '../errors.js';

function parseJobs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw usageError(`--jobs ${value}: expected a whole number ≥ 1`);
  return Number(value);
}

/** `.option(...JOBS_OPTION)`: flags, help, parser. */
export const JOBS_OPTION = ['--jobs <n>', 'worker threads for the runs of a grid (default: one per core; 1 = in this thread); the output is the same', parseJobs] as const;

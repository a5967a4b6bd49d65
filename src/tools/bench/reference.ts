// A fixed amount of work measured beside every in-process run: typed-array loads and stores,
// 32-bit multiplies and branches, like the stack's hot path but with no stack code in it. A
// slower machine (a neighbour, a throttled vCPU, a different host) slows it as much as the
// stack, so "ns per SYN / ns per reference unit" stays put while a regression in the stack moves
// it. Same code, same JIT tier every time: warmed once before the first measurement.

import { performance } from 'node:perf_hooks';

const WORDS = 1 << 14;
const UNITS = 2_000_000;
const data = new Uint32Array(WORDS);
const sink = new Uint32Array(1);
for (let i = 0, x = 0x9e3779b9; i < WORDS; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  data[i] = x >>> 0;
}

function work(units: number): void {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < units; i++) {
    const w = data[i & (WORDS - 1)]!;
    h = Math.imul(h ^ w, 0x01000193);
    if ((h & 3) === 0) data[(i * 7) & (WORDS - 1)] = (w + h) >>> 0;
  }
  sink[0] = h;
}

let warmed = false;

/** Reps per measurement: the fastest is kept, since a neighbour or an interrupt only ever slows. */
const REPS = 3;

/** ns per reference unit, now (the fastest of a few ~6 ms reps). */
export function referenceNsPerUnit(): number {
  if (!warmed) {
    for (let i = 0; i < 5; i++) work(UNITS);
    warmed = true;
  }
  let best = Infinity;
  for (let rep = 0; rep < REPS; rep++) {
    const start = performance.now();
    work(UNITS);
    best = Math.min(best, performance.now() - start);
  }
  return (best * 1e6) / UNITS;
}

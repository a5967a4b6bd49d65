// SeededRandom is mulberry32 (Tommy Ettinger's generator, as the widely copied JavaScript
// snippet writes it, reproduced below as the reference). A run under --seed depends on every draw:
// the typed-array state must give the draws the closure always gave, seed for seed.

import { describe, expect, it } from 'vitest';
import { SeededRandom, seededRandom } from '../../src/stack/hash.js';

/** The published mulberry32, its state a closure variable. */
function mulberry32(a: number): () => number {
  return () => {
    let t = (a += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

describe('SeededRandom (mulberry32)', () => {
  for (const seed of [0, 1, 0x5eed ^ 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
    it(`seed ${seed}: 10,000 draws as the reference draws them, also past the state's 2^32 wrap`, () => {
      const reference = mulberry32(seed);
      const ours = new SeededRandom(seed);
      const asFunction = seededRandom(seed);
      const unit = new SeededRandom(seed);
      for (let i = 0; i < 10_000; i++) {
        const expected = reference();
        expect(ours.nextU32()).toBe(expected);
        expect(asFunction()).toBe(expected);
        expect(unit.nextUnit()).toBe(expected / 4294967296);
      }
    });
  }

  it('draws stay in range: uint32, and [0, 1) for units', () => {
    const r = new SeededRandom(42);
    for (let i = 0; i < 10_000; i++) {
      const u = r.nextU32();
      expect(Number.isInteger(u) && u >= 0 && u < 2 ** 32).toBe(true);
      const f = r.nextUnit();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
});

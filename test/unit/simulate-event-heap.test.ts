import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/stack/hash.js';
import { EventHeap } from '../../src/simulate/event-heap.js';

describe('the simulation event heap', () => {
  it('pops by time, equal times in insertion order, interleaved with pushes (a run is the same for the same seed)', () => {
    const random = seededRandom(17);
    const heap = new EventHeap();
    const pending: Array<{ time: number; payload: number }> = [];
    const popped: number[] = [];
    const expected: number[] = [];
    let payload = 0;
    for (let step = 0; step < 20_000; step++) {
      if (random() % 3 !== 0 || heap.size === 0) {
        // Coarse times: many ties, which must come out first-in first-out.
        const time = random() % 50;
        heap.push(time, payload);
        pending.push({ time, payload: payload++ });
      } else {
        // The first of the earliest: reduce keeps the lower index on a tie.
        const earliest = pending.reduce((best, e, i) => (e.time < pending[best]!.time ? i : best), 0);
        expect(heap.peekTime()).toBe(pending[earliest]!.time);
        expected.push(pending.splice(earliest, 1)[0]!.payload);
        popped.push(heap.pop());
      }
    }
    expect(popped).toEqual(expected);
    expect(heap.size).toBe(pending.length);
  });

  it('an empty heap peeks Infinity', () => {
    expect(new EventHeap().peekTime()).toBe(Infinity);
  });
});

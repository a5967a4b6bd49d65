// The simulated clients' pending actions, earliest first: a binary min-heap over parallel
// arrays (time, insertion number, payload). Equal times come out in insertion order, so a
// run is the same for the same seed whatever the heap's shape. Sifting moves a hole, not the
// element: each level costs one move of three arrays instead of a swap (the heap holds every
// pending client retransmit and give-up, ~10^5 entries, and was a twentieth of a simulation).

export class EventHeap {
  #times: number[] = [];
  #order: number[] = [];
  #payloads: number[] = [];
  #inserted = 0;

  get size(): number {
    return this.#times.length;
  }

  peekTime(): number {
    return this.#times.length === 0 ? Infinity : this.#times[0]!;
  }

  push(time: number, payload: number): void {
    const times = this.#times;
    const rank = this.#inserted++;
    let i = times.length;
    times.push(time);
    this.#order.push(rank);
    this.#payloads.push(payload);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // A later insertion never goes before an equal time: strictly earlier only.
      if (!(time < times[parent]!)) break;
      this.#move(i, parent);
      i = parent;
    }
    this.#place(i, time, rank, payload);
  }

  /** Removes the earliest event and returns its payload (the caller read peekTime first). */
  pop(): number {
    const times = this.#times;
    const order = this.#order;
    const payload = this.#payloads[0]!;
    const time = times.pop()!;
    const rank = order.pop()!;
    const moved = this.#payloads.pop()!;
    const size = times.length;
    if (size === 0) return payload;
    // The last element goes into the hole at the root and sinks to its place.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && before(times[right]!, order[right]!, times[left]!, order[left]!)) child = right;
      if (!before(times[child]!, order[child]!, time, rank)) break;
      this.#move(i, child);
      i = child;
    }
    this.#place(i, time, rank, moved);
    return payload;
  }

  /** The entry at `from` into the hole at `to`. */
  #move(to: number, from: number): void {
    this.#times[to] = this.#times[from]!;
    this.#order[to] = this.#order[from]!;
    this.#payloads[to] = this.#payloads[from]!;
  }

  #place(i: number, time: number, rank: number, payload: number): void {
    this.#times[i] = time;
    this.#order[i] = rank;
    this.#payloads[i] = payload;
  }
}

function before(timeA: number, rankA: number, timeB: number, rankB: number): boolean {
  return timeA < timeB || (timeA === timeB && rankA < rankB);
}

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
    const order = this.#order;
    const payloads = this.#payloads;
    const rank = this.#inserted++;
    let i = times.length;
    times.push(time);
    order.push(rank);
    payloads.push(payload);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = times[parent]!;
      // A later insertion never goes before an equal time: strictly earlier only.
      if (!(time < parentTime)) break;
      times[i] = parentTime;
      order[i] = order[parent]!;
      payloads[i] = payloads[parent]!;
      i = parent;
    }
    times[i] = time;
    order[i] = rank;
    payloads[i] = payload;
  }

  /** Removes the earliest event and returns its payload (the caller read peekTime first). */
  pop(): number {
    const times = this.#times;
    const order = this.#order;
    const payloads = this.#payloads;
    const payload = payloads[0]!;
    const time = times.pop()!;
    const rank = order.pop()!;
    const moved = payloads.pop()!;
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
      times[i] = times[child]!;
      order[i] = order[child]!;
      payloads[i] = payloads[child]!;
      i = child;
    }
    times[i] = time;
    order[i] = rank;
    payloads[i] = moved;
    return payload;
  }
}

function before(timeA: number, rankA: number, timeB: number, rankB: number): boolean {
  return timeA < timeB || (timeA === timeB && rankA < rankB);
}

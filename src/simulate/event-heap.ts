// The simulated clients' pending actions, earliest first: a binary min-heap over parallel
// arrays (time, insertion number, payload). Equal times come out in insertion order, so a
// run is the same for the same seed whatever the heap's shape.

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
    let i = times.length;
    times.push(time);
    this.#order.push(this.#inserted++);
    this.#payloads.push(payload);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes the earliest event and returns its payload (the caller read peekTime first). */
  pop(): number {
    const payload = this.#payloads[0]!;
    const last = this.#times.length - 1;
    this.#swap(0, last);
    this.#times.pop();
    this.#order.pop();
    this.#payloads.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < last && this.#before(left, smallest)) smallest = left;
      if (right < last && this.#before(right, smallest)) smallest = right;
      if (smallest === i) break;
      this.#swap(i, smallest);
      i = smallest;
    }
    return payload;
  }

  #before(a: number, b: number): boolean {
    const ta = this.#times[a]!;
    const tb = this.#times[b]!;
    return ta < tb || (ta === tb && this.#order[a]! < this.#order[b]!);
  }

  #swap(a: number, b: number): void {
    const times = this.#times;
    const order = this.#order;
    const payloads = this.#payloads;
    // Plain temporaries: a destructuring swap was a visible share of a simulation's time.
    const time = times[a]!;
    times[a] = times[b]!;
    times[b] = time;
    const rank = order[a]!;
    order[a] = order[b]!;
    order[b] = rank;
    const payload = payloads[a]!;
    payloads[a] = payloads[b]!;
    payloads[b] = payload;
  }
}

// A binary min-heap of (time, id) in typed arrays: the timer "wheel" of the virtual clock.
// Ids are small integers (a pool index); each id has at most one pending time, and
// rescheduling moves it in place. Nothing is allocated per schedule.

const NONE = -1;

export class TimerHeap {
  private times: Float64Array;
  private ids: Int32Array;
  /** Heap position of each id, or -1. */
  private position: Int32Array;
  private length = 0;

  constructor(capacity = 1024) {
    this.times = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
    this.position = new Int32Array(capacity).fill(NONE);
  }

  get size(): number {
    return this.length;
  }


  /** Time of the earliest timer, or Infinity. */
  peekTime(): number {
    return this.length === 0 ? Infinity : this.times[0]!;
  }

  peekId(): number {
    return this.length === 0 ? NONE : this.ids[0]!;
  }

  has(id: number): boolean {
    return id < this.position.length && this.position[id] !== NONE;
  }

  timeOf(id: number): number {
    return this.has(id) ? this.times[this.position[id]!]! : Infinity;
  }

  schedule(id: number, time: number): void {
    this.ensureId(id);
    const at = this.position[id]!;
    if (at !== NONE) {
      const before = this.times[at]!;
      this.times[at] = time;
      if (time < before) this.up(at);
      else this.down(at);
      return;
    }
    if (this.length === this.times.length) this.growHeap();
    const slot = this.length++;
    this.times[slot] = time;
    this.ids[slot] = id;
    this.position[id] = slot;
    this.up(slot);
  }

  cancel(id: number): void {
    if (!this.has(id)) return;
    const at = this.position[id]!;
    this.position[id] = NONE;
    const last = --this.length;
    if (at === last) return;
    this.times[at] = this.times[last]!;
    this.ids[at] = this.ids[last]!;
    this.position[this.ids[at]!] = at;
    this.up(at);
    this.down(at);
  }

  /** Removes and returns the earliest id. */
  pop(): number {
    const id = this.ids[0]!;
    this.cancel(id);
    return id;
  }

  private ensureId(id: number): void {
    if (id < this.position.length) return;
    let capacity = this.position.length * 2;
    while (capacity <= id) capacity *= 2;
    const position = new Int32Array(capacity).fill(NONE);
    position.set(this.position);
    this.position = position;
  }

  private growHeap(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.times = times;
    this.ids = ids;
  }

  private up(at: number): void {
    const time = this.times[at]!;
    const id = this.ids[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.times[at] = this.times[parent]!;
      this.ids[at] = this.ids[parent]!;
      this.position[this.ids[at]!] = at;
      at = parent;
    }
    this.times[at] = time;
    this.ids[at] = id;
    this.position[id] = at;
  }

  private down(at: number): void {
    const time = this.times[at]!;
    const id = this.ids[at]!;
    const half = this.length >> 1;
    while (at < half) {
      let child = 2 * at + 1;
      const right = child + 1;
      if (right < this.length && this.times[right]! < this.times[child]!) child = right;
      if (this.times[child]! >= time) break;
      this.times[at] = this.times[child]!;
      this.ids[at] = this.ids[child]!;
      this.position[this.ids[at]!] = at;
      at = child;
    }
    this.times[at] = time;
    this.ids[at] = id;
    this.position[id] = at;
  }
}

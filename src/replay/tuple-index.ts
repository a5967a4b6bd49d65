// The live connections of a replay by client address and port: open addressing over typed
// arrays with linear probing. A Map keyed by `address * 65536 + port` (a double, past the
// small-integer range) made every lookup hash a heap number and every insert a Map entry;
// at a million segments a second that was a tenth of the time and much of the garbage.
// Fixed capacity: the connection table never holds more than its live limit.

const EMPTY = -1;

export class TupleIndex<T> {
  readonly #mask: number;
  /** Client port per slot, EMPTY when the slot is free. */
  readonly #ports: Int32Array;
  readonly #addrs: Int32Array;
  readonly #values: Array<T | undefined>;
  #size = 0;

  /** Room for `limit` entries at most half full (short probe runs). */
  constructor(limit: number) {
    let capacity = 16;
    while (capacity < limit * 2) capacity *= 2;
    this.#mask = capacity - 1;
    this.#ports = new Int32Array(capacity).fill(EMPTY);
    this.#addrs = new Int32Array(capacity);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  #home(address: number, port: number): number {
    return (Math.imul(address ^ Math.imul(port, 0x9e3779b1), 0x85ebca6b) >>> 15) & this.#mask;
  }

  #find(address: number, port: number): number {
    const addr = address | 0;
    const mask = this.#mask;
    for (let i = this.#home(addr, port); ; i = (i + 1) & mask) {
      const p = this.#ports[i]!;
      if (p === EMPTY) return -1;
      if (p === port && this.#addrs[i] === addr) return i;
    }
  }

  get(address: number, port: number): T | undefined {
    const i = this.#find(address, port);
    return i < 0 ? undefined : this.#values[i];
  }

  /** Adds or replaces the entry of (address, port). */
  set(address: number, port: number, value: T): void {
    const addr = address | 0;
    const mask = this.#mask;
    let i = this.#home(addr, port);
    for (; this.#ports[i] !== EMPTY; i = (i + 1) & mask) {
      if (this.#ports[i] === port && this.#addrs[i] === addr) {
        this.#values[i] = value;
        return;
      }
    }
    if (this.#size * 2 >= mask + 1) throw new Error('tuple index full');
    this.#ports[i] = port;
    this.#addrs[i] = addr;
    this.#values[i] = value;
    this.#size++;
  }

  /** Removes (address, port); backward-shift deletion keeps every probe run unbroken. */
  delete(address: number, port: number): void {
    let hole = this.#find(address, port);
    if (hole < 0) return;
    const mask = this.#mask;
    this.#size--;
    for (let i = (hole + 1) & mask; this.#ports[i] !== EMPTY; i = (i + 1) & mask) {
      const home = this.#home(this.#addrs[i]!, this.#ports[i]!);
      // The entry at i may move into the hole when its home is not in (hole, i] cyclically.
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        this.#ports[hole] = this.#ports[i]!;
        this.#addrs[hole] = this.#addrs[i]!;
        this.#values[hole] = this.#values[i];
        hole = i;
      }
    }
    this.#ports[hole] = EMPTY;
    this.#values[hole] = undefined;
  }

  clear(): void {
    this.#ports.fill(EMPTY);
    this.#values.fill(undefined);
    this.#size = 0;
  }

  *values(): IterableIterator<T> {
    for (let i = 0; i <= this.#mask; i++) if (this.#ports[i] !== EMPTY) yield this.#values[i]!;
  }
}

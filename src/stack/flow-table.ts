// The established hash (ehash) of the emulated host: (peer address, peer port, local port)
// → one int32 value. Since 4.4 the kernel keeps request socks, full sockets and TIME_WAIT
// buckets in this one table, and so do we. Chained buckets in typed arrays, keyed by a
// seeded hash (a flood cannot aim at one chain): a lookup allocates nothing.

import { grownCopy } from './typed-arrays.js';

const EMPTY = -1;

export class FlowTable {
  private mask: number;
  private heads: Int32Array;
  private peerAddr: Uint32Array;
  private ports: Uint32Array;
  private values: Int32Array;
  private next: Int32Array;
  private freeHead = EMPTY;
  private used = 0;
  private count = 0;
  private readonly seed: number;

  constructor(seed: number, initialCapacity = 1024) {
    this.seed = seed | 0;
    const buckets = nextPowerOfTwo(initialCapacity);
    this.mask = buckets - 1;
    this.heads = new Int32Array(buckets).fill(EMPTY);
    this.peerAddr = new Uint32Array(initialCapacity);
    this.ports = new Uint32Array(initialCapacity);
    this.values = new Int32Array(initialCapacity);
    this.next = new Int32Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }


  private bucket(peerAddr: number, ports: number): number {
    let h = Math.imul(peerAddr ^ this.seed, 0x9e3779b1);
    h ^= Math.imul(ports, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** The value stored for this flow, or -1. */
  get(peerAddr: number, peerPort: number, localPort: number): number {
    const ports = ((peerPort << 16) | localPort) >>> 0;
    for (let i = this.heads[this.bucket(peerAddr, ports)]!; i !== EMPTY; i = this.next[i]!) {
      if (this.peerAddr[i] === peerAddr && this.ports[i] === ports) return this.values[i]!;
    }
    return EMPTY;
  }

  /** Inserts or replaces. */
  set(peerAddr: number, peerPort: number, localPort: number, value: number): void {
    const ports = ((peerPort << 16) | localPort) >>> 0;
    for (let i = this.heads[this.bucket(peerAddr, ports)]!; i !== EMPTY; i = this.next[i]!) {
      if (this.peerAddr[i] === peerAddr && this.ports[i] === ports) {
        this.values[i] = value;
        return;
      }
    }
    if (this.count > this.mask) this.growBuckets();
    const slot = this.allocate();
    this.peerAddr[slot] = peerAddr;
    this.ports[slot] = ports;
    this.values[slot] = value;
    const bucket = this.bucket(peerAddr, ports);
    this.next[slot] = this.heads[bucket]!;
    this.heads[bucket] = slot;
    this.count++;
  }

  delete(peerAddr: number, peerPort: number, localPort: number): boolean {
    const ports = ((peerPort << 16) | localPort) >>> 0;
    const b = this.bucket(peerAddr, ports);
    let previous = EMPTY;
    for (let i = this.heads[b]!; i !== EMPTY; i = this.next[i]!) {
      if (this.peerAddr[i] === peerAddr && this.ports[i] === ports) {
        if (previous === EMPTY) this.heads[b] = this.next[i]!;
        else this.next[previous] = this.next[i]!;
        this.next[i] = this.freeHead;
        this.freeHead = i;
        this.count--;
        return true;
      }
      previous = i;
    }
    return false;
  }

  private allocate(): number {
    if (this.freeHead !== EMPTY) {
      const slot = this.freeHead;
      this.freeHead = this.next[slot]!;
      return slot;
    }
    if (this.used === this.values.length) {
      const capacity = this.values.length * 2;
      this.peerAddr = grownCopy(this.peerAddr, capacity);
      this.ports = grownCopy(this.ports, capacity);
      this.values = grownCopy(this.values, capacity);
      this.next = grownCopy(this.next, capacity);
    }
    return this.used++;
  }

  /** Doubles the bucket array (load factor 1) and rehashes the live entries. */
  private growBuckets(): void {
    const buckets = (this.mask + 1) * 2;
    this.mask = buckets - 1;
    this.heads = new Int32Array(buckets).fill(EMPTY);
    const live = new Uint8Array(this.used).fill(1);
    for (let i = this.freeHead; i !== EMPTY; i = this.next[i]!) live[i] = 0;
    for (let i = 0; i < this.used; i++) {
      if (live[i] === 0) continue;
      const b = this.bucket(this.peerAddr[i]!, this.ports[i]!);
      this.next[i] = this.heads[b]!;
      this.heads[b] = i;
    }
  }
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

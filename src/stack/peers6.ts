// IPv6 peers as 32-bit keys. Every pool of the stack (requests, TIME_WAIT, the flow table,
// tcp_metrics, connections) keys a peer by one u32 column: an IPv4 peer by its address, an
// IPv6 peer by its slot in this table, offered as a key in 0.0.0.0/8. No IPv4 segment can
// carry such a source to TCP — Linux drops it as martian in ip_route_input_slow, and so does
// ip-input.ts — so the two families never meet in one key, and the pools stay one u32
// column wide instead of growing four. The address itself lives here once, as four u32
// columns, with a keyed 32-bit digest for the hashes that mix in the peer's address
// (ISNs, timestamp offsets, cookies), so those depend on the address, not on the slot.
//
// Lifetime: the demux interns the source of every IPv6 frame (no allocation: typed arrays,
// a free list); `sweep` frees the slots no state refers to any more. It runs when the table
// has doubled since the last sweep, so its cost is amortised over the inserts that grew it.

import { ipv6ToString } from '../wire/addr.js';
import { hsiphash4 } from './hash.js';
import { grownCopy } from './typed-arrays.js';

/** Keys 1 … 2^24 − 1: the IPv4 network 0.0.0.0/8 (RFC 1122 §3.2.1.3 "this network"). */
export const IPV6_KEY_LIMIT = 0x01000000;
const EMPTY = -1;

/** True for a key from this table (0 is "no peer"). */
export function isIpv6Key(key: number): boolean {
  return key !== 0 && key >>> 0 < IPV6_KEY_LIMIT;
}

export class Ipv6Peers {
  /** Address words, 4 per slot (slot = key − 1). */
  private words: Uint32Array;
  private digests: Int32Array;
  private next: Int32Array;
  private heads: Int32Array;
  private mask: number;
  private freeHead = EMPTY;
  private used = 0;
  private live = 0;
  /** Live count that triggers the next sweep. */
  private sweepAt: number;
  private readonly k0: number;
  private readonly k1: number;
  /** internWords' bytes, reused: replay calls it for every decision about an IPv6 peer. */
  readonly #wordBytes = new Uint8Array(16);

  constructor(k0: number, k1: number, capacity = 256) {
    this.k0 = k0;
    this.k1 = k1;
    this.words = new Uint32Array(capacity * 4);
    this.digests = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.heads = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    this.sweepAt = capacity;
  }

  get size(): number {
    return this.live;
  }

  /** True when `sweep` is due (the owner runs it: only it knows which keys are in use). */
  get wantsSweep(): boolean {
    return this.live >= this.sweepAt;
  }

  /** The key of the 16-byte address at `buf[off]`, interning it if new. */
  intern(buf: Uint8Array, off: number): number {
    const w0 = readWord(buf, off);
    const w1 = readWord(buf, off + 4);
    const w2 = readWord(buf, off + 8);
    const w3 = readWord(buf, off + 12);
    const bucket = this.bucketOf(w0, w1, w2, w3);
    const words = this.words;
    for (let i = this.heads[bucket]!; i !== EMPTY; i = this.next[i]!) {
      const at = i * 4;
      if (words[at] === w0 && words[at + 1] === w1 && words[at + 2] === w2 && words[at + 3] === w3) return i + 1;
    }
    const slot = this.allocate();
    const at = slot * 4;
    this.words[at] = w0;
    this.words[at + 1] = w1;
    this.words[at + 2] = w2;
    this.words[at + 3] = w3;
    this.digests[slot] = hsiphash4(this.k0, this.k1, w0, w1, w2, w3);
    const b = this.bucketOf(w0, w1, w2, w3);
    this.next[slot] = this.heads[b]!;
    this.heads[b] = slot;
    return slot + 1;
  }

  /** Interns an address given as words (the CLI, replay's keys for the stack's peers). */
  internWords(address: ArrayLike<number>): number {
    const bytes = this.#wordBytes;
    for (let i = 0; i < 4; i++) {
      const w = address[i]! >>> 0;
      bytes[4 * i] = w >>> 24;
      bytes[4 * i + 1] = (w >>> 16) & 0xff;
      bytes[4 * i + 2] = (w >>> 8) & 0xff;
      bytes[4 * i + 3] = w & 0xff;
    }
    return this.intern(bytes, 0);
  }

  /** Word `i` (0–3) of the key's address. */
  word(key: number, i: number): number {
    return this.words[(key - 1) * 4 + i]!;
  }

  /** The address a key stands for, as text (RFC 5952): how every observer names an IPv6 peer. */
  addressText(key: number): string {
    return ipv6ToString([this.word(key, 0), this.word(key, 1), this.word(key, 2), this.word(key, 3)]);
  }

  /** Copies the key's address into `out` (SegmentSpec.dstAddr6, an event's columns). */
  copyTo(key: number, out: Uint32Array, at = 0): void {
    const from = (key - 1) * 4;
    out[at] = this.words[from]!;
    out[at + 1] = this.words[from + 1]!;
    out[at + 2] = this.words[from + 2]!;
    out[at + 3] = this.words[from + 3]!;
  }

  /** Keyed 32-bit digest of the address (int32 bit pattern). */
  digest(key: number): number {
    return this.digests[key - 1]!;
  }

  /**
   * Frees every slot for which `inUse(key)` is false. `inUse` is built by the owner from
   * its pools (it alone knows them); the frame being processed must count as in use.
   */
  sweep(inUse: (key: number) => boolean): void {
    for (let b = 0; b <= this.mask; b++) {
      let previous = EMPTY;
      for (let i = this.heads[b]!; i !== EMPTY; ) {
        const following = this.next[i]!;
        if (inUse(i + 1)) {
          previous = i;
        } else {
          if (previous === EMPTY) this.heads[b] = following;
          else this.next[previous] = following;
          this.next[i] = this.freeHead;
          this.freeHead = i;
          this.live--;
        }
        i = following;
      }
    }
    this.sweepAt = Math.max(this.mask + 1, this.live * 2);
  }

  private bucketOf(w0: number, w1: number, w2: number, w3: number): number {
    let h = Math.imul(w0 ^ this.k0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3 ^ this.k1, 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  private allocate(): number {
    this.live++;
    if (this.freeHead !== EMPTY) {
      const slot = this.freeHead;
      this.freeHead = this.next[slot]!;
      return slot;
    }
    if (this.used === this.digests.length) this.grow();
    return this.used++;
  }

  /** Doubles the columns and the buckets (load factor ≤ 1), rehashing the live slots. */
  private grow(): void {
    const capacity = this.digests.length * 2;
    if (capacity >= IPV6_KEY_LIMIT) throw new Error('IPv6 peer table full (2^24 live peers)');
    const free = new Uint8Array(this.used);
    for (let i = this.freeHead; i !== EMPTY; i = this.next[i]!) free[i] = 1;
    this.words = grownCopy(this.words, capacity * 4);
    this.digests = grownCopy(this.digests, capacity);
    this.next = grownCopy(this.next, capacity);
    this.heads = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    for (let i = 0; i < this.used; i++) {
      if (free[i] === 1) continue;
      const at = i * 4;
      const b = this.bucketOf(this.words[at]!, this.words[at + 1]!, this.words[at + 2]!, this.words[at + 3]!);
      this.next[i] = this.heads[b]!;
      this.heads[b] = i;
    }
  }
}

function readWord(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

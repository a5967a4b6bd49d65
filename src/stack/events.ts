import type { Ipv6Peers } from './peers6.js';

// A fixed ring of decisions, struct-of-arrays: recording one is a handful of typed-array
// stores, and nothing is rendered until someone asks (`syndrop events`).

export class EventRing {
  /** A power of two, so the slot of event n is n & mask. */
  readonly capacity: number;
  private readonly mask: number;
  /** Number of events ever recorded; event n lives at slot n % capacity. */
  total = 0;
  private readonly time: Float64Array;
  private readonly verdict: Uint16Array;
  private readonly peerAddr: Uint32Array;
  private readonly localAddr: Uint32Array;
  private readonly ports: Uint32Array;
  private readonly seq: Uint32Array;
  private readonly ack: Uint32Array;
  private readonly tsVal: Uint32Array;
  private readonly tsEcr: Uint32Array;
  /** bit 0–7 TCP flags, bit 8 = has timestamps. */
  private readonly flags: Uint16Array;
  /** Verdict-specific detail (e.g. wire error code, queue length). */
  private readonly aux: Int32Array;
  /**
   * An IPv6 peer's address, four words per event (valid when flags has EVENT_IPV6): copied
   * at record time, since the peer's key may be reused once its state is gone.
   */
  private readonly peer6: Uint32Array;

  constructor(capacity = 65536) {
    let size = 1;
    while (size < capacity) size *= 2;
    capacity = size;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.time = new Float64Array(capacity);
    this.verdict = new Uint16Array(capacity);
    this.peerAddr = new Uint32Array(capacity);
    this.localAddr = new Uint32Array(capacity);
    this.ports = new Uint32Array(capacity);
    this.seq = new Uint32Array(capacity);
    this.ack = new Uint32Array(capacity);
    this.tsVal = new Uint32Array(capacity);
    this.tsEcr = new Uint32Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.aux = new Int32Array(capacity);
    this.peer6 = new Uint32Array(capacity * 4);
  }

  /** Marks the event just recorded as IPv6 and keeps its peer's address. */
  notePeer6(peers: Ipv6Peers, key: number): void {
    const i = (this.total - 1) & this.mask;
    this.flags[i]! |= EVENT_IPV6;
    peers.copyTo(key, this.peer6, i * 4);
  }

  record(
    time: number,
    verdict: number,
    peerAddr: number,
    peerPort: number,
    localAddr: number,
    localPort: number,
    seq: number,
    ack: number,
    flags: number,
    tsVal: number,
    tsEcr: number,
    aux: number,
  ): void {
    const i = this.total & this.mask;
    this.total++;
    this.time[i] = time;
    this.verdict[i] = verdict;
    this.peerAddr[i] = peerAddr;
    this.localAddr[i] = localAddr;
    this.ports[i] = ((peerPort << 16) | localPort) >>> 0;
    this.seq[i] = seq;
    this.ack[i] = ack;
    this.flags[i] = flags;
    this.tsVal[i] = tsVal;
    this.tsEcr[i] = tsEcr;
    this.aux[i] = aux;
  }

  /**
   * SYNs (SYN without ACK) per source address among the events still in the ring, counted
   * straight from the columns: `syndrop top` asks every second, even during a flood.
   */
  synsBySource(): Map<number, number> {
    const counts = new Map<number, number>();
    for (let n = this.oldest; n < this.total; n++) {
      const i = n & this.mask;
      if ((this.flags[i]! & 0x12) !== 0x02) continue;
      const addr = this.peerAddr[i]!;
      counts.set(addr, (counts.get(addr) ?? 0) + 1);
    }
    return counts;
  }

  /** Oldest sequence number still in the ring. */
  get oldest(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /** Reads event number `n` (must be within [oldest, total)). */
  read(n: number): RawEvent {
    const i = n & this.mask;
    const ports = this.ports[i]!;
    return {
      n,
      time: this.time[i]!,
      verdict: this.verdict[i]!,
      peerAddr: this.peerAddr[i]!,
      peerPort: ports >>> 16,
      localAddr: this.localAddr[i]!,
      localPort: ports & 0xffff,
      seq: this.seq[i]!,
      ack: this.ack[i]!,
      flags: this.flags[i]! & 0xff,
      hasTimestamps: (this.flags[i]! & 0x100) !== 0,
      peerAddr6: (this.flags[i]! & EVENT_IPV6) !== 0 ? Array.from(this.peer6.subarray(i * 4, i * 4 + 4)) : null,
      tsVal: this.tsVal[i]!,
      tsEcr: this.tsEcr[i]!,
      aux: this.aux[i]!,
    };
  }
}

export interface RawEvent {
  n: number;
  time: number;
  verdict: number;
  peerAddr: number;
  peerPort: number;
  localAddr: number;
  localPort: number;
  seq: number;
  ack: number;
  flags: number;
  hasTimestamps: boolean;
  /** The peer's IPv6 address as four words, null for an IPv4 event. */
  peerAddr6: number[] | null;
  tsVal: number;
  tsEcr: number;
  aux: number;
}

export const EVENT_HAS_TS = 0x100;
/** The event's flow is IPv6 (its peer address is in the peer6 columns). */
export const EVENT_IPV6 = 0x200;

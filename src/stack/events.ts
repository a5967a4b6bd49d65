import type { Ipv6Peers } from './peers6.js';

// A fixed ring of decisions: recording one is a handful of typed-array stores into one 64-byte
// record, and nothing is rendered until someone asks (`syndrop events`). One record per event,
// not one array per field: every decision records one, and eleven columns meant eleven cache
// lines (and eleven array bases) per record, ~15 ns of a ~340 ns cookie SYN.

/** 32-bit words per event record (one cache line); the time is the Float64 in words 14–15. */
const WORDS = 16;
const VERDICT = 0;
const PEER_ADDR = 1;
const LOCAL_ADDR = 2;
/** Peer port << 16 | local port. */
const PORTS = 3;
const SEQ = 4;
const ACK = 5;
const TS_VAL = 6;
const TS_ECR = 7;
/** bit 0–7 TCP flags, EVENT_HAS_TS, EVENT_IPV6. */
const FLAGS = 8;
/** Verdict-specific detail (e.g. wire error code, queue length), an int32. */
const AUX = 9;
/**
 * An IPv6 peer's address, four words (valid when FLAGS has EVENT_IPV6): copied at record time,
 * since the peer's key may be reused once its state is gone.
 */
const PEER6 = 10;
/** Index of the time in the Float64 view of a record. */
const TIME_F64 = 7;

export class EventRing {
  /** A power of two, so the slot of event n is n & mask. */
  readonly capacity: number;
  private readonly mask: number;
  /** Number of events ever recorded; event n lives at slot n % capacity. */
  total = 0;
  private readonly words: Uint32Array;
  /** The same records as Float64s, for the time. */
  private readonly times: Float64Array;

  constructor(capacity = 65536) {
    let size = 1;
    while (size < capacity) size *= 2;
    capacity = size;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.words = new Uint32Array(capacity * WORDS);
    this.times = new Float64Array(this.words.buffer);
  }

  /** Marks the event just recorded as IPv6 and keeps its peer's address. */
  notePeer6(peers: Ipv6Peers, key: number): void {
    const at = ((this.total - 1) & this.mask) * WORDS;
    this.words[at + FLAGS]! |= EVENT_IPV6;
    peers.copyTo(key, this.words, at + PEER6);
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
    const slot = this.total & this.mask;
    this.total++;
    const words = this.words;
    const at = slot * WORDS;
    this.times[slot * (WORDS / 2) + TIME_F64] = time;
    words[at + VERDICT] = verdict;
    words[at + PEER_ADDR] = peerAddr;
    words[at + LOCAL_ADDR] = localAddr;
    words[at + PORTS] = (peerPort << 16) | localPort;
    words[at + SEQ] = seq;
    words[at + ACK] = ack;
    words[at + FLAGS] = flags;
    words[at + TS_VAL] = tsVal;
    words[at + TS_ECR] = tsEcr;
    words[at + AUX] = aux;
  }

  /**
   * SYNs (SYN without ACK) per source address among the events still in the ring, counted
   * straight from the columns: `syndrop top` asks every second, even during a flood.
   */
  synsBySource(): Map<number, number> {
    const counts = new Map<number, number>();
    const words = this.words;
    for (let n = this.oldest; n < this.total; n++) {
      const at = (n & this.mask) * WORDS;
      if ((words[at + FLAGS]! & 0x12) !== 0x02) continue;
      const addr = words[at + PEER_ADDR]!;
      counts.set(addr, (counts.get(addr) ?? 0) + 1);
    }
    return counts;
  }

  /** Oldest sequence number still in the ring. */
  get oldest(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /**
   * The four fields the offline engines' sinks take, read without building a RawEvent: they
   * see every event of a replay or simulation (event `n` within [oldest, total)).
   */
  timeOf(n: number): number {
    return this.times[(n & this.mask) * (WORDS / 2) + TIME_F64]!;
  }

  verdictOf(n: number): number {
    return this.words[(n & this.mask) * WORDS + VERDICT]!;
  }

  peerAddrOf(n: number): number {
    return this.words[(n & this.mask) * WORDS + PEER_ADDR]!;
  }

  peerPortOf(n: number): number {
    return this.words[(n & this.mask) * WORDS + PORTS]! >>> 16;
  }

  /** Reads event number `n` (must be within [oldest, total)). */
  read(n: number): RawEvent {
    const slot = n & this.mask;
    const at = slot * WORDS;
    const words = this.words;
    const ports = words[at + PORTS]!;
    const flags = words[at + FLAGS]!;
    return {
      n,
      time: this.times[slot * (WORDS / 2) + TIME_F64]!,
      verdict: words[at + VERDICT]!,
      peerAddr: words[at + PEER_ADDR]!,
      peerPort: ports >>> 16,
      localAddr: words[at + LOCAL_ADDR]!,
      localPort: ports & 0xffff,
      seq: words[at + SEQ]!,
      ack: words[at + ACK]!,
      flags: flags & 0xff,
      hasTimestamps: (flags & EVENT_HAS_TS) !== 0,
      peerAddr6: (flags & EVENT_IPV6) !== 0 ? Array.from(words.subarray(at + PEER6, at + PEER6 + 4)) : null,
      tsVal: words[at + TS_VAL]!,
      tsEcr: words[at + TS_ECR]!,
      aux: words[at + AUX]! | 0,
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

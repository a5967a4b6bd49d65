// Request socks (the SYN queue), struct-of-arrays in a growable pool: a half-open
// connection is ~100 bytes of typed arrays and no JS object, so a flood with cookies off
// costs memory linear in the queue limit and nothing for the garbage collector.

import { grownCopy, SlotPool } from './typed-arrays.js';

export const ReqFlag = {
  SACK: 1,
  TIMESTAMPS: 2,
  /** The client's ACK arrived but the accept queue was full (inet_rsk(req)->acked). */
  ACKED: 4,
  IN_USE: 8,
  /** The SYN negotiated ECN: SYN-ACKs carry ECE, the child marks its data ECT(0). */
  ECN: 16,
} as const;

export class RequestPool extends SlotPool {
  peerAddr: Uint32Array;
  peerPort: Uint16Array;
  localPort: Uint16Array;
  listener: Int32Array;
  /** The client's ISN (rcv_isn) and ours (snt_isn). */
  rcvIsn: Uint32Array;
  sntIsn: Uint32Array;
  /** Last TSval seen from the client (ts_recent) and our TS offset for this flow. */
  tsRecent: Uint32Array;
  tsOffset: Uint32Array;
  /** TSvals of our first and latest SYN-ACK (snt_tsval_first / _last, 6.15+ TSecr check). */
  sntTsvalFirst: Uint32Array;
  sntTsvalLast: Uint32Array;
  mss: Uint16Array;
  /** Client's window scale, -1 if none (then we send none either). */
  peerWindowScale: Int8Array;
  flags: Uint8Array;
  numTimeout: Uint8Array;
  numRetrans: Uint8Array;
  /** When our first SYN-ACK left (snt_synack), for the RTT sample; last out-of-window answer. */
  sentAt: Float64Array;
  lastOowAck: Float64Array;

  constructor(capacity = 1024) {
    super(capacity);
    this.peerAddr = new Uint32Array(capacity);
    this.peerPort = new Uint16Array(capacity);
    this.localPort = new Uint16Array(capacity);
    this.listener = new Int32Array(capacity);
    this.rcvIsn = new Uint32Array(capacity);
    this.sntIsn = new Uint32Array(capacity);
    this.tsRecent = new Uint32Array(capacity);
    this.tsOffset = new Uint32Array(capacity);
    this.sntTsvalFirst = new Uint32Array(capacity);
    this.sntTsvalLast = new Uint32Array(capacity);
    this.mss = new Uint16Array(capacity);
    this.peerWindowScale = new Int8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.numTimeout = new Uint8Array(capacity);
    this.numRetrans = new Uint8Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.lastOowAck = new Float64Array(capacity);
  }

  /** Bytes held per slot across all arrays (the pool's share of a half-open request). */
  static readonly BYTES_PER_SLOT = 4 + 2 + 2 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 2 + 1 + 1 + 1 + 1 + 8 + 8 + 4;

  allocate(): number {
    const slot = this.takeSlot();
    this.flags[slot] = ReqFlag.IN_USE;
    this.numTimeout[slot] = 0;
    this.numRetrans[slot] = 0;
    this.sntTsvalFirst[slot] = 0;
    this.lastOowAck[slot] = -Infinity;
    return slot;
  }

  free(slot: number): void {
    this.flags[slot] = 0;
    this.releaseSlot(slot);
  }

  isLive(slot: number): boolean {
    return slot >= 0 && slot < this.highWater && (this.flags[slot]! & ReqFlag.IN_USE) !== 0;
  }

  has(slot: number, flag: number): boolean {
    return (this.flags[slot]! & flag) !== 0;
  }

  protected growColumns(capacity: number): void {
    this.peerAddr = grownCopy(this.peerAddr, capacity);
    this.peerPort = grownCopy(this.peerPort, capacity);
    this.localPort = grownCopy(this.localPort, capacity);
    this.listener = grownCopy(this.listener, capacity);
    this.rcvIsn = grownCopy(this.rcvIsn, capacity);
    this.sntIsn = grownCopy(this.sntIsn, capacity);
    this.tsRecent = grownCopy(this.tsRecent, capacity);
    this.tsOffset = grownCopy(this.tsOffset, capacity);
    this.sntTsvalFirst = grownCopy(this.sntTsvalFirst, capacity);
    this.sntTsvalLast = grownCopy(this.sntTsvalLast, capacity);
    this.mss = grownCopy(this.mss, capacity);
    this.peerWindowScale = grownCopy(this.peerWindowScale, capacity);
    this.flags = grownCopy(this.flags, capacity);
    this.numTimeout = grownCopy(this.numTimeout, capacity);
    this.numRetrans = grownCopy(this.numRetrans, capacity);
    this.sentAt = grownCopy(this.sentAt, capacity);
    this.lastOowAck = grownCopy(this.lastOowAck, capacity);
  }
}

// TIME_WAIT buckets (inet_timewait_sock): what a closed connection leaves behind for
// TCP_TIMEWAIT_LEN, or 3.5 × RTO when tcp_tw_recycle applies (spec §2.4). Struct-of-arrays
// like the request pool: a server that closes first keeps one per recent connection.

import { grownCopy, SlotPool } from './typed-arrays.js';

export const TCP_TIMEWAIT_LEN_MS = 60_000;

export class TimewaitPool extends SlotPool {
  peerAddr: Uint32Array;
  peerPort: Uint16Array;
  localPort: Uint16Array;
  sndNxt: Uint32Array;
  rcvNxt: Uint32Array;
  tsRecent: Uint32Array;
  /** Seconds when tsRecent was taken; 0 = the connection had no timestamps. */
  tsRecentStamp: Float64Array;
  tsOffset: Uint32Array;
  /** Our last advertised window (already scaled down), repeated in TIME_WAIT ACKs. */
  window: Uint16Array;
  /** Recycle timeout (ms) when tw_recycle applied, else 0 (spec §2.4 tw_timeout). */
  recycleTimeout: Float64Array;
  lastOowAck: Float64Array;
  /** When the bucket was created, for `ss -a` timers. */
  createdAt: Float64Array;
  inUse: Uint8Array;

  constructor(capacity = 256) {
    super(capacity);
    this.peerAddr = new Uint32Array(capacity);
    this.peerPort = new Uint16Array(capacity);
    this.localPort = new Uint16Array(capacity);
    this.sndNxt = new Uint32Array(capacity);
    this.rcvNxt = new Uint32Array(capacity);
    this.tsRecent = new Uint32Array(capacity);
    this.tsRecentStamp = new Float64Array(capacity);
    this.tsOffset = new Uint32Array(capacity);
    this.window = new Uint16Array(capacity);
    this.recycleTimeout = new Float64Array(capacity);
    this.lastOowAck = new Float64Array(capacity);
    this.createdAt = new Float64Array(capacity);
    this.inUse = new Uint8Array(capacity);
  }

  allocate(): number {
    const slot = this.takeSlot();
    this.inUse[slot] = 1;
    this.lastOowAck[slot] = -Infinity;
    return slot;
  }

  free(slot: number): void {
    this.inUse[slot] = 0;
    this.releaseSlot(slot);
  }

  protected growColumns(capacity: number): void {
    this.peerAddr = grownCopy(this.peerAddr, capacity);
    this.peerPort = grownCopy(this.peerPort, capacity);
    this.localPort = grownCopy(this.localPort, capacity);
    this.sndNxt = grownCopy(this.sndNxt, capacity);
    this.rcvNxt = grownCopy(this.rcvNxt, capacity);
    this.tsRecent = grownCopy(this.tsRecent, capacity);
    this.tsRecentStamp = grownCopy(this.tsRecentStamp, capacity);
    this.tsOffset = grownCopy(this.tsOffset, capacity);
    this.window = grownCopy(this.window, capacity);
    this.recycleTimeout = grownCopy(this.recycleTimeout, capacity);
    this.lastOowAck = grownCopy(this.lastOowAck, capacity);
    this.createdAt = grownCopy(this.createdAt, capacity);
    this.inUse = grownCopy(this.inUse, capacity);
  }
}

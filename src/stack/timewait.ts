// TIME_WAIT buckets (inet_timewait_sock): what a closed connection leaves behind for
// TCP_TIMEWAIT_LEN, or 3.5 × RTO when tcp_tw_recycle applies (spec §2.4). Struct-of-arrays
// like the request pool: a server that closes first keeps one per recent connection.

import { grownCopy } from './typed-arrays.js';

const NONE = -1;

export const TCP_TIMEWAIT_LEN_MS = 60_000;

export class TimewaitPool {
  capacity: number;
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
  private nextFree: Int32Array;
  private freeHead = NONE;
  private used = 0;
  live = 0;

  constructor(capacity = 256) {
    this.capacity = capacity;
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
    this.nextFree = new Int32Array(capacity);
  }

  allocate(): number {
    let slot: number;
    if (this.freeHead !== NONE) {
      slot = this.freeHead;
      this.freeHead = this.nextFree[slot]!;
    } else {
      if (this.used === this.capacity) this.grow();
      slot = this.used++;
    }
    this.inUse[slot] = 1;
    this.lastOowAck[slot] = -Infinity;
    this.live++;
    return slot;
  }

  free(slot: number): void {
    this.inUse[slot] = 0;
    this.nextFree[slot] = this.freeHead;
    this.freeHead = slot;
    this.live--;
  }

  get highWater(): number {
    return this.used;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
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
    this.nextFree = grownCopy(this.nextFree, capacity);
    this.capacity = capacity;
  }
}

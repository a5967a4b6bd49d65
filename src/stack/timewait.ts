// TIME_WAIT buckets (inet_timewait_sock): what a closed connection leaves behind for
// TCP_TIMEWAIT_LEN, or 3.5 × RTO when tcp_tw_recycle applies (spec §2.4). Struct-of-arrays
// like the request pool: a server that closes first keeps one per recent connection.

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
    const g = <T extends { set(a: ArrayLike<number>): void }>(old: T, fresh: T): T => {
      fresh.set(old as unknown as ArrayLike<number>);
      return fresh;
    };
    this.peerAddr = g(this.peerAddr, new Uint32Array(capacity));
    this.peerPort = g(this.peerPort, new Uint16Array(capacity));
    this.localPort = g(this.localPort, new Uint16Array(capacity));
    this.sndNxt = g(this.sndNxt, new Uint32Array(capacity));
    this.rcvNxt = g(this.rcvNxt, new Uint32Array(capacity));
    this.tsRecent = g(this.tsRecent, new Uint32Array(capacity));
    this.tsRecentStamp = g(this.tsRecentStamp, new Float64Array(capacity));
    this.tsOffset = g(this.tsOffset, new Uint32Array(capacity));
    this.window = g(this.window, new Uint16Array(capacity));
    this.recycleTimeout = g(this.recycleTimeout, new Float64Array(capacity));
    this.lastOowAck = g(this.lastOowAck, new Float64Array(capacity));
    this.createdAt = g(this.createdAt, new Float64Array(capacity));
    this.inUse = g(this.inUse, new Uint8Array(capacity));
    this.nextFree = g(this.nextFree, new Int32Array(capacity));
    this.capacity = capacity;
  }
}

// Growing the struct-of-arrays pools: a bigger array of the same type with the old
// contents copied in. Rare (capacity doubles), so the allocation is fine.

export type NumberArray =
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float64Array;

export function grownCopy<T extends NumberArray>(old: T, capacity: number): T {
  const fresh = new (old.constructor as new (length: number) => T)(capacity);
  fresh.set(old);
  return fresh;
}

/**
 * Slot bookkeeping shared by the struct-of-arrays pools (request socks, TIME_WAIT
 * buckets): a free list threaded through an Int32Array, and doubling when full. The
 * subclass owns the columns and grows them in `growColumns`.
 */
export abstract class SlotPool {
  capacity: number;
  /** Slots in use now. */
  live = 0;
  private nextFree: Int32Array;
  private freeHead = -1;
  private used = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.nextFree = new Int32Array(capacity);
  }

  /** Slots ever handed out: live ones are below this. */
  get highWater(): number {
    return this.used;
  }

  protected takeSlot(): number {
    this.live++;
    if (this.freeHead !== -1) {
      const slot = this.freeHead;
      this.freeHead = this.nextFree[slot]!;
      return slot;
    }
    if (this.used === this.capacity) {
      const capacity = this.capacity * 2;
      this.nextFree = grownCopy(this.nextFree, capacity);
      this.growColumns(capacity);
      this.capacity = capacity;
    }
    return this.used++;
  }

  protected releaseSlot(slot: number): void {
    this.nextFree[slot] = this.freeHead;
    this.freeHead = slot;
    this.live--;
  }

  protected abstract growColumns(capacity: number): void;
}

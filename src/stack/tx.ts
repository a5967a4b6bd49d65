// Outgoing frames are written in place into one slab of fixed slots; the I/O loop hands
// the whole batch to the TUN in one writeBatch call. When the slab is full, `onFull`
// flushes it mid-batch (the stack never drops its own output for lack of room).

export const TX_SLOT_SIZE = 2048;

export class TxRing {
  readonly slab: Uint8Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly slots: number;
  count = 0;
  /** Called when every slot is used; must drain (and call `clear`). */
  onFull: (ring: TxRing) => void;

  constructor(slots = 256, onFull: (ring: TxRing) => void = (ring) => ring.clear()) {
    this.slots = slots;
    this.slab = new Uint8Array(slots * TX_SLOT_SIZE);
    this.offsets = new Int32Array(slots);
    this.lengths = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.offsets[i] = i * TX_SLOT_SIZE;
    this.onFull = onFull;
  }

  /** Offset in `slab` where the next frame may be written (TX_SLOT_SIZE bytes of room). */
  reserve(): number {
    if (this.count === this.slots) this.onFull(this);
    return this.offsets[this.count]!;
  }

  /** Marks the reserved slot as holding a frame of `length` bytes. */
  commit(length: number): void {
    this.lengths[this.count] = length;
    this.count++;
  }

  clear(): void {
    this.count = 0;
  }

  /** Copy of frame i (tests and tools; never on the hot path). */
  frame(i: number): Uint8Array {
    const off = this.offsets[i]!;
    return this.slab.slice(off, off + this.lengths[i]!);
  }
}

// The common shape of the zero-copy views: a window [off, off + len) over a caller's
// buffer, re-pointable with `reset` so the rx loop reuses one view per protocol.

export class ByteWindow {
  buf: Uint8Array;
  off: number;
  len: number;

  constructor(buf: Uint8Array, off = 0, len = buf.length - off) {
    this.buf = buf;
    this.off = off;
    this.len = len;
  }

  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }
}

// Sequence-number arithmetic (mod 2^32).

/** tcp_in_window: seq at the left edge, or the segment overlaps [left, right). */
export function inWindow(seq: number, endSeq: number, left: number, right: number): boolean {
  if (seq === left) return true;
  if (((endSeq - left) | 0) > 0 && ((seq - right) | 0) < 0) return true;
  return seq === right && seq === endSeq;
}

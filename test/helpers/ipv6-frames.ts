// Crafted IPv6 frames for the IPv6 tests (issue 20).

/** Inserts 8-byte extension headers of the given types before the upper-layer header. */
export function withExtensions(frame: Uint8Array, types: number[]): Uint8Array {
  const out = new Uint8Array(frame.length + 8 * types.length);
  out.set(frame.subarray(0, 40));
  const upper = frame[6]!;
  out[6] = types[0]!;
  types.forEach((_, i) => {
    out[40 + 8 * i] = i + 1 < types.length ? types[i + 1]! : upper;
    out[40 + 8 * i + 1] = 0;
  });
  out.set(frame.subarray(40), 40 + 8 * types.length);
  const payload = frame.length - 40 + 8 * types.length;
  out[4] = payload >> 8;
  out[5] = payload & 0xff;
  return out;
}

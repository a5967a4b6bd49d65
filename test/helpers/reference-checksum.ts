// Reference Internet checksum helpers for tests that edit real frames: written independently of
// src/wire's checksum code, so a bug there cannot hide behind its own repair.

/** Sum of big-endian 16-bit words of bytes[start, end), added to `sum` (RFC 1071). */
export function refSum(bytes: Uint8Array, start: number, end: number, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += bytes[i]! * 256 + (i + 1 < end ? bytes[i + 1]! : 0);
  return sum;
}

/** Folds the carries and complements: the checksum field's value. */
export function refFold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function put16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >> 8;
  bytes[at + 1] = value & 0xff;
}

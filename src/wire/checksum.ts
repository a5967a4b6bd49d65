// Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
// Sums are plain numbers: 2^53 leaves room for far more than a 64 KiB segment of words,
// so folding happens once at the end, not per word.

/**
 * Adds the bytes [off, off+len) to `sum` as big-endian 16-bit words (odd tail padded with
 * 0). High and low bytes are summed apart, 8 bytes per step, and combined once: the SYN
 * path checksums every frame twice, so this loop is hot.
 */
export function sumWords(buf: Uint8Array, off: number, len: number, sum: number): number {
  const end = off + len;
  const end8 = off + (len & ~7);
  let high = 0;
  let low = 0;
  let i = off;
  for (; i < end8; i += 8) {
    high += buf[i]! + buf[i + 2]! + buf[i + 4]! + buf[i + 6]!;
    low += buf[i + 1]! + buf[i + 3]! + buf[i + 5]! + buf[i + 7]!;
  }
  for (; i + 1 < end; i += 2) {
    high += buf[i]!;
    low += buf[i + 1]!;
  }
  if (i < end) high += buf[i]!;
  return sum + high * 256 + low;
}

/**
 * sumWords for exactly one option-less IPv4 header (20 bytes, 10 words), in one expression:
 * every received frame's header is checked, and the general loop's steps and tail cost it
 * more than the additions.
 */
export function sumIpv4Header(buf: Uint8Array, off: number): number {
  // High bytes of the ten words, then low bytes (RFC 791: version … destination address).
  const high =
    buf[off]! + buf[off + 2]! + buf[off + 4]! + buf[off + 6]! + buf[off + 8]! +
    buf[off + 10]! + buf[off + 12]! + buf[off + 14]! + buf[off + 16]! + buf[off + 18]!;
  const low =
    buf[off + 1]! + buf[off + 3]! + buf[off + 5]! + buf[off + 7]! + buf[off + 9]! +
    buf[off + 11]! + buf[off + 13]! + buf[off + 15]! + buf[off + 17]! + buf[off + 19]!;
  return high * 256 + low;
}

/** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  // Sums of a 64 KiB frame stay below 2^32, where two integer folds suffice; anything
  // larger (only possible for callers summing several buffers) is brought down first.
  if (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 793 §3.1) for TCP/UDP checksums. */
export function pseudoHeaderSum(srcAddr: number, dstAddr: number, protocol: number, length: number): number {
  return (srcAddr >>> 16) + (srcAddr & 0xffff) + (dstAddr >>> 16) + (dstAddr & 0xffff) + protocol + length;
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1): both addresses as they sit in `buf`, the
 * upper-layer length as 32 bits and the next header. Used by TCP and ICMPv6 alike.
 */
export function pseudoHeaderSum6(buf: Uint8Array, srcOff: number, dstOff: number, protocol: number, length: number): number {
  return sumWords(buf, dstOff, 16, sumWords(buf, srcOff, 16, 0)) + (length >>> 16) + (length & 0xffff) + protocol;
}

/** The same sum from the addresses as four 32-bit words each (the builder's side). */
export function pseudoHeaderSum6Words(src: Uint32Array, dst: Uint32Array, protocol: number, length: number): number {
  let sum = (length >>> 16) + (length & 0xffff) + protocol;
  for (let i = 0; i < 4; i++) {
    const s = src[i]!;
    const d = dst[i]!;
    sum += (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
  }
  return sum;
}

export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  return finishChecksum(sumWords(buf, off, len, 0));
}

/**
 * RFC 1624 incremental update: the new checksum after one 16-bit word changed from
 * `oldWord` to `newWord`. Used where a template segment is reused with a few fields changed.
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Incremental update for a 32-bit field (two words). */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  checksum = updateChecksum16(checksum, oldValue >>> 16, newValue >>> 16);
  return updateChecksum16(checksum, oldValue & 0xffff, newValue & 0xffff);
}

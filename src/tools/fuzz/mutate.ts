// The fuzzer's byte-level mutations: what it does to a frame, independent of the flows and
// hosts it drives (fuzzer.ts). All randomness comes from the caller's Rng: a seed replays.

import { fold, put16, repairChecksums, type Rng } from './corpus.js';
import type { SkipCounts } from './invariants.js';

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x3f, 0x10, 0x0f, 0x05, 0x06, 0x14, 0x45];

/** 0–4 mutations, then the checksums repaired with some probability so mutations go deep. */
export function mutateFrame(rng: Rng, f: Uint8Array, len: number): number {
  const n = rng.below(5);
  for (let k = 0; k < n; k++) {
    const ihl = len > 0 ? (f[0]! & 0x0f) * 4 : 0;
    switch (rng.below(12)) {
      case 0: // bit flip
        if (len > 0) f[rng.below(len)]! ^= 1 << rng.below(8);
        break;
      case 1: // interesting byte
        if (len > 0) f[rng.below(len)] = INTERESTING[rng.below(INTERESTING.length)]!;
        break;
      case 2: // random byte
        if (len > 0) f[rng.below(len)] = rng.below(256);
        break;
      case 3: // truncate
        len = rng.below(len + 1);
        break;
      case 4: // extend with junk (the total length may or may not follow)
        {
          const extra = 1 + rng.below(rng.chance(0.9) ? 40 : 1500);
          const to = Math.min(f.length, len + extra);
          for (let i = len; i < to; i++) f[i] = rng.below(256);
          len = to;
          if (rng.chance(0.5) && len >= 4) put16(f, 2, len);
        }
        break;
      case 5: // IHL
        if (len > 0) f[0] = (f[0]! & 0xf0) | rng.below(16);
        break;
      case 6: // total length
        if (len >= 4) put16(f, 2, rng.chance(0.5) ? len + rng.below(9) - 4 : rng.below(65536));
        break;
      case 7: // fragment bits
        if (len >= 8) put16(f, 6, rng.chance(0.5) ? 0x4000 : rng.below(65536));
        break;
      case 8: // TCP data offset
        if (len > ihl + 12 && ihl >= 20) f[ihl + 12] = (rng.below(16) << 4) | (f[ihl + 12]! & 0x0f);
        break;
      case 9: // TCP flags
        if (len > ihl + 13 && ihl >= 20) f[ihl + 13] = rng.below(256);
        break;
      case 10: // option bytes: kinds and lengths
        if (len > ihl + 20 && ihl >= 20) {
          const at = ihl + 20 + rng.below(Math.max(1, len - ihl - 20));
          f[at] = rng.chance(0.5) ? [0, 1, 2, 3, 4, 5, 8, 254, 255][rng.below(9)]! : rng.below(256);
        }
        break;
      default: // protocol
        if (len >= 10) f[9] = rng.chance(0.7) ? [1, 6, 17, 0, 255][rng.below(5)]! : rng.below(256);
        break;
    }
  }
  const repair = rng.below(10);
  if (repair < 7) repairChecksums(f, len, true, repair < 6);
  return len;
}

/** Random bytes, half the time with an IPv4 version nibble so they reach deeper checks. */
export function randomFrame(rng: Rng, frame: Uint8Array): number {
  const len = rng.below(rng.chance(0.5) ? 64 : 1600);
  for (let i = 0; i < len; i++) frame[i] = rng.below(256);
  if (len > 0 && rng.chance(0.5)) frame[0] = 0x40 | (frame[0]! & 0x0f);
  return len;
}

/**
 * Workaround while the tiny-MSS hang is open (regressions.test.ts): an MSS option below 64
 * becomes 536, the TCP checksum updated incrementally (RFC 1624) so a frame that was valid
 * stays valid and one that was not stays not. Counted in `skipped['tiny-mss']`.
 */
export function avoidTinyMss(f: Uint8Array, len: number, skip: SkipCounts): void {
  if (len < 40 || f[9] !== 6) return;
  const ihl = (f[0]! & 0x0f) * 4;
  if (ihl < 20 || ihl + 20 > len) return;
  const end = Math.min(len, ihl + (f[ihl + 12]! >> 4) * 4);
  let i = ihl + 20;
  while (i < end) {
    const kind = f[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return;
    const length = f[i + 1]!;
    if (length < 2) return;
    if (kind === 2 && length === 4 && i + 4 <= end) {
      const old = (f[i + 2]! << 8) | f[i + 3]!;
      if (old < 64 && (i - ihl) % 2 === 0) {
        put16(f, i + 2, 536);
        const sum = (~((f[ihl + 16]! << 8) | f[ihl + 17]!) & 0xffff) + (~old & 0xffff) + 536;
        put16(f, ihl + 16, fold(sum));
        skip.set('tiny-mss', skip.get('tiny-mss')! + 1);
      }
    }
    i += length;
  }
}

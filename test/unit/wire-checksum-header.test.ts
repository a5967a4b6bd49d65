// The option-less IPv4 header's sum in one expression (checksum.ts sumIpv4Header) must equal the
// general RFC 1071 word sum, and Ipv4View.check must still refuse a header with one bit flipped.

import { describe, expect, it } from 'vitest';
import { finishChecksum, sumIpv4Header, sumWords } from '../../src/wire/checksum.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { WireError } from '../../src/wire/wire-error.js';

/** A real IPv4 header (SYN from 10.77.128.1 to 10.77.0.2, TTL 64, DF) at offset 2 of a buffer. */
const HEADER = [0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x4d, 0x80, 0x01, 0x0a, 0x4d, 0x00, 0x02];

function withChecksum(): Uint8Array {
  const buf = new Uint8Array(2 + 60);
  buf.set(HEADER, 2);
  const checksum = finishChecksum(sumWords(buf, 2, 20, 0));
  buf[12] = checksum >> 8;
  buf[13] = checksum & 0xff;
  return buf;
}

describe('sumIpv4Header', () => {
  it('equals sumWords over 20 bytes for 10 000 random headers at odd and even offsets', () => {
    let state = 12345;
    const buf = new Uint8Array(64);
    for (let n = 0; n < 10_000; n++) {
      for (let i = 0; i < buf.length; i++) buf[i] = (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) >>> 24;
      const off = n % 7;
      expect(sumIpv4Header(buf, off)).toBe(sumWords(buf, off, 20, 0));
    }
  });

  it('a header with its checksum passes; any single flipped bit is BadIpChecksum or an earlier error', () => {
    const good = withChecksum();
    expect(Ipv4View.check(good, 2, 60)).toBe(WireError.Ok);
    for (let bit = 0; bit < 160; bit++) {
      const bad = withChecksum();
      bad[2 + (bit >> 3)]! ^= 0x80 >> (bit & 7);
      expect(Ipv4View.check(bad, 2, 60)).not.toBe(WireError.Ok);
    }
  });
});

import { ByteWindow } from './byte-window.js';
import { finishChecksum, internetChecksum, sumIpv4Header } from './checksum.js';
import { WireError, type WireErrorCode } from './wire-error.js';

// Here and in tcp.ts, icmp.ts and tcp-options.ts the code reads offsets through module
// constants destructured from each table, not the table's properties: V8 folds a module `const`
// into compiled code but may re-read a property.

/** Field offsets of the IPv4 header (RFC 791 §3.1). */
export const Ipv4Field = {
  VERSION_IHL: 0,
  TOS: 1,
  TOTAL_LENGTH: 2,
  IDENT: 4,
  FLAGS_FRAGMENT: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC_ADDR: 12,
  DST_ADDR: 16,
} as const;
const { VERSION_IHL, TOS, TOTAL_LENGTH, IDENT, FLAGS_FRAGMENT, TTL, PROTOCOL, CHECKSUM, SRC_ADDR, DST_ADDR } = Ipv4Field;

export const IPV4_MIN_HEADER = 20;
export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** Version 4, IHL 5 (no options): the first byte of every header we build. */
export const IPV4_VERSION_IHL_NO_OPTIONS = 0x45;

/** Bits of the 16-bit flags/fragment-offset word at Ipv4Field.FLAGS_FRAGMENT (RFC 791 §3.1). */
export const Ipv4FlagsFragment = {
  DONT_FRAGMENT: 0x4000,
  MORE_FRAGMENTS: 0x2000,
  FRAGMENT_OFFSET_MASK: 0x1fff,
} as const;
const { DONT_FRAGMENT, MORE_FRAGMENTS, FRAGMENT_OFFSET_MASK } = Ipv4FlagsFragment;

/**
 * A window over an IPv4 header in a caller's buffer. Accessors read the bytes each time;
 * `reset` re-points the same object at the next frame so the rx loop allocates nothing.
 * Construct only after `Ipv4View.check` returned Ok (or over bytes we built ourselves).
 * `len` is the frame as received and may exceed totalLength (link padding).
 */
/** The ECN bits of the TOS byte (RFC 3168). */
export const IP_ECN_MASK = 0x03;
/** ECT(0): what Linux marks an ECN connection's data with. */
export const IP_ECN_ECT0 = 0x02;

export class Ipv4View extends ByteWindow {
  /**
   * Checked constructor's test: header fits, version 4, IHL ≥ 5 and within the frame,
   * total length within the frame, header checksum good, not a fragment.
   */
  static check(buf: Uint8Array, off: number, len: number): WireErrorCode {
    if (len < IPV4_MIN_HEADER) return WireError.Truncated;
    const versionIhl = buf[off + VERSION_IHL]!;
    if (versionIhl >> 4 !== 4) return WireError.BadVersion;
    const headerLength = (versionIhl & 0x0f) * 4;
    if (headerLength < IPV4_MIN_HEADER) return WireError.BadIhl;
    if (headerLength > len) return WireError.Truncated;
    const totalLength = readU16(buf, off + TOTAL_LENGTH);
    if (totalLength < headerLength) return WireError.BadTotalLength;
    if (totalLength > len) return WireError.Truncated;
    const headerSum = headerLength === IPV4_MIN_HEADER ? finishChecksum(sumIpv4Header(buf, off)) : internetChecksum(buf, off, headerLength);
    if (headerSum !== 0) return WireError.BadIpChecksum;
    const flagsFragment = readU16(buf, off + FLAGS_FRAGMENT);
    if ((flagsFragment & (MORE_FRAGMENTS | FRAGMENT_OFFSET_MASK)) !== 0) {
      return WireError.Fragment;
    }
    return WireError.Ok;
  }

  get version(): number {
    return this.buf[this.off + VERSION_IHL]! >> 4;
  }
  get headerLength(): number {
    return (this.buf[this.off + VERSION_IHL]! & 0x0f) * 4;
  }
  /** The ECN field of the TOS byte (RFC 3168): 0 = not ECT, 1 = ECT(1), 2 = ECT(0), 3 = CE. */
  get ecn(): number {
    return this.tos & IP_ECN_MASK;
  }

  get tos(): number {
    return this.buf[this.off + TOS]!;
  }
  get totalLength(): number {
    return readU16(this.buf, this.off + TOTAL_LENGTH);
  }
  get ident(): number {
    return readU16(this.buf, this.off + IDENT);
  }
  get dontFragment(): boolean {
    return (readU16(this.buf, this.off + FLAGS_FRAGMENT) & DONT_FRAGMENT) !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + TTL]!;
  }
  get protocol(): number {
    return this.buf[this.off + PROTOCOL]!;
  }
  get checksum(): number {
    return readU16(this.buf, this.off + CHECKSUM);
  }
  get srcAddr(): number {
    return readU32(this.buf, this.off + SRC_ADDR);
  }
  get dstAddr(): number {
    return readU32(this.buf, this.off + DST_ADDR);
  }
  /** Offset of the payload (TCP/ICMP header) in `buf`. */
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  /** Payload length per the total-length field (link padding excluded). */
  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** The same four bytes as a signed int32: stays a small integer in V8 (no HeapNumber). */
export function readI32(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

export function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 8) & 0xff;
  buf[at + 1] = value & 0xff;
}

export function readU16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

import { ByteWindow } from './byte-window.js';
import { readU16, readU32 } from './ipv4.js';
import { WireError, type WireErrorCode } from './wire-error.js';

// A TUN device is layer 3: frames arrive as bare IPv6 packets with no link-layer address,
// so neighbour discovery (RFC 4861) never has to be answered — the kernel side of the TUN
// routes to the device, it does not resolve a neighbour on it. ND messages that still
// arrive (router solicitations the kernel sends on a fresh link) are ICMPv6 the stack ignores.

/** Field offsets of the IPv6 header (RFC 8200 §3). */
export const Ipv6Field = {
  VERSION_CLASS_FLOW: 0,
  PAYLOAD_LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC_ADDR: 8,
  DST_ADDR: 24,
} as const;
const { VERSION_CLASS_FLOW, PAYLOAD_LENGTH, NEXT_HEADER, HOP_LIMIT, SRC_ADDR, DST_ADDR } = Ipv6Field;

export const IPV6_HEADER = 40;
/** Bytes of one IPv6 address. */
export const IPV6_ADDRESS_BYTES = 16;

/** Next-header values the listen path meets (IANA protocol numbers, RFC 8200 §4). */
export const Ipv6NextHeader = {
  HOP_BY_HOP: 0,
  TCP: 6,
  ROUTING: 43,
  FRAGMENT: 44,
  ICMPV6: 58,
  NO_NEXT_HEADER: 59,
  DESTINATION_OPTIONS: 60,
} as const;
const { HOP_BY_HOP, ROUTING, FRAGMENT, DESTINATION_OPTIONS } = Ipv6NextHeader;

/** Hop-by-hop, routing and destination options: (Hdr Ext Len + 1) × 8 bytes (RFC 8200 §4.3). */
const EXTENSION_LENGTH_UNIT = 8;

/**
 * A window over an IPv6 packet in a caller's buffer, re-pointable like Ipv4View. After
 * `check` returned Ok, `walkExtensions` finds the upper-layer header behind the extension
 * headers and leaves it in `upperProtocol` / `upperOffset` / `upperLength` (fields of the
 * reused view, so the rx loop allocates nothing).
 */
export class Ipv6View extends ByteWindow {
  upperProtocol = -1;
  upperOffset = 0;
  upperLength = 0;

  /**
   * Checked constructor's test: the fixed header fits, version 6, and the payload length
   * stays within the frame (ipv6_rcv: a longer claim is a truncated packet). A payload
   * length of 0 is taken as an empty payload: jumbograms (RFC 2675) never cross a TUN.
   */
  static check(buf: Uint8Array, off: number, len: number): WireErrorCode {
    if (len < IPV6_HEADER) return WireError.Truncated;
    if (buf[off + VERSION_CLASS_FLOW]! >> 4 !== 6) return WireError.BadVersion;
    if (IPV6_HEADER + readU16(buf, off + PAYLOAD_LENGTH) > len) return WireError.BadPayloadLength;
    return WireError.Ok;
  }

  /**
   * Skips the extension headers Linux knows on the receive path (hop-by-hop, routing,
   * destination options: ipv6_rcv / ip6_protocol_deliver_rcu) to the upper-layer header.
   * A fragment header is WireError.Fragment (syndrop does not reassemble); a header that
   * runs past the payload is Truncated. Any other next header (TCP, ICMPv6 or one we do not
   * know: AH, ESP, mobility…) ends the walk; the caller counts what it cannot deliver.
   */
  walkExtensions(): WireErrorCode {
    const buf = this.buf;
    const end = this.off + IPV6_HEADER + this.payloadLength;
    let next = buf[this.off + NEXT_HEADER]!;
    let at = this.off + IPV6_HEADER;
    for (;;) {
      if (next === FRAGMENT) return WireError.Fragment;
      if (next !== HOP_BY_HOP && next !== ROUTING && next !== DESTINATION_OPTIONS) break;
      if (at + 2 > end) return WireError.Truncated;
      const length = (buf[at + 1]! + 1) * EXTENSION_LENGTH_UNIT;
      if (at + length > end) return WireError.Truncated;
      next = buf[at]!;
      at += length;
    }
    this.upperProtocol = next;
    this.upperOffset = at;
    this.upperLength = end - at;
    return WireError.Ok;
  }

  get version(): number {
    return this.buf[this.off + VERSION_CLASS_FLOW]! >> 4;
  }
  /** The traffic class byte (DSCP + ECN), IPv6's TOS. */
  get trafficClass(): number {
    return (readU16(this.buf, this.off + VERSION_CLASS_FLOW) >> 4) & 0xff;
  }
  /** The ECN field of the traffic class (RFC 3168 §5). */
  get ecn(): number {
    return this.trafficClass & 0x03;
  }
  get flowLabel(): number {
    return readU32(this.buf, this.off + VERSION_CLASS_FLOW) & 0xfffff;
  }
  get payloadLength(): number {
    return readU16(this.buf, this.off + PAYLOAD_LENGTH);
  }
  get nextHeader(): number {
    return this.buf[this.off + NEXT_HEADER]!;
  }
  get hopLimit(): number {
    return this.buf[this.off + HOP_LIMIT]!;
  }
  /** Offsets of the addresses in `buf` (16 bytes each, network order). */
  get srcAddrOffset(): number {
    return this.off + SRC_ADDR;
  }
  get dstAddrOffset(): number {
    return this.off + DST_ADDR;
  }
  /** Word `i` (0–3) of the source / destination address, unsigned. */
  srcWord(i: number): number {
    return readU32(this.buf, this.off + SRC_ADDR + 4 * i);
  }
  dstWord(i: number): number {
    return readU32(this.buf, this.off + DST_ADDR + 4 * i);
  }
}

import { ByteWindow } from './byte-window.js';
import { finishChecksum, internetChecksum, sumWords } from './checksum.js';
import { readU16 } from './ipv4.js';
import { WireError, type WireErrorCode } from './wire-error.js';

export const IcmpType = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8 } as const;
/** ICMPv6 types the stack answers or ignores (RFC 4443 §2.1, RFC 4861 §4). */
export const Icmp6Type = { ECHO_REQUEST: 128, ECHO_REPLY: 129 } as const;
export const ICMP_HEADER = 8;

/** Field offsets of an ICMP echo / echo reply message (RFC 792, "Echo or Echo Reply Message"). */
export const IcmpField = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  IDENTIFIER: 4,
  SEQUENCE: 6,
} as const;
const { TYPE, CODE, IDENTIFIER, SEQUENCE } = IcmpField;

/** A window over an ICMP or ICMPv6 message (RFC 792, RFC 4443: the same first 8 bytes). */
export class IcmpView extends ByteWindow {
  static check(buf: Uint8Array, off: number, len: number): WireErrorCode {
    if (len < ICMP_HEADER) return WireError.BadIcmp;
    if (internetChecksum(buf, off, len) !== 0) return WireError.BadIcmp;
    return WireError.Ok;
  }

  /** ICMPv6's test: its checksum covers the IPv6 pseudo-header (`pseudoSum`, RFC 4443 §2.3). */
  static check6(buf: Uint8Array, off: number, len: number, pseudoSum: number): WireErrorCode {
    if (len < ICMP_HEADER) return WireError.BadIcmp;
    if (finishChecksum(sumWords(buf, off, len, pseudoSum)) !== 0) return WireError.BadIcmp;
    return WireError.Ok;
  }

  get type(): number {
    return this.buf[this.off + TYPE]!;
  }
  get code(): number {
    return this.buf[this.off + CODE]!;
  }
  get identifier(): number {
    return readU16(this.buf, this.off + IDENTIFIER);
  }
  get sequence(): number {
    return readU16(this.buf, this.off + SEQUENCE);
  }
}

import { ByteWindow } from './byte-window.js';
import { internetChecksum } from './checksum.js';
import { readU16 } from './ipv4.js';
import { WireError, type WireErrorCode } from './wire-error.js';

export const IcmpType = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8 } as const;
export const ICMP_HEADER = 8;

// Module constants, not the table's properties, in the code below: V8 folds a `const` into the
// compiled code but re-reads an object property on each use (measured on the rx path).
const TYPE = 0;
const CODE = 1;
const CHECKSUM = 2;
const IDENTIFIER = 4;
const SEQUENCE = 6;

/** Field offsets of an ICMP echo / echo reply message (RFC 792, "Echo or Echo Reply Message"). */
export const IcmpField = {
  TYPE,
  CODE,
  CHECKSUM,
  IDENTIFIER,
  SEQUENCE,
} as const;

/** A window over an ICMP message (RFC 792). */
export class IcmpView extends ByteWindow {
  static check(buf: Uint8Array, off: number, len: number): WireErrorCode {
    if (len < ICMP_HEADER) return WireError.BadIcmp;
    if (internetChecksum(buf, off, len) !== 0) return WireError.BadIcmp;
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

import { readU16, readU32 } from './ipv4.js';
import { WireError, type WireErrorCode } from './wire-error.js';

export const TcpOptionKind = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

/** The length byte each option kind must carry (RFC 793 §3.1, RFC 2018 §2, RFC 7323 §2.2 and §3.2). */
export const TcpOptionLength = {
  MSS: 4,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 2,
  TIMESTAMPS: 10,
} as const;
const { MSS, WINDOW_SCALE, SACK_PERMITTED, TIMESTAMPS } = TcpOptionLength;

/** Offsets inside one option: kind, length, then the value (TSecr follows the 4-byte TSval). */
export const TcpOptionField = {
  KIND: 0,
  LENGTH: 1,
  VALUE: 2,
  TS_ECR: 6,
} as const;
const { KIND, LENGTH, VALUE, TS_ECR } = TcpOptionField;

/** RFC 7323 §2.3: shift counts above 14 are treated as 14 (Linux logs and clamps). */
export const MAX_WINDOW_SCALE = 14;

/**
 * The options of one segment, parsed in place (tcp_parse_options). One instance is reused
 * for every frame: `parse` overwrites every field, so nothing is allocated per packet.
 * Options with a wrong length for their kind are skipped as Linux does; at an option whose
 * length runs past the header, or is below 2, tcp_parse_options stops and the segment goes
 * on with the options read so far (spec §8c, issue 15 item 13): `malformed` says so.
 */
export class TcpOptions {
  hasMss = false;
  mss = 0;
  hasWindowScale = false;
  windowScale = 0;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Count of options not understood (skipped by length). */
  unknownCount = 0;
  /** The walk stopped at an option with a bad length (the segment is still processed). */
  malformed = false;

  clear(): void {
    this.hasMss = false;
    this.mss = 0;
    this.hasWindowScale = false;
    this.windowScale = 0;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.unknownCount = 0;
    this.malformed = false;
  }

  /** Walks options in [start, end); never rejects the segment (Linux keeps it). */
  parse(buf: Uint8Array, start: number, end: number): WireErrorCode {
    this.clear();
    let i = start;
    while (i < end) {
      const kind = buf[i + KIND]!;
      if (kind === TcpOptionKind.EOL) break;
      if (kind === TcpOptionKind.NOP) {
        i++;
        continue;
      }
      // "silly options" and partial options: stop parsing, keep what was read.
      if (i + 1 >= end) {
        this.malformed = true;
        break;
      }
      const length = buf[i + LENGTH]!;
      if (length < 2 || i + length > end) {
        this.malformed = true;
        break;
      }
      switch (kind) {
        case TcpOptionKind.MSS:
          if (length === MSS) {
            this.hasMss = true;
            this.mss = readU16(buf, i + VALUE);
          }
          break;
        case TcpOptionKind.WINDOW_SCALE:
          if (length === WINDOW_SCALE) {
            this.hasWindowScale = true;
            this.windowScale = Math.min(buf[i + VALUE]!, MAX_WINDOW_SCALE);
          }
          break;
        case TcpOptionKind.SACK_PERMITTED:
          if (length === SACK_PERMITTED) this.sackPermitted = true;
          break;
        case TcpOptionKind.TIMESTAMPS:
          if (length === TIMESTAMPS) {
            this.hasTimestamps = true;
            this.tsVal = readU32(buf, i + VALUE);
            this.tsEcr = readU32(buf, i + TS_ECR);
          }
          break;
        case TcpOptionKind.SACK:
          break;
        default:
          this.unknownCount++;
      }
      i += length;
    }
    return WireError.Ok;
  }
}

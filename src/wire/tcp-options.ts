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

// The two blocks nearly every segment carries, as tcp_options_write lays them out: a Linux SYN's
// <mss><sackOK,TS><nop,wscale> (20 bytes) and <nop,nop,TS> on every later segment of a
// timestamped connection (12 bytes). Recognised by their fixed bytes and read at fixed offsets —
// tcp_fast_parse_options does the same for the aligned timestamp — since walking them option by
// option was ~20 ns of every SYN (make bench, cookie path ~340 ns). Anything else is walked.
const SYN_BLOCK_LENGTH = 20;
/** Bytes 0–1, 4–7 and 16–18 of the SYN block: MSS kind/length, sackOK, TS kind/length, NOP, wscale kind/length. */
const SYN_BLOCK_MSS = 0x0204;
const SYN_BLOCK_SACK_TS = 0x0402080a;
const SYN_BLOCK_NOP_WSCALE = 0x010303;
/** Where the timestamps option (its kind byte) starts in each block. */
const SYN_BLOCK_TS = 6;
const SYN_BLOCK_WSCALE_VALUE = 19;
const TS_BLOCK_LENGTH = 12;
const TS_BLOCK_NOP_NOP_TS = 0x0101080a;
const TS_BLOCK_TS = 2;

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

  /** Reads the options in [start, end); never rejects the segment (Linux keeps it). */
  parse(buf: Uint8Array, start: number, end: number): WireErrorCode {
    this.clear();
    const length = end - start;
    if (length === SYN_BLOCK_LENGTH && isSynBlock(buf, start)) {
      this.hasMss = true;
      this.mss = readU16(buf, start + VALUE);
      this.sackPermitted = true;
      this.readTimestamps(buf, start + SYN_BLOCK_TS);
      this.hasWindowScale = true;
      this.windowScale = Math.min(buf[start + SYN_BLOCK_WSCALE_VALUE]!, MAX_WINDOW_SCALE);
      return WireError.Ok;
    }
    if (length === TS_BLOCK_LENGTH && readU32(buf, start) === TS_BLOCK_NOP_NOP_TS) {
      this.readTimestamps(buf, start + TS_BLOCK_TS);
      return WireError.Ok;
    }
    return this.walk(buf, start, end);
  }

  /** TSval and TSecr of a timestamps option whose kind byte is at `at`. */
  private readTimestamps(buf: Uint8Array, at: number): void {
    this.hasTimestamps = true;
    this.tsVal = readU32(buf, at + VALUE);
    this.tsEcr = readU32(buf, at + TS_ECR);
  }

  /** tcp_parse_options: option by option, as Linux walks them. */
  private walk(buf: Uint8Array, start: number, end: number): WireErrorCode {
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
          if (length === TIMESTAMPS) this.readTimestamps(buf, i);
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

/** The fixed bytes of a Linux SYN's option block (its values aside). */
function isSynBlock(buf: Uint8Array, at: number): boolean {
  return (
    readU16(buf, at) === SYN_BLOCK_MSS &&
    readU32(buf, at + 4) === SYN_BLOCK_SACK_TS &&
    ((buf[at + 16]! << 16) | readU16(buf, at + 17)) === SYN_BLOCK_NOP_WSCALE
  );
}

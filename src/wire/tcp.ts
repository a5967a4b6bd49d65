import { ByteWindow } from './byte-window.js';
import { pseudoHeaderSum, sumWords, finishChecksum } from './checksum.js';
import { IpProtocol, readI32, readU16, readU32 } from './ipv4.js';
import { TcpOptions } from './tcp-options.js';
import { WireError, type WireErrorCode } from './wire-error.js';

/** Field offsets of the TCP header (RFC 793 §3.1). */
export const TcpField = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;
const { SRC_PORT, DST_PORT, SEQ, ACK, DATA_OFFSET, FLAGS, WINDOW, CHECKSUM, URGENT, OPTIONS } = TcpField;

export const TCP_MIN_HEADER = 20;
/**
 * In place of a pseudo-header sum: the checksum was verified before the frame reached us (the
 * kernel's skb->ip_summed = CHECKSUM_UNNECESSARY). Real sums are never negative.
 */
export const CHECKSUM_UNNECESSARY = -1;
const PROTOCOL_TCP = IpProtocol.TCP;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * A window over a TCP segment (header + payload) inside an IPv4 or IPv6 packet. `len` is the
 * segment length from the IP header, never the raw frame length (link padding excluded).
 */
export class TcpView extends ByteWindow {
  /**
   * Checked constructor's test: header fits, data offset sane, checksum over the pseudo
   * header good, and the options walk cleanly (results land in `options`, reused per frame).
   */
  static check(
    buf: Uint8Array,
    off: number,
    len: number,
    srcAddr: number,
    dstAddr: number,
    options: TcpOptions,
  ): WireErrorCode {
    return TcpView.checkWithPseudoSum(buf, off, len, pseudoHeaderSum(srcAddr, dstAddr, PROTOCOL_TCP, len), options);
  }

  /**
   * `check` for either family: the caller sums its pseudo-header (IPv4 or IPv6), or passes
   * CHECKSUM_UNNECESSARY when the device has verified the checksum already.
   */
  static checkWithPseudoSum(buf: Uint8Array, off: number, len: number, pseudoSum: number, options: TcpOptions): WireErrorCode {
    if (len < TCP_MIN_HEADER) return WireError.Truncated;
    const headerLength = (buf[off + DATA_OFFSET]! >> 4) * 4;
    if (headerLength < TCP_MIN_HEADER || headerLength > len) return WireError.BadDataOffset;
    if (pseudoSum !== CHECKSUM_UNNECESSARY && finishChecksum(sumWords(buf, off, len, pseudoSum)) !== 0) return WireError.BadTcpChecksum;
    return options.parse(buf, off + OPTIONS, off + headerLength);
  }

  get srcPort(): number {
    return readU16(this.buf, this.off + SRC_PORT);
  }
  get dstPort(): number {
    return readU16(this.buf, this.off + DST_PORT);
  }
  get seq(): number {
    return readU32(this.buf, this.off + SEQ);
  }
  get ack(): number {
    return readU32(this.buf, this.off + ACK);
  }
  /** seq / ack as int32 bit patterns, for the hot path (mod-2^32 arithmetic, no boxing). */
  get seqI32(): number {
    return readI32(this.buf, this.off + SEQ);
  }
  get ackI32(): number {
    return readI32(this.buf, this.off + ACK);
  }
  get headerLength(): number {
    return (this.buf[this.off + DATA_OFFSET]! >> 4) * 4;
  }
  /** The eight classic flag bits (CWR…FIN). */
  get flags(): number {
    return this.buf[this.off + FLAGS]!;
  }
  get window(): number {
    return readU16(this.buf, this.off + WINDOW);
  }
  get checksum(): number {
    return readU16(this.buf, this.off + CHECKSUM);
  }
  get urgent(): number {
    return readU16(this.buf, this.off + URGENT);
  }
  get payloadOffset(): number {
    return this.off + this.headerLength;
  }
  get payloadLength(): number {
    return this.len - this.headerLength;
  }
  get syn(): boolean {
    return (this.flags & TcpFlag.SYN) !== 0;
  }
  get fin(): boolean {
    return (this.flags & TcpFlag.FIN) !== 0;
  }
  get rst(): boolean {
    return (this.flags & TcpFlag.RST) !== 0;
  }
  get hasAck(): boolean {
    return (this.flags & TcpFlag.ACK) !== 0;
  }
}

export function tcpFlagsToString(flags: number): string {
  let s = '';
  if (flags & TcpFlag.SYN) s += 'S';
  if (flags & TcpFlag.FIN) s += 'F';
  if (flags & TcpFlag.RST) s += 'R';
  if (flags & TcpFlag.PSH) s += 'P';
  if (flags & TcpFlag.URG) s += 'U';
  if (flags & TcpFlag.ACK) s += '.';
  if (flags & TcpFlag.ECE) s += 'E';
  if (flags & TcpFlag.CWR) s += 'W';
  return s === '' ? 'none' : s;
}

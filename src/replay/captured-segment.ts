// A captured IPv4/TCP segment as replay needs it: the header fields read in place (no
// checksum verdict — a capture taken on the sending host holds checksums the NIC fills
// in later, so they are often wrong in the file), then rewritten in place to feed the
// emulated host: the ACK number and TSecr translated to the emulated server's sequence
// space and the checksums computed afresh.

import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from '../wire/checksum.js';
import { IpProtocol, Ipv4Field, Ipv4FlagsFragment, IPV4_MIN_HEADER, readU16, readU32, writeU16, writeU32 } from '../wire/ipv4.js';
import { TcpOptionField, TcpOptionKind, TcpOptionLength } from '../wire/tcp-options.js';
import { TcpField, TCP_MIN_HEADER } from '../wire/tcp.js';

export const SegmentLoad = { TCP: 0, NOT_TCP: 1, FRAGMENT: 2, MALFORMED: 3 } as const;
export type SegmentLoadCode = (typeof SegmentLoad)[keyof typeof SegmentLoad];


export class CapturedSegment {
  srcAddr = 0;
  dstAddr = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  sackPermitted = false;
  hasWindowScale = false;
  /** The window field as sent (unscaled), and the window-scale shift offered, -1 without one. */
  window = 0;
  windowScale = -1;
  /** The capture kept less than the IP total length (snaplen): the copy is cut to what was kept. */
  snapped = false;

  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  #ipLength = 0;
  #tcpOff = 0;
  #tcpHeaderLength = 0;
  /** Offset of the timestamp option's TSecr inside the TCP header, -1 without one. */
  #tsEcrAt = -1;

  /** Reads the headers of the IPv4 packet at `buf[off, off + len)`. */
  load(buf: Uint8Array, off: number, len: number): SegmentLoadCode {
    if (len < IPV4_MIN_HEADER || buf[off]! >> 4 !== 4) return SegmentLoad.MALFORMED;
    const ihl = (buf[off]! & 0x0f) * 4;
    const totalLength = readU16(buf, off + Ipv4Field.TOTAL_LENGTH);
    if (ihl < IPV4_MIN_HEADER || totalLength < ihl) return SegmentLoad.MALFORMED;
    if (buf[off + Ipv4Field.PROTOCOL] !== IpProtocol.TCP) return SegmentLoad.NOT_TCP;
    const fragment = readU16(buf, off + Ipv4Field.FLAGS_FRAGMENT);
    if ((fragment & (Ipv4FlagsFragment.MORE_FRAGMENTS | Ipv4FlagsFragment.FRAGMENT_OFFSET_MASK)) !== 0) return SegmentLoad.FRAGMENT;
    const ipLength = Math.min(totalLength, len);
    const tcpOff = off + ihl;
    if (ipLength - ihl < TCP_MIN_HEADER) return SegmentLoad.MALFORMED;
    const tcpHeaderLength = (buf[tcpOff + TcpField.DATA_OFFSET]! >> 4) * 4;
    if (tcpHeaderLength < TCP_MIN_HEADER || ihl + tcpHeaderLength > ipLength) return SegmentLoad.MALFORMED;
    this.#buf = buf;
    this.#off = off;
    this.#ipLength = ipLength;
    this.#tcpOff = tcpOff;
    this.#tcpHeaderLength = tcpHeaderLength;
    this.snapped = totalLength > len;
    this.srcAddr = readU32(buf, off + Ipv4Field.SRC_ADDR);
    this.dstAddr = readU32(buf, off + Ipv4Field.DST_ADDR);
    this.srcPort = readU16(buf, tcpOff + TcpField.SRC_PORT);
    this.dstPort = readU16(buf, tcpOff + TcpField.DST_PORT);
    this.seq = readU32(buf, tcpOff + TcpField.SEQ);
    this.ack = readU32(buf, tcpOff + TcpField.ACK);
    this.flags = buf[tcpOff + TcpField.FLAGS]!;
    this.window = readU16(buf, tcpOff + TcpField.WINDOW);
    this.#readOptions(buf, tcpOff + TCP_MIN_HEADER, tcpOff + tcpHeaderLength);
    return SegmentLoad.TCP;
  }

  /** A walk that tolerates what a checked parse would refuse: the capture is what it is. */
  #readOptions(buf: Uint8Array, from: number, to: number): void {
    this.hasTimestamps = this.sackPermitted = this.hasWindowScale = false;
    this.windowScale = -1;
    this.#tsEcrAt = -1;
    let p = from;
    while (p < to) {
      const kind = buf[p]!;
      if (kind === TcpOptionKind.EOL) break;
      if (kind === TcpOptionKind.NOP) {
        p++;
        continue;
      }
      const length = p + 1 < to ? buf[p + TcpOptionField.LENGTH]! : 0;
      if (length < 2 || p + length > to) break;
      if (kind === TcpOptionKind.TIMESTAMPS && length === TcpOptionLength.TIMESTAMPS) {
        this.hasTimestamps = true;
        this.tsVal = readU32(buf, p + TcpOptionField.VALUE);
        this.tsEcr = readU32(buf, p + TcpOptionField.TS_ECR);
        this.#tsEcrAt = p + TcpOptionField.TS_ECR - this.#tcpOff;
      } else if (kind === TcpOptionKind.SACK_PERMITTED) this.sackPermitted = true;
      else if (kind === TcpOptionKind.WINDOW_SCALE) {
        this.hasWindowScale = true;
        if (length === TcpOptionLength.WINDOW_SCALE) this.windowScale = buf[p + TcpOptionField.VALUE]!;
      }
      p += length;
    }
  }

  /**
   * The segment as the emulated host should see it: `ack` and `tsEcr` replaced, the IP total
   * length cut to what was captured, valid IP and TCP checksums. Rewritten in place, in the
   * buffer it was loaded from (a capture record nobody reads again: copying each segment out
   * first was a tenth of replay's own time). Returns its length; the bytes start at
   * `frameBuffer[frameOffset]`.
   */
  rewrite(ack: number, tsEcr: number): number {
    const out = this.#buf;
    const at = this.#off;
    const length = this.#ipLength;
    const tcp = this.#tcpOff;
    writeU16(out, at + Ipv4Field.TOTAL_LENGTH, length);
    writeU16(out, at + Ipv4Field.CHECKSUM, 0);
    writeU16(out, at + Ipv4Field.CHECKSUM, internetChecksum(out, at, tcp - at));
    writeU32(out, tcp + TcpField.ACK, ack);
    if (this.#tsEcrAt >= 0) writeU32(out, tcp + this.#tsEcrAt, tsEcr);
    writeU16(out, tcp + TcpField.CHECKSUM, 0);
    const tcpLength = length - (tcp - at);
    const sum = sumWords(out, tcp, tcpLength, pseudoHeaderSum(this.srcAddr, this.dstAddr, IpProtocol.TCP, tcpLength));
    writeU16(out, tcp + TcpField.CHECKSUM, finishChecksum(sum));
    return length;
  }

  get frameBuffer(): Uint8Array {
    return this.#buf;
  }

  get frameOffset(): number {
    return this.#off;
  }

  get tcpHeaderLength(): number {
    return this.#tcpHeaderLength;
  }
}

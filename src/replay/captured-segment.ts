// A captured IPv4/TCP segment as replay needs it: the header fields read in place (no
// checksum verdict — a capture taken on the sending host holds checksums the NIC fills
// in later, so they are often wrong in the file), and a copy to feed the emulated host
// with the ACK number and TSecr translated to the emulated server's sequence space and
// the checksums computed afresh.

import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from '../wire/checksum.js';
import { IpProtocol, Ipv4Field, Ipv4FlagsFragment, IPV4_MIN_HEADER, readU16, readU32, writeU16, writeU32 } from '../wire/ipv4.js';
import { TcpOptionField, TcpOptionKind, TcpOptionLength } from '../wire/tcp-options.js';
import { TcpField, TCP_MIN_HEADER } from '../wire/tcp.js';

export const SegmentLoad = { TCP: 0, NOT_TCP: 1, FRAGMENT: 2, MALFORMED: 3 } as const;
export type SegmentLoadCode = (typeof SegmentLoad)[keyof typeof SegmentLoad];

const MAX_IP_PACKET = 65535;
const SHORT_COPY = 128;

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
  /** The capture kept less than the IP total length (snaplen): the copy is cut to what was kept. */
  snapped = false;

  #buf: Uint8Array = new Uint8Array(0);
  #off = 0;
  #ipLength = 0;
  #tcpOff = 0;
  #tcpHeaderLength = 0;
  /** Offset of the timestamp option's TSecr inside the TCP header, -1 without one. */
  #tsEcrAt = -1;
  readonly #scratch = new Uint8Array(MAX_IP_PACKET);

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
    this.#readOptions(buf, tcpOff + TCP_MIN_HEADER, tcpOff + tcpHeaderLength);
    return SegmentLoad.TCP;
  }

  /** A walk that tolerates what a checked parse would refuse: the capture is what it is. */
  #readOptions(buf: Uint8Array, from: number, to: number): void {
    this.hasTimestamps = this.sackPermitted = this.hasWindowScale = false;
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
      else if (kind === TcpOptionKind.WINDOW_SCALE) this.hasWindowScale = true;
      p += length;
    }
  }

  /**
   * The segment as the emulated host should see it: a copy with `ack` and `tsEcr` replaced,
   * cut to what was captured, with valid IP and TCP checksums. Returns its length; the
   * bytes are `frame()`, valid until the next call.
   */
  rewrite(ack: number, tsEcr: number): number {
    const out = this.#scratch;
    const length = this.#ipLength;
    const buf = this.#buf;
    const off = this.#off;
    // Most segments are headers only: a plain loop, where subarray() made an object per segment.
    if (length <= SHORT_COPY) for (let i = 0; i < length; i++) out[i] = buf[off + i]!;
    else out.set(buf.subarray(off, off + length), 0);
    const ihl = this.#tcpOff - this.#off;
    writeU16(out, Ipv4Field.TOTAL_LENGTH, length);
    writeU16(out, Ipv4Field.CHECKSUM, 0);
    writeU16(out, Ipv4Field.CHECKSUM, internetChecksum(out, 0, ihl));
    writeU32(out, ihl + TcpField.ACK, ack);
    if (this.#tsEcrAt >= 0) writeU32(out, ihl + this.#tsEcrAt, tsEcr);
    writeU16(out, ihl + TcpField.CHECKSUM, 0);
    const tcpLength = length - ihl;
    const sum = sumWords(out, ihl, tcpLength, pseudoHeaderSum(this.srcAddr, this.dstAddr, IpProtocol.TCP, tcpLength));
    writeU16(out, ihl + TcpField.CHECKSUM, finishChecksum(sum));
    return length;
  }

  get frame(): Uint8Array {
    return this.#scratch;
  }

  get tcpHeaderLength(): number {
    return this.#tcpHeaderLength;
  }
}

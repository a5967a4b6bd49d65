// A simulated client's segment of one fixed shape (a SYN with its options, an ACK, a spoofed
// SYN), written once through the wire builder and then patched per segment: source address
// and port, sequence and acknowledgment numbers, TSval/TSecr, and both checksums summed
// afresh. Building every one of millions of segments through writeTcpSegment cost a fifth of
// a simulation, half of it a new DataView each time the builder switched between this frame
// and the stack's tx slab. The checksums are sums too: the fixed part of each (the template's
// bytes with every patched field zero, the pseudo-header's destination, protocol and length)
// is summed once, and each write adds only the words it patched — the same words as a full
// sum, so the same checksum, without reading the frame again.

import { finishChecksum, pseudoHeaderSum, sumWords } from '../wire/checksum.js';
import { IpProtocol, Ipv4Field, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { SegmentSpec, writeTcpSegment } from '../wire/builder.js';
import { TcpOptionField, TcpOptionKind } from '../wire/tcp-options.js';
import { TcpField, TCP_MIN_HEADER } from '../wire/tcp.js';

export class FrameTemplate {
  readonly frame = new Uint8Array(128);
  readonly length: number;
  readonly #view: DataView;
  /** Offset of the timestamp option's TSval in the frame, -1 without timestamps. */
  readonly #tsValAt: number;
  /** Sums of the IP header and of the TCP segment plus pseudo-header with every patched field zero. */
  readonly #ipFixedSum: number;
  readonly #tcpFixedSum: number;

  /** `spec` gives the shape: flags, window, options, destination (the rest is patched). */
  constructor(spec: SegmentSpec) {
    this.length = writeTcpSegment(this.frame, 0, spec);
    this.#view = new DataView(this.frame.buffer);
    this.#tsValAt = findTimestamps(this.frame, IPV4_MIN_HEADER + TCP_MIN_HEADER, IPV4_MIN_HEADER + ((this.frame[IPV4_MIN_HEADER + TcpField.DATA_OFFSET]! >> 4) * 4));
    const v = this.#view;
    const tcp = IPV4_MIN_HEADER;
    v.setUint32(Ipv4Field.SRC_ADDR, 0);
    v.setUint16(Ipv4Field.CHECKSUM, 0);
    v.setUint16(tcp + TcpField.SRC_PORT, 0);
    v.setUint32(tcp + TcpField.SEQ, 0);
    v.setUint32(tcp + TcpField.ACK, 0);
    if (this.#tsValAt >= 0) {
      v.setUint32(this.#tsValAt, 0);
      v.setUint32(this.#tsValAt + 4, 0);
    }
    v.setUint16(tcp + TcpField.CHECKSUM, 0);
    const tcpLength = this.length - tcp;
    this.#ipFixedSum = sumWords(this.frame, 0, IPV4_MIN_HEADER, 0);
    this.#tcpFixedSum = sumWords(this.frame, tcp, tcpLength, pseudoHeaderSum(0, spec.dstAddr >>> 0, IpProtocol.TCP, tcpLength));
  }

  /** The segment with these fields, checksums valid; returns its length (the bytes are `frame`). */
  write(srcAddr: number, srcPort: number, seq: number, ack: number, tsVal: number, tsEcr: number): number {
    const v = this.#view;
    const tcp = IPV4_MIN_HEADER;
    const src = srcAddr >>> 0;
    const s = seq >>> 0;
    const a = ack >>> 0;
    const addressWords = (src >>> 16) + (src & 0xffff);
    v.setUint32(Ipv4Field.SRC_ADDR, src);
    v.setUint16(Ipv4Field.CHECKSUM, finishChecksum(this.#ipFixedSum + addressWords));
    v.setUint16(tcp + TcpField.SRC_PORT, srcPort);
    v.setUint32(tcp + TcpField.SEQ, s);
    v.setUint32(tcp + TcpField.ACK, a);
    let sum = this.#tcpFixedSum + addressWords + srcPort + (s >>> 16) + (s & 0xffff) + (a >>> 16) + (a & 0xffff);
    if (this.#tsValAt >= 0) {
      const val = tsVal >>> 0;
      const ecr = tsEcr >>> 0;
      v.setUint32(this.#tsValAt, val);
      v.setUint32(this.#tsValAt + 4, ecr);
      sum += (val >>> 16) + (val & 0xffff) + (ecr >>> 16) + (ecr & 0xffff);
    }
    v.setUint16(tcp + TcpField.CHECKSUM, finishChecksum(sum));
    return this.length;
  }
}

function findTimestamps(frame: Uint8Array, from: number, to: number): number {
  for (let p = from; p < to; ) {
    const kind = frame[p]!;
    if (kind === TcpOptionKind.EOL) break;
    if (kind === TcpOptionKind.NOP) {
      p++;
      continue;
    }
    if (kind === TcpOptionKind.TIMESTAMPS) return p + TcpOptionField.VALUE;
    p += frame[p + TcpOptionField.LENGTH]!;
  }
  return -1;
}

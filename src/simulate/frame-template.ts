// A simulated client's segment of one fixed shape (a SYN with its options, an ACK, a spoofed
// SYN), written once through the wire builder and then patched per segment: source address
// and port, sequence and acknowledgment numbers, TSval/TSecr, and both checksums summed
// afresh. Building every one of millions of segments through writeTcpSegment cost a fifth of
// a simulation, half of it a new DataView each time the builder switched between this frame
// and the stack's tx slab.

import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from '../wire/checksum.js';
import { IpProtocol, Ipv4Field, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { SegmentSpec, writeTcpSegment } from '../wire/builder.js';
import { TcpOptionField, TcpOptionKind } from '../wire/tcp-options.js';
import { TcpField, TCP_MIN_HEADER } from '../wire/tcp.js';

export class FrameTemplate {
  readonly frame = new Uint8Array(128);
  readonly length: number;
  readonly #view: DataView;
  readonly #dstAddr: number;
  /** Offset of the timestamp option's TSval in the frame, -1 without timestamps. */
  readonly #tsValAt: number;

  /** `spec` gives the shape: flags, window, options, destination (the rest is patched). */
  constructor(spec: SegmentSpec) {
    this.length = writeTcpSegment(this.frame, 0, spec);
    this.#view = new DataView(this.frame.buffer);
    this.#dstAddr = spec.dstAddr;
    this.#tsValAt = findTimestamps(this.frame, IPV4_MIN_HEADER + TCP_MIN_HEADER, IPV4_MIN_HEADER + ((this.frame[IPV4_MIN_HEADER + TcpField.DATA_OFFSET]! >> 4) * 4));
  }

  /** The segment with these fields, checksums valid; returns its length (the bytes are `frame`). */
  write(srcAddr: number, srcPort: number, seq: number, ack: number, tsVal: number, tsEcr: number): number {
    const v = this.#view;
    const tcp = IPV4_MIN_HEADER;
    v.setUint32(Ipv4Field.SRC_ADDR, srcAddr >>> 0);
    v.setUint16(Ipv4Field.CHECKSUM, 0);
    v.setUint16(Ipv4Field.CHECKSUM, internetChecksum(this.frame, 0, IPV4_MIN_HEADER));
    v.setUint16(tcp + TcpField.SRC_PORT, srcPort);
    v.setUint32(tcp + TcpField.SEQ, seq >>> 0);
    v.setUint32(tcp + TcpField.ACK, ack >>> 0);
    if (this.#tsValAt >= 0) {
      v.setUint32(this.#tsValAt, tsVal >>> 0);
      v.setUint32(this.#tsValAt + 4, tsEcr >>> 0);
    }
    v.setUint16(tcp + TcpField.CHECKSUM, 0);
    const tcpLength = this.length - tcp;
    v.setUint16(tcp + TcpField.CHECKSUM, finishChecksum(sumWords(this.frame, tcp, tcpLength, pseudoHeaderSum(srcAddr >>> 0, this.#dstAddr, IpProtocol.TCP, tcpLength))));
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

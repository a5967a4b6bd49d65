import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { ICMP_HEADER, IcmpType } from './icmp.js';
import { IpProtocol, IPV4_MIN_HEADER, writeU16 } from './ipv4.js';
import { TCP_MIN_HEADER, TcpFlag } from './tcp.js';

/**
 * Everything needed to emit one IPv4/TCP segment (smoltcp's TcpRepr, gVisor's TCPFields).
 * Callers keep one instance and overwrite its fields per segment: no allocation.
 * Option fields follow tcp_options_write: MSS, then SACK-permitted + timestamps packed,
 * then window scale; `mss = 0` / `windowScale = -1` / `hasTimestamps = false` leave an option out.
 * 32-bit fields (addresses, seq, ack, TSval, TSecr) take the unsigned value or its int32 bit
 * pattern alike: the hot path passes int32s so V8 never boxes them.
 */
export class SegmentSpec {
  srcAddr = 0;
  dstAddr = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  ttl = 64;
  ipId = 0;
  dontFragment = true;
  mss = 0;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  payload: Uint8Array | null = null;
  payloadOffset = 0;
  payloadLength = 0;

  reset(): this {
    this.srcAddr = this.dstAddr = this.srcPort = this.dstPort = 0;
    this.seq = this.ack = this.flags = this.window = 0;
    this.ttl = 64;
    this.ipId = 0;
    this.dontFragment = true;
    this.mss = 0;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = this.tsEcr = 0;
    this.payload = null;
    this.payloadOffset = this.payloadLength = 0;
    return this;
  }
}

const NOP = 1;

// A DataView over the output buffer, kept while the caller reuses the same buffer (the tx
// slab): its big-endian stores are single instructions, where byte-wise helper calls were
// measurable on the SYN-ACK path.
let viewBuffer: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

function viewOf(out: Uint8Array): DataView<ArrayBufferLike> {
  if (out !== viewBuffer) {
    viewBuffer = out;
    view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  return view;
}

/** Bytes of TCP options `spec` produces (a multiple of 4). */
export function tcpOptionsLength(spec: SegmentSpec): number {
  const isSyn = (spec.flags & TcpFlag.SYN) !== 0;
  let length = 0;
  if (isSyn && spec.mss > 0) length += 4;
  if (spec.hasTimestamps) length += 12;
  else if (isSyn && spec.sackPermitted) length += 4;
  if (isSyn && spec.windowScale >= 0) length += 4;
  return length;
}

/**
 * Sum of the option words last written by writeOptions: the TCP checksum is computed from
 * the values, not by reading the freshly written bytes back (the SYN-ACK path builds a
 * frame per SYN).
 */
let optionsWordSum = 0;

function writeOptions(out: Uint8Array, dv: DataView<ArrayBufferLike>, at: number, spec: SegmentSpec): number {
  const isSyn = (spec.flags & TcpFlag.SYN) !== 0;
  const start = at;
  let sum = 0;
  if (isSyn && spec.mss > 0) {
    out[at] = 2;
    out[at + 1] = 4;
    dv.setUint16(at + 2, spec.mss);
    sum += 0x0204 + spec.mss;
    at += 4;
  }
  if (spec.hasTimestamps) {
    const tsVal = spec.tsVal | 0;
    const tsEcr = spec.tsEcr | 0;
    if (isSyn && spec.sackPermitted) {
      out[at] = 4;
      out[at + 1] = 2;
      sum += 0x0402;
    } else {
      out[at] = NOP;
      out[at + 1] = NOP;
      sum += 0x0101;
    }
    out[at + 2] = 8;
    out[at + 3] = 10;
    dv.setInt32(at + 4, tsVal);
    dv.setInt32(at + 8, tsEcr);
    sum += 0x080a + (tsVal >>> 16) + (tsVal & 0xffff) + (tsEcr >>> 16) + (tsEcr & 0xffff);
    at += 12;
  } else if (isSyn && spec.sackPermitted) {
    out[at] = NOP;
    out[at + 1] = NOP;
    out[at + 2] = 4;
    out[at + 3] = 2;
    sum += 0x0101 + 0x0402;
    at += 4;
  }
  if (isSyn && spec.windowScale >= 0) {
    out[at] = NOP;
    out[at + 1] = 3;
    out[at + 2] = 3;
    out[at + 3] = spec.windowScale;
    sum += 0x0103 + 0x0300 + spec.windowScale;
    at += 4;
  }
  optionsWordSum = sum;
  return at - start;
}

function writeIpv4Header(out: Uint8Array, dv: DataView<ArrayBufferLike>, off: number, totalLength: number, protocol: number, spec: SegmentSpec): void {
  const src = spec.srcAddr | 0;
  const dst = spec.dstAddr | 0;
  const flagsFragment = spec.dontFragment ? 0x4000 : 0;
  const ttlProtocol = (spec.ttl << 8) | protocol;
  out[off] = 0x45;
  out[off + 1] = 0;
  dv.setUint16(off + 2, totalLength);
  dv.setUint16(off + 4, spec.ipId);
  dv.setUint16(off + 6, flagsFragment);
  dv.setUint16(off + 8, ttlProtocol);
  dv.setInt32(off + 12, src);
  dv.setInt32(off + 16, dst);
  // The header checksum from the field values (RFC 1071), not from the written bytes.
  const sum = 0x4500 + totalLength + spec.ipId + flagsFragment + ttlProtocol + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  dv.setUint16(off + 10, finishChecksum(sum));
}

/**
 * Writes IPv4 + TCP (+ options, + payload) at `out[off]` with both checksums; returns
 * the frame length. The caller guarantees room (60 + payload bytes at most).
 */
export function writeTcpSegment(out: Uint8Array, off: number, spec: SegmentSpec): number {
  const tcpOff = off + IPV4_MIN_HEADER;
  const dv = viewOf(out);
  const optionsLength = writeOptions(out, dv, tcpOff + TCP_MIN_HEADER, spec);
  const headerLength = TCP_MIN_HEADER + optionsLength;
  const payloadLength = spec.payload === null ? 0 : spec.payloadLength;
  if (spec.payload !== null && payloadLength > 0) {
    out.set(spec.payload.subarray(spec.payloadOffset, spec.payloadOffset + payloadLength), tcpOff + headerLength);
  }
  const segmentLength = headerLength + payloadLength;
  const seq = spec.seq | 0;
  const ack = spec.ack | 0;
  const offsetFlags = ((headerLength / 4) << 12) | spec.flags;
  dv.setUint16(tcpOff, spec.srcPort);
  dv.setUint16(tcpOff + 2, spec.dstPort);
  dv.setInt32(tcpOff + 4, seq);
  dv.setInt32(tcpOff + 8, ack);
  dv.setUint16(tcpOff + 12, offsetFlags);
  dv.setUint16(tcpOff + 14, spec.window);
  dv.setUint16(tcpOff + 18, 0);
  let sum = pseudoHeaderSum(spec.srcAddr, spec.dstAddr, IpProtocol.TCP, segmentLength);
  sum += spec.srcPort + spec.dstPort + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
  sum += offsetFlags + spec.window + optionsWordSum;
  // The payload starts at a multiple of 4 from the TCP header, so its words line up.
  if (payloadLength > 0) sum = sumWords(out, tcpOff + headerLength, payloadLength, sum);
  dv.setUint16(tcpOff + 16, finishChecksum(sum));
  const totalLength = IPV4_MIN_HEADER + segmentLength;
  writeIpv4Header(out, dv, off, totalLength, IpProtocol.TCP, spec);
  return totalLength;
}

/**
 * Writes the echo reply to an echo request (RFC 792): same identifier, sequence and data,
 * addresses swapped. `request` points at the ICMP message; returns the frame length.
 */
export function writeIcmpEchoReply(
  out: Uint8Array,
  off: number,
  spec: SegmentSpec,
  request: Uint8Array,
  requestOff: number,
  requestLength: number,
): number {
  const icmpOff = off + IPV4_MIN_HEADER;
  out.set(request.subarray(requestOff, requestOff + requestLength), icmpOff);
  out[icmpOff] = IcmpType.ECHO_REPLY;
  out[icmpOff + 1] = 0;
  writeU16(out, icmpOff + 2, 0);
  writeU16(out, icmpOff + 2, internetChecksum(out, icmpOff, requestLength));
  const totalLength = IPV4_MIN_HEADER + requestLength;
  writeIpv4Header(out, viewOf(out), off, totalLength, IpProtocol.ICMP, spec);
  return totalLength;
}

export { ICMP_HEADER };

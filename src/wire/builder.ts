import { finishChecksum, internetChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
import { ICMP_HEADER, IcmpType } from './icmp.js';
import { IpProtocol, IPV4_MIN_HEADER, writeU16, writeU32 } from './ipv4.js';
import { TCP_MIN_HEADER, TcpFlag } from './tcp.js';

/**
 * Everything needed to emit one IPv4/TCP segment (smoltcp's TcpRepr, gVisor's TCPFields).
 * Callers keep one instance and overwrite its fields per segment: no allocation.
 * Option fields follow tcp_options_write: MSS, then SACK-permitted + timestamps packed,
 * then window scale; `mss = 0` / `windowScale = -1` / `hasTimestamps = false` leave an option out.
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

function writeOptions(out: Uint8Array, at: number, spec: SegmentSpec): number {
  const isSyn = (spec.flags & TcpFlag.SYN) !== 0;
  const start = at;
  let sum = 0;
  if (isSyn && spec.mss > 0) {
    out[at] = 2;
    out[at + 1] = 4;
    writeU16(out, at + 2, spec.mss);
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
    writeU32(out, at + 4, tsVal);
    writeU32(out, at + 8, tsEcr);
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

function writeIpv4Header(out: Uint8Array, off: number, totalLength: number, protocol: number, spec: SegmentSpec): void {
  const src = spec.srcAddr | 0;
  const dst = spec.dstAddr | 0;
  const flagsFragment = spec.dontFragment ? 0x4000 : 0;
  const ttlProtocol = (spec.ttl << 8) | protocol;
  out[off] = 0x45;
  out[off + 1] = 0;
  writeU16(out, off + 2, totalLength);
  writeU16(out, off + 4, spec.ipId);
  writeU16(out, off + 6, flagsFragment);
  writeU16(out, off + 8, ttlProtocol);
  writeU32(out, off + 12, src);
  writeU32(out, off + 16, dst);
  // The header checksum from the field values (RFC 1071), not from the written bytes.
  const sum = 0x4500 + totalLength + spec.ipId + flagsFragment + ttlProtocol + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  writeU16(out, off + 10, finishChecksum(sum));
}

/**
 * Writes IPv4 + TCP (+ options, + payload) at `out[off]` with both checksums; returns
 * the frame length. The caller guarantees room (60 + payload bytes at most).
 */
export function writeTcpSegment(out: Uint8Array, off: number, spec: SegmentSpec): number {
  const tcpOff = off + IPV4_MIN_HEADER;
  const optionsLength = writeOptions(out, tcpOff + TCP_MIN_HEADER, spec);
  const headerLength = TCP_MIN_HEADER + optionsLength;
  const payloadLength = spec.payload === null ? 0 : spec.payloadLength;
  if (spec.payload !== null && payloadLength > 0) {
    out.set(spec.payload.subarray(spec.payloadOffset, spec.payloadOffset + payloadLength), tcpOff + headerLength);
  }
  const segmentLength = headerLength + payloadLength;
  const seq = spec.seq | 0;
  const ack = spec.ack | 0;
  const offsetFlags = ((headerLength / 4) << 12) | spec.flags;
  writeU16(out, tcpOff, spec.srcPort);
  writeU16(out, tcpOff + 2, spec.dstPort);
  writeU32(out, tcpOff + 4, seq);
  writeU32(out, tcpOff + 8, ack);
  writeU16(out, tcpOff + 12, offsetFlags);
  writeU16(out, tcpOff + 14, spec.window);
  writeU16(out, tcpOff + 18, 0);
  let sum = pseudoHeaderSum(spec.srcAddr, spec.dstAddr, IpProtocol.TCP, segmentLength);
  sum += spec.srcPort + spec.dstPort + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
  sum += offsetFlags + spec.window + optionsWordSum;
  // The payload starts at a multiple of 4 from the TCP header, so its words line up.
  if (payloadLength > 0) sum = sumWords(out, tcpOff + headerLength, payloadLength, sum);
  writeU16(out, tcpOff + 16, finishChecksum(sum));
  const totalLength = IPV4_MIN_HEADER + segmentLength;
  writeIpv4Header(out, off, totalLength, IpProtocol.TCP, spec);
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
  writeIpv4Header(out, off, totalLength, IpProtocol.ICMP, spec);
  return totalLength;
}

export { ICMP_HEADER };

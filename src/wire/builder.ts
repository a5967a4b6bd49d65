import { finishChecksum, internetChecksum, pseudoHeaderSum, pseudoHeaderSum6Words, sumWords } from './checksum.js';
import { ICMP_HEADER, Icmp6Type, IcmpField, IcmpType } from './icmp.js';
import { IpProtocol, Ipv4Field, Ipv4FlagsFragment, IPV4_MIN_HEADER, IPV4_VERSION_IHL_NO_OPTIONS } from './ipv4.js';
import { Ipv6Field, Ipv6NextHeader, IPV6_HEADER } from './ipv6.js';
import { TCP_MIN_HEADER, TcpField, TcpFlag } from './tcp.js';
import { TcpOptionField, TcpOptionKind, TcpOptionLength } from './tcp-options.js';

// Field offsets under their RFC 791 / RFC 793 names, bound to module constants: V8 folds a
// module `const` into the compiled code but re-reads a property of an imported object on each
// use, which measured 45 → 56 ns per SYN-ACK build.
const IP_VERSION_IHL = Ipv4Field.VERSION_IHL;
const IP_TOTAL_LENGTH = Ipv4Field.TOTAL_LENGTH;
const IP_IDENT = Ipv4Field.IDENT;
const IP_FLAGS_FRAGMENT = Ipv4Field.FLAGS_FRAGMENT;
const IP_TTL = Ipv4Field.TTL;
const IP_CHECKSUM = Ipv4Field.CHECKSUM;
const IP_SRC_ADDR = Ipv4Field.SRC_ADDR;
const IP_DST_ADDR = Ipv4Field.DST_ADDR;
const IP_DONT_FRAGMENT = Ipv4FlagsFragment.DONT_FRAGMENT;
const TCP_SRC_PORT = TcpField.SRC_PORT;
const TCP_DST_PORT = TcpField.DST_PORT;
const TCP_SEQ = TcpField.SEQ;
const TCP_ACK = TcpField.ACK;
const TCP_DATA_OFFSET = TcpField.DATA_OFFSET;
const TCP_WINDOW = TcpField.WINDOW;
const TCP_CHECKSUM = TcpField.CHECKSUM;
const TCP_URGENT = TcpField.URGENT;
const TCP_OPTIONS = TcpField.OPTIONS;
const OPTION_VALUE = TcpOptionField.VALUE;
const OPTION_TS_ECR = TcpOptionField.TS_ECR;
const LENGTH_MSS = TcpOptionLength.MSS;
const LENGTH_SACK_PERMITTED = TcpOptionLength.SACK_PERMITTED;
const LENGTH_TIMESTAMPS = TcpOptionLength.TIMESTAMPS;
const LENGTH_WINDOW_SCALE = TcpOptionLength.WINDOW_SCALE;
const IP6_VERSION_CLASS_FLOW = Ipv6Field.VERSION_CLASS_FLOW;
const IP6_PAYLOAD_LENGTH = Ipv6Field.PAYLOAD_LENGTH;
const IP6_NEXT_HEADER = Ipv6Field.NEXT_HEADER;
const IP6_SRC_ADDR = Ipv6Field.SRC_ADDR;
const IP6_DST_ADDR = Ipv6Field.DST_ADDR;
const ICMP_TYPE = IcmpField.TYPE;
const ICMP_CODE = IcmpField.CODE;
const ICMP_CHECKSUM = IcmpField.CHECKSUM;

/**
 * Everything needed to emit one IPv4/TCP segment (smoltcp's TcpRepr, gVisor's TCPFields).
 * Callers keep one instance and overwrite its fields per segment: no allocation.
 * Option fields follow tcp_options_write: MSS, then SACK-permitted + timestamps packed,
 * then window scale; `mss = 0` / `windowScale = -1` / `hasTimestamps = false` leave an option out.
 * 32-bit fields (addresses, seq, ack, TSval, TSecr) take the unsigned value or its int32 bit
 * pattern alike: the hot path passes int32s so V8 never boxes them.
 * `parseSegment` (parse.ts) is the other half: bytes → these fields.
 */
export class SegmentSpec {
  srcAddr = 0;
  dstAddr = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** TcpFlag bits (CWR…FIN); bits 8–11, if set, land in the reserved nibble (AccECN's AE). */
  flags = 0;
  window = 0;
  ttl = 64;
  ipId = 0;
  dontFragment = true;
  /** The IPv4 TOS byte (DSCP + ECN); Linux sends 0 unless IP_TOS or ECN says otherwise. */
  tos = 0;
  /** The TCP urgent pointer; meaningful only with URG, which Linux never sets on the listen path. */
  urgent = 0;
  mss = 0;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  payload: Uint8Array | null = null;
  payloadOffset = 0;
  payloadLength = 0;
  /**
   * IPv6 instead of IPv4: the addresses are then `srcAddr6` / `dstAddr6` (four big-endian
   * words each), `tos` is the traffic class, `ttl` the hop limit; ipId and dontFragment
   * have no IPv6 field and are ignored.
   */
  ipv6 = false;
  readonly srcAddr6 = new Uint32Array(4);
  readonly dstAddr6 = new Uint32Array(4);
  /** The IPv6 flow label (20 bits). */
  flowLabel = 0;

  reset(): this {
    this.ipv6 = false;
    this.flowLabel = 0;
    this.srcAddr = this.dstAddr = this.srcPort = this.dstPort = 0;
    this.seq = this.ack = this.flags = this.window = 0;
    this.ttl = 64;
    this.ipId = 0;
    this.dontFragment = true;
    this.tos = 0;
    this.urgent = 0;
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

// Aligned option sizes as tcp_options_write lays them out (include/net/tcp.h TCPOLEN_*_ALIGNED).
const MSS_ALIGNED = 4;
const TIMESTAMPS_ALIGNED = 12;
const SACK_PERMITTED_ALIGNED = 4;
const WINDOW_SCALE_ALIGNED = 4;

// The 16-bit words those layouts are made of, kind in the high byte (what the checksum sums).
const NOP_NOP = (TcpOptionKind.NOP << 8) | TcpOptionKind.NOP;
const MSS_KIND_LENGTH = (TcpOptionKind.MSS << 8) | LENGTH_MSS;
const SACK_PERMITTED_KIND_LENGTH = (TcpOptionKind.SACK_PERMITTED << 8) | LENGTH_SACK_PERMITTED;
const TIMESTAMPS_KIND_LENGTH = (TcpOptionKind.TIMESTAMPS << 8) | LENGTH_TIMESTAMPS;
const NOP_WINDOW_SCALE_KIND = (TcpOptionKind.NOP << 8) | TcpOptionKind.WINDOW_SCALE;
/** Offset of the second 16-bit word in a 4-byte-aligned option group. */
const SECOND_WORD = 2;

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
  if (isSyn && spec.mss > 0) length += MSS_ALIGNED;
  if (spec.hasTimestamps) length += TIMESTAMPS_ALIGNED;
  else if (isSyn && spec.sackPermitted) length += SACK_PERMITTED_ALIGNED;
  if (isSyn && spec.windowScale >= 0) length += WINDOW_SCALE_ALIGNED;
  return length;
}

/**
 * Sum of the option words last written by writeOptions: the TCP checksum is computed from
 * the values, not by reading the freshly written bytes back (the SYN-ACK path builds a
 * frame per SYN).
 */
let optionsWordSum = 0;

function writeOptions(dv: DataView<ArrayBufferLike>, at: number, spec: SegmentSpec): number {
  const isSyn = (spec.flags & TcpFlag.SYN) !== 0;
  const start = at;
  let sum = 0;
  if (isSyn && spec.mss > 0) {
    // <mss>
    dv.setUint16(at, MSS_KIND_LENGTH);
    dv.setUint16(at + OPTION_VALUE, spec.mss);
    sum += MSS_KIND_LENGTH + spec.mss;
    at += MSS_ALIGNED;
  }
  if (spec.hasTimestamps) {
    // <sackOK,TS> on a SYN that offers SACK, else <nop,nop,TS>: SACK-permitted fills the two
    // bytes the NOPs would pad (tcp_options_write's OPTION_SACK_ADVERTISE | OPTION_TS case).
    const tsVal = spec.tsVal | 0;
    const tsEcr = spec.tsEcr | 0;
    const lead = isSyn && spec.sackPermitted ? SACK_PERMITTED_KIND_LENGTH : NOP_NOP;
    dv.setUint16(at, lead);
    dv.setUint16(at + SECOND_WORD, TIMESTAMPS_KIND_LENGTH);
    dv.setInt32(at + SECOND_WORD + OPTION_VALUE, tsVal);
    dv.setInt32(at + SECOND_WORD + OPTION_TS_ECR, tsEcr);
    sum += lead + TIMESTAMPS_KIND_LENGTH + (tsVal >>> 16) + (tsVal & 0xffff) + (tsEcr >>> 16) + (tsEcr & 0xffff);
    at += TIMESTAMPS_ALIGNED;
  } else if (isSyn && spec.sackPermitted) {
    // <nop,nop,sackOK>
    dv.setUint16(at, NOP_NOP);
    dv.setUint16(at + SECOND_WORD, SACK_PERMITTED_KIND_LENGTH);
    sum += NOP_NOP + SACK_PERMITTED_KIND_LENGTH;
    at += SACK_PERMITTED_ALIGNED;
  }
  if (isSyn && spec.windowScale >= 0) {
    // <nop,wscale>
    const lengthShift = (LENGTH_WINDOW_SCALE << 8) | spec.windowScale;
    dv.setUint16(at, NOP_WINDOW_SCALE_KIND);
    dv.setUint16(at + SECOND_WORD, lengthShift);
    sum += NOP_WINDOW_SCALE_KIND + lengthShift;
    at += WINDOW_SCALE_ALIGNED;
  }
  optionsWordSum = sum;
  return at - start;
}

function writeIpv4Header(dv: DataView<ArrayBufferLike>, off: number, totalLength: number, protocol: number, spec: SegmentSpec): void {
  const src = spec.srcAddr | 0;
  const dst = spec.dstAddr | 0;
  const versionIhlTos = (IPV4_VERSION_IHL_NO_OPTIONS << 8) | spec.tos;
  const flagsFragment = spec.dontFragment ? IP_DONT_FRAGMENT : 0;
  const ttlProtocol = (spec.ttl << 8) | protocol;
  dv.setUint16(off + IP_VERSION_IHL, versionIhlTos); // and TOS
  dv.setUint16(off + IP_TOTAL_LENGTH, totalLength);
  dv.setUint16(off + IP_IDENT, spec.ipId);
  dv.setUint16(off + IP_FLAGS_FRAGMENT, flagsFragment);
  dv.setUint16(off + IP_TTL, ttlProtocol); // and PROTOCOL
  dv.setInt32(off + IP_SRC_ADDR, src);
  dv.setInt32(off + IP_DST_ADDR, dst);
  // The header checksum from the field values (RFC 1071), not from the written bytes.
  const sum = versionIhlTos + totalLength + spec.ipId + flagsFragment + ttlProtocol + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  dv.setUint16(off + IP_CHECKSUM, finishChecksum(sum));
}

/** The IPv6 header (RFC 8200 §3); no checksum of its own. */
function writeIpv6Header(dv: DataView<ArrayBufferLike>, off: number, payloadLength: number, nextHeader: number, spec: SegmentSpec): void {
  dv.setUint32(off + IP6_VERSION_CLASS_FLOW, ((0x60 | (spec.tos >>> 4)) << 24) | ((spec.tos & 0x0f) << 20) | (spec.flowLabel & 0xfffff));
  dv.setUint16(off + IP6_PAYLOAD_LENGTH, payloadLength);
  dv.setUint16(off + IP6_NEXT_HEADER, (nextHeader << 8) | spec.ttl); // and HOP_LIMIT
  for (let i = 0; i < 4; i++) {
    dv.setUint32(off + IP6_SRC_ADDR + 4 * i, spec.srcAddr6[i]!);
    dv.setUint32(off + IP6_DST_ADDR + 4 * i, spec.dstAddr6[i]!);
  }
}

/**
 * Writes IPv4 (or, with `spec.ipv6`, IPv6) + TCP (+ options, + payload) at `out[off]` with
 * its checksums; returns the frame length. The caller guarantees room (80 + payload bytes
 * at most).
 */
export function writeTcpSegment(out: Uint8Array, off: number, spec: SegmentSpec): number {
  const ipHeader = spec.ipv6 ? IPV6_HEADER : IPV4_MIN_HEADER;
  const tcpOff = off + ipHeader;
  const dv = viewOf(out);
  const optionsLength = writeOptions(dv, tcpOff + TCP_OPTIONS, spec);
  const headerLength = TCP_MIN_HEADER + optionsLength;
  const payloadLength = spec.payload === null ? 0 : spec.payloadLength;
  if (spec.payload !== null && payloadLength > 0) {
    out.set(spec.payload.subarray(spec.payloadOffset, spec.payloadOffset + payloadLength), tcpOff + headerLength);
  }
  const segmentLength = headerLength + payloadLength;
  const seq = spec.seq | 0;
  const ack = spec.ack | 0;
  // Data offset (in 32-bit words) in the top nibble, the flags in the low byte.
  const offsetFlags = ((headerLength / 4) << 12) | spec.flags;
  dv.setUint16(tcpOff + TCP_SRC_PORT, spec.srcPort);
  dv.setUint16(tcpOff + TCP_DST_PORT, spec.dstPort);
  dv.setInt32(tcpOff + TCP_SEQ, seq);
  dv.setInt32(tcpOff + TCP_ACK, ack);
  dv.setUint16(tcpOff + TCP_DATA_OFFSET, offsetFlags); // and FLAGS
  dv.setUint16(tcpOff + TCP_WINDOW, spec.window);
  dv.setUint16(tcpOff + TCP_URGENT, spec.urgent);
  let sum = spec.ipv6
    ? pseudoHeaderSum6Words(spec.srcAddr6, spec.dstAddr6, IpProtocol.TCP, segmentLength)
    : pseudoHeaderSum(spec.srcAddr, spec.dstAddr, IpProtocol.TCP, segmentLength);
  sum += spec.srcPort + spec.dstPort + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff);
  sum += offsetFlags + spec.window + spec.urgent + optionsWordSum;
  // The payload starts at a multiple of 4 from the TCP header, so its words line up.
  if (payloadLength > 0) sum = sumWords(out, tcpOff + headerLength, payloadLength, sum);
  dv.setUint16(tcpOff + TCP_CHECKSUM, finishChecksum(sum));
  if (spec.ipv6) {
    writeIpv6Header(dv, off, segmentLength, Ipv6NextHeader.TCP, spec);
    return IPV6_HEADER + segmentLength;
  }
  const totalLength = IPV4_MIN_HEADER + segmentLength;
  writeIpv4Header(dv, off, totalLength, IpProtocol.TCP, spec);
  return totalLength;
}

/** The request's message copied to `at` with the reply's type, code 0 and a zero checksum. */
function copyAsReply(out: Uint8Array, at: number, type: number, request: Uint8Array, requestOff: number, requestLength: number): DataView<ArrayBufferLike> {
  out.set(request.subarray(requestOff, requestOff + requestLength), at);
  const dv = viewOf(out);
  out[at + ICMP_TYPE] = type;
  out[at + ICMP_CODE] = 0;
  dv.setUint16(at + ICMP_CHECKSUM, 0);
  return dv;
}

/**
 * Writes the ICMPv6 echo reply to an echo request (RFC 4443 §4.2): same identifier, sequence
 * and data; the checksum covers the IPv6 pseudo-header. `spec` carries the addresses.
 */
export function writeIcmp6EchoReply(
  out: Uint8Array,
  off: number,
  spec: SegmentSpec,
  request: Uint8Array,
  requestOff: number,
  requestLength: number,
): number {
  const icmpOff = off + IPV6_HEADER;
  const dv = copyAsReply(out, icmpOff, Icmp6Type.ECHO_REPLY, request, requestOff, requestLength);
  const pseudo = pseudoHeaderSum6Words(spec.srcAddr6, spec.dstAddr6, Ipv6NextHeader.ICMPV6, requestLength);
  dv.setUint16(icmpOff + ICMP_CHECKSUM, finishChecksum(sumWords(out, icmpOff, requestLength, pseudo)));
  writeIpv6Header(dv, off, requestLength, Ipv6NextHeader.ICMPV6, spec);
  return IPV6_HEADER + requestLength;
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
  const dv = copyAsReply(out, icmpOff, IcmpType.ECHO_REPLY, request, requestOff, requestLength);
  dv.setUint16(icmpOff + ICMP_CHECKSUM, internetChecksum(out, icmpOff, requestLength));
  const totalLength = IPV4_MIN_HEADER + requestLength;
  writeIpv4Header(dv, off, totalLength, IpProtocol.ICMP, spec);
  return totalLength;
}

export { ICMP_HEADER };

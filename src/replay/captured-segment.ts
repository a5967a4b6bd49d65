// A captured IPv4/TCP or IPv6/TCP segment as replay needs it: the header fields read in place (no
// checksum verdict — a capture taken on the sending host holds checksums the NIC fills
// in later, so they are often wrong in the file), then rewritten in place to feed the
// emulated host: the ACK number and TSecr translated to the emulated server's sequence
// space and the checksums computed afresh. Every captured packet and every emulated reply
// passes through `load`: it reads through a DataView kept per buffer (one load per field,
// where byte-wise reads were a tenth of replay's own time) and offsets bound to module
// constants (V8 folds those; an imported object's property is read again at each use).
// IPv6 addresses become 32-bit keys in 0.0.0.0/8 through an Ipv6Peers table, as the stack's
// own pools key them (peers6.ts): a track, a tuple index or a server endpoint holds one number
// whatever the family. The table is the replay's own, not the stack's: the stack frees a key
// once none of its state refers to it, which a replay track may still do, and two clients
// would become one track here. The replay frees its keys when none of its tracks does.

import { Ipv6Peers } from '../stack/peers6.js';
import { finishChecksum, pseudoHeaderSum, pseudoHeaderSum6 } from '../wire/checksum.js';
import { IpProtocol, Ipv4Field, Ipv4FlagsFragment, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { Ipv6Field, Ipv6NextHeader, IPV6_HEADER } from '../wire/ipv6.js';
import { TcpOptionField, TcpOptionKind, TcpOptionLength } from '../wire/tcp-options.js';
import { TcpField, TCP_MIN_HEADER } from '../wire/tcp.js';

/** IPV6_EXTENSIONS: IPv6 with an extension header before TCP (hop-by-hop, routing, AH…): not replayed. */
export const SegmentLoad = { TCP: 0, NOT_TCP: 1, FRAGMENT: 2, MALFORMED: 3, IPV6_EXTENSIONS: 4 } as const;
export type SegmentLoadCode = (typeof SegmentLoad)[keyof typeof SegmentLoad];

const LOAD_TCP = SegmentLoad.TCP;
const LOAD_NOT_TCP = SegmentLoad.NOT_TCP;
const LOAD_FRAGMENT = SegmentLoad.FRAGMENT;
const LOAD_MALFORMED = SegmentLoad.MALFORMED;
const LOAD_IPV6_EXTENSIONS = SegmentLoad.IPV6_EXTENSIONS;
const IP6_PAYLOAD_LENGTH = Ipv6Field.PAYLOAD_LENGTH;
const IP6_NEXT_HEADER = Ipv6Field.NEXT_HEADER;
const IP6_SRC_ADDR = Ipv6Field.SRC_ADDR;
const IP6_DST_ADDR = Ipv6Field.DST_ADDR;
const NEXT_HEADER_FRAGMENT = Ipv6NextHeader.FRAGMENT;
const IP_TOTAL_LENGTH = Ipv4Field.TOTAL_LENGTH;
const IP_FLAGS_FRAGMENT = Ipv4Field.FLAGS_FRAGMENT;
const IP_PROTOCOL = Ipv4Field.PROTOCOL;
const IP_CHECKSUM = Ipv4Field.CHECKSUM;
const IP_SRC_ADDR = Ipv4Field.SRC_ADDR;
const IP_DST_ADDR = Ipv4Field.DST_ADDR;
const PROTOCOL_TCP = IpProtocol.TCP;
const FRAGMENTED = Ipv4FlagsFragment.MORE_FRAGMENTS | Ipv4FlagsFragment.FRAGMENT_OFFSET_MASK;
const TCP_SRC_PORT = TcpField.SRC_PORT;
const TCP_DST_PORT = TcpField.DST_PORT;
const TCP_SEQ = TcpField.SEQ;
const TCP_ACK = TcpField.ACK;
const TCP_DATA_OFFSET = TcpField.DATA_OFFSET;
const TCP_FLAGS = TcpField.FLAGS;
const TCP_WINDOW = TcpField.WINDOW;
const TCP_CHECKSUM = TcpField.CHECKSUM;
const KIND_EOL = TcpOptionKind.EOL;
const KIND_NOP = TcpOptionKind.NOP;
const KIND_TIMESTAMPS = TcpOptionKind.TIMESTAMPS;
const KIND_SACK_PERMITTED = TcpOptionKind.SACK_PERMITTED;
const KIND_WINDOW_SCALE = TcpOptionKind.WINDOW_SCALE;
const LENGTH_TIMESTAMPS = TcpOptionLength.TIMESTAMPS;
const LENGTH_WINDOW_SCALE = TcpOptionLength.WINDOW_SCALE;
const OPTION_LENGTH = TcpOptionField.LENGTH;
const OPTION_VALUE = TcpOptionField.VALUE;
const OPTION_TS_ECR = TcpOptionField.TS_ECR;

/** The 16-bit one's-complement sum of `view[off, off + len)` added to `sum`, a word at a time. */
function sum16(view: DataView<ArrayBufferLike>, off: number, len: number, sum: number): number {
  const end = off + len;
  let i = off;
  for (; i + 4 <= end; i += 4) {
    const word = view.getUint32(i);
    sum += (word >>> 16) + (word & 0xffff);
  }
  if (i + 2 <= end) {
    sum += view.getUint16(i);
    i += 2;
  }
  if (i < end) sum += view.getUint8(i) << 8;
  return sum;
}

/**
 * Next headers that are IPv6 extension headers (IANA "IPv6 Extension Header Types", RFC 8200
 * §4): hop-by-hop, routing, fragment, ESP, AH, destination options, mobility, HIP, shim6 and
 * the two experimental values. Anything else after the fixed header is an upper layer.
 */
const IS_EXTENSION = new Uint8Array(256);
for (const header of [0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254]) IS_EXTENSION[header] = 1;

/** The replay's table of IPv6 addresses: keys 1, 2 … in the order the capture shows them. */
export function replayPeers6(): Ipv6Peers {
  // The digest keys only feed the stack's hashes, which never see this table.
  return new Ipv6Peers(0x7265706c, 0x61793636);
}

export class CapturedSegment {
  /** IPv4 address, or for IPv6 the address's key in `peers6` (0.0.0.0/8). */
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
  /** IPv6 (srcAddr and dstAddr are then keys in `peers6`). */
  ipv6 = false;

  #buf: Uint8Array = new Uint8Array(0);
  #view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  #off = 0;
  #ipLength = 0;
  #tcpOff = 0;
  #tcpHeaderLength = 0;
  /** Offset of the timestamp option's TSecr inside the TCP header, -1 without one. */
  #tsEcrAt = -1;

  /** `peers6` interns IPv6 addresses: share one between the segments whose keys must agree. */
  constructor(readonly peers6: Ipv6Peers = replayPeers6()) {}

  /** Reads the headers of the IPv4 or IPv6 packet at `buf[off, off + len)`. */
  load(buf: Uint8Array, off: number, len: number): SegmentLoadCode {
    if (buf !== this.#buf) {
      this.#buf = buf;
      this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const view = this.#view;
    if (len < IPV4_MIN_HEADER) return LOAD_MALFORMED;
    const versionIhl = view.getUint8(off);
    if (versionIhl >> 4 === 6) return this.#load6(buf, view, off, len);
    if (versionIhl >> 4 !== 4) return LOAD_MALFORMED;
    const ihl = (versionIhl & 0x0f) * 4;
    const totalLength = view.getUint16(off + IP_TOTAL_LENGTH);
    if (ihl < IPV4_MIN_HEADER || totalLength < ihl) return LOAD_MALFORMED;
    if (view.getUint8(off + IP_PROTOCOL) !== PROTOCOL_TCP) return LOAD_NOT_TCP;
    if ((view.getUint16(off + IP_FLAGS_FRAGMENT) & FRAGMENTED) !== 0) return LOAD_FRAGMENT;
    const ipLength = Math.min(totalLength, len);
    const tcpOff = off + ihl;
    if (ipLength - ihl < TCP_MIN_HEADER) return LOAD_MALFORMED;
    const tcpHeaderLength = (view.getUint8(tcpOff + TCP_DATA_OFFSET) >> 4) * 4;
    if (tcpHeaderLength < TCP_MIN_HEADER || ihl + tcpHeaderLength > ipLength) return LOAD_MALFORMED;
    const srcAddr = view.getUint32(off + IP_SRC_ADDR);
    const dstAddr = view.getUint32(off + IP_DST_ADDR);
    // 0.0.0.0/8 is where IPv6 keys live; Linux drops such an IPv4 segment as martian anyway.
    if (srcAddr >>> 24 === 0 || dstAddr >>> 24 === 0) return LOAD_MALFORMED;
    this.ipv6 = false;
    this.snapped = totalLength > len;
    this.srcAddr = srcAddr;
    this.dstAddr = dstAddr;
    this.#loadTcp(view, off, ipLength, tcpOff, tcpHeaderLength);
    return LOAD_TCP;
  }

  /**
   * The IPv6 packet (RFC 8200 §3): TCP right behind the fixed header is read like IPv4's; an
   * extension header before it is counted and skipped (a fragment header as a fragment), as
   * the rewrite would have to walk and keep it.
   */
  #load6(buf: Uint8Array, view: DataView<ArrayBufferLike>, off: number, len: number): SegmentLoadCode {
    if (len < IPV6_HEADER) return LOAD_MALFORMED;
    const totalLength = IPV6_HEADER + view.getUint16(off + IP6_PAYLOAD_LENGTH);
    const nextHeader = view.getUint8(off + IP6_NEXT_HEADER);
    if (nextHeader !== PROTOCOL_TCP) {
      if (nextHeader === NEXT_HEADER_FRAGMENT) return LOAD_FRAGMENT;
      return IS_EXTENSION[nextHeader] === 1 ? LOAD_IPV6_EXTENSIONS : LOAD_NOT_TCP;
    }
    const ipLength = Math.min(totalLength, len);
    const tcpOff = off + IPV6_HEADER;
    if (ipLength - IPV6_HEADER < TCP_MIN_HEADER) return LOAD_MALFORMED;
    const tcpHeaderLength = (view.getUint8(tcpOff + TCP_DATA_OFFSET) >> 4) * 4;
    if (tcpHeaderLength < TCP_MIN_HEADER || IPV6_HEADER + tcpHeaderLength > ipLength) return LOAD_MALFORMED;
    this.ipv6 = true;
    this.snapped = totalLength > len;
    this.srcAddr = this.peers6.intern(buf, off + IP6_SRC_ADDR);
    this.dstAddr = this.peers6.intern(buf, off + IP6_DST_ADDR);
    this.#loadTcp(view, off, ipLength, tcpOff, tcpHeaderLength);
    return LOAD_TCP;
  }

  #loadTcp(view: DataView<ArrayBufferLike>, off: number, ipLength: number, tcpOff: number, tcpHeaderLength: number): void {
    this.#off = off;
    this.#ipLength = ipLength;
    this.#tcpOff = tcpOff;
    this.#tcpHeaderLength = tcpHeaderLength;
    this.srcPort = view.getUint16(tcpOff + TCP_SRC_PORT);
    this.dstPort = view.getUint16(tcpOff + TCP_DST_PORT);
    this.seq = view.getUint32(tcpOff + TCP_SEQ);
    this.ack = view.getUint32(tcpOff + TCP_ACK);
    this.flags = view.getUint8(tcpOff + TCP_FLAGS);
    this.window = view.getUint16(tcpOff + TCP_WINDOW);
    this.#readOptions(view, tcpOff + TCP_MIN_HEADER, tcpOff + tcpHeaderLength);
  }

  /** A walk that tolerates what a checked parse would refuse: the capture is what it is. */
  #readOptions(view: DataView<ArrayBufferLike>, from: number, to: number): void {
    this.hasTimestamps = this.sackPermitted = this.hasWindowScale = false;
    this.windowScale = -1;
    this.#tsEcrAt = -1;
    let p = from;
    while (p < to) {
      const kind = view.getUint8(p);
      if (kind === KIND_EOL) break;
      if (kind === KIND_NOP) {
        p++;
        continue;
      }
      const length = p + 1 < to ? view.getUint8(p + OPTION_LENGTH) : 0;
      if (length < 2 || p + length > to) break;
      if (kind === KIND_TIMESTAMPS && length === LENGTH_TIMESTAMPS) {
        this.hasTimestamps = true;
        this.tsVal = view.getUint32(p + OPTION_VALUE);
        this.tsEcr = view.getUint32(p + OPTION_TS_ECR);
        this.#tsEcrAt = p + OPTION_TS_ECR - this.#tcpOff;
      } else if (kind === KIND_SACK_PERMITTED) this.sackPermitted = true;
      else if (kind === KIND_WINDOW_SCALE) {
        this.hasWindowScale = true;
        if (length === LENGTH_WINDOW_SCALE) this.windowScale = view.getUint8(p + OPTION_VALUE);
      }
      p += length;
    }
  }

  /**
   * The segment as the emulated host should see it: `ack` and `tsEcr` replaced, the IP total
   * (IPv6: payload) length cut to what was captured, a valid IPv4 header checksum, and with
   * `tcpChecksum` a valid TCP checksum. The offline host takes TCP checksums as verified
   * (CHECKSUM_UNNECESSARY), so only bytes someone reads again (`--out`) need it. Rewritten in
   * place, in the buffer it was loaded from (a capture record nobody reads again: copying each
   * segment out first was a tenth of replay's own time). Returns its length; the bytes start
   * at `frameBuffer[frameOffset]`.
   */
  rewrite(ack: number, tsEcr: number, tcpChecksum: boolean): number {
    const view = this.#view;
    const at = this.#off;
    const length = this.#ipLength;
    const tcp = this.#tcpOff;
    const tcpLength = length - (tcp - at);
    if (this.ipv6) view.setUint16(at + IP6_PAYLOAD_LENGTH, tcpLength);
    else {
      view.setUint16(at + IP_TOTAL_LENGTH, length);
      view.setUint16(at + IP_CHECKSUM, 0);
      view.setUint16(at + IP_CHECKSUM, finishChecksum(sum16(view, at, tcp - at, 0)));
    }
    view.setUint32(tcp + TCP_ACK, ack);
    if (this.#tsEcrAt >= 0) view.setUint32(tcp + this.#tsEcrAt, tsEcr);
    if (!tcpChecksum) return length;
    view.setUint16(tcp + TCP_CHECKSUM, 0);
    const pseudo = this.ipv6
      ? pseudoHeaderSum6(this.#buf, at + IP6_SRC_ADDR, at + IP6_DST_ADDR, PROTOCOL_TCP, tcpLength)
      : pseudoHeaderSum(this.srcAddr, this.dstAddr, PROTOCOL_TCP, tcpLength);
    view.setUint16(tcp + TCP_CHECKSUM, finishChecksum(sum16(view, tcp, tcpLength, pseudo)));
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

// The parse half of SegmentSpec (smoltcp's `TcpRepr::parse`, gVisor's header → TCPFields):
// bytes → fields, through the checked views. Slow path, for tests, the CLI and tools: it
// constructs views per call. The rx loop keeps using Ipv4View/TcpView/TcpOptions directly.

import { SegmentSpec } from './builder.js';
import { pseudoHeaderSum6 } from './checksum.js';
import { IpProtocol, Ipv4View } from './ipv4.js';
import { Ipv6View } from './ipv6.js';
import { TcpField, TcpView } from './tcp.js';
import { TcpOptions } from './tcp-options.js';
import { WIRE_ERROR_NAMES, WireError, type WireErrorCode } from './wire-error.js';

/** parseSegment's answer for a well-formed IP packet that does not carry TCP (ICMP, UDP…). */
export const NOT_TCP = -1;

export type SegmentParseCode = WireErrorCode | typeof NOT_TCP;

/** A parse code as a stable name: the WireError names, plus 'not-tcp'. */
export function segmentParseCodeName(code: SegmentParseCode): string {
  return code === NOT_TCP ? 'not-tcp' : WIRE_ERROR_NAMES[code]!;
}

const options = new TcpOptions();

/** The low nibble of the data-offset byte (RFC 9293 §3.1 "Rsrvd"). */
const RESERVED_MASK = 0x0f;

/**
 * Reads the IPv4/TCP or IPv6/TCP packet at `buf[off, off + len)` into `into`; returns WireError.Ok, the
 * checked views' first rejection (then `into` is left reset), or NOT_TCP.
 *
 * Every field writeTcpSegment writes is filled: on a packet it could have written,
 * `writeTcpSegment(out, 0, into)` gives back the same bytes. 32-bit fields come out unsigned.
 * `payload` is `buf` itself (not a copy) with payloadOffset/payloadLength, or null when empty.
 * What the spec cannot hold, and so does not come back on emit:
 *  - IP options (IHL > 5) and link padding past the total length;
 *  - any TCP option layout other than tcp_options_write's: other orders or padding, EOL,
 *    SACK blocks, unknown kinds; MSS/SACK-permitted/window scale on a segment without SYN;
 *  - an MSS option of 0 (mss = 0 means "no MSS option");
 *  - a window scale above 14, which reads as 14 (RFC 7323 §2.3, as TcpOptions does).
 */
export function parseSegment(buf: Uint8Array, off: number, len: number, into: SegmentSpec): SegmentParseCode {
  into.reset();
  if (len > 0 && buf[off]! >> 4 === 6) return parseSegment6(buf, off, len, into);
  const ipCode = Ipv4View.check(buf, off, len);
  if (ipCode !== WireError.Ok) return ipCode;
  const ip = new Ipv4View(buf, off, len);
  if (ip.protocol !== IpProtocol.TCP) return NOT_TCP;
  const tcpCode = TcpView.check(buf, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, options);
  if (tcpCode !== WireError.Ok) return tcpCode;
  into.srcAddr = ip.srcAddr;
  into.dstAddr = ip.dstAddr;
  into.tos = ip.tos;
  into.ttl = ip.ttl;
  into.ipId = ip.ident;
  into.dontFragment = ip.dontFragment;
  readTcp(buf, new TcpView(buf, ip.payloadOffset, ip.payloadLength), into);
  return WireError.Ok;
}

/**
 * The IPv6 half: extension headers skipped (not kept: the spec has no room for them), the
 * addresses into srcAddr6/dstAddr6, traffic class into `tos`, hop limit into `ttl`.
 */
function parseSegment6(buf: Uint8Array, off: number, len: number, into: SegmentSpec): SegmentParseCode {
  const ipCode = Ipv6View.check(buf, off, len);
  if (ipCode !== WireError.Ok) return ipCode;
  const ip = new Ipv6View(buf, off, len);
  const walked = ip.walkExtensions();
  if (walked !== WireError.Ok) return walked;
  if (ip.upperProtocol !== IpProtocol.TCP) return NOT_TCP;
  const pseudo = pseudoHeaderSum6(buf, ip.srcAddrOffset, ip.dstAddrOffset, IpProtocol.TCP, ip.upperLength);
  const tcpCode = TcpView.checkWithPseudoSum(buf, ip.upperOffset, ip.upperLength, pseudo, options);
  if (tcpCode !== WireError.Ok) return tcpCode;
  into.ipv6 = true;
  for (let i = 0; i < 4; i++) {
    into.srcAddr6[i] = ip.srcWord(i);
    into.dstAddr6[i] = ip.dstWord(i);
  }
  into.tos = ip.trafficClass;
  into.ttl = ip.hopLimit;
  into.flowLabel = ip.flowLabel;
  readTcp(buf, new TcpView(buf, ip.upperOffset, ip.upperLength), into);
  return WireError.Ok;
}

/** The TCP half, shared by both families (options from the last checked segment). */
function readTcp(buf: Uint8Array, tcp: TcpView, into: SegmentSpec): void {
  into.srcPort = tcp.srcPort;
  into.dstPort = tcp.dstPort;
  into.seq = tcp.seq;
  into.ack = tcp.ack;
  // The 4 reserved bits (AccECN's AE is the lowest) as well as the 8 flags: the spec writes
  // whatever sits above bit 7 of `flags` into them, so they come back too.
  into.flags = ((buf[tcp.off + TcpField.DATA_OFFSET]! & RESERVED_MASK) << 8) | tcp.flags;
  into.window = tcp.window;
  into.urgent = tcp.urgent;

  into.mss = options.hasMss ? options.mss : 0;
  into.windowScale = options.hasWindowScale ? options.windowScale : -1;
  into.sackPermitted = options.sackPermitted;
  into.hasTimestamps = options.hasTimestamps;
  into.tsVal = options.tsVal;
  into.tsEcr = options.tsEcr;

  const payloadLength = tcp.payloadLength;
  if (payloadLength > 0) {
    into.payload = buf;
    into.payloadOffset = tcp.payloadOffset;
    into.payloadLength = payloadLength;
  }
}

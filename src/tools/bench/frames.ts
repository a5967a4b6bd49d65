// Preallocated frame pools for the in-process benchmark: every frame is a real IPv4/TCP
// segment with correct checksums, written once before timing starts. SYNs carry distinct
// 4-tuples (like `sdgen syn`: host i mod H of 10.77.128.0/17, port round i div H), so each
// one reaches the listener as a new connection request.

import { SegmentSpec, writeTcpSegment } from '../../wire/builder.js';
import { parseIpv4 } from '../../wire/addr.js';
import { Ipv4View } from '../../wire/ipv4.js';
import { TcpFlag, TcpView } from '../../wire/tcp.js';
import { TcpOptions } from '../../wire/tcp-options.js';
import { WireError } from '../../wire/wire-error.js';

export const EMULATED = parseIpv4('10.77.0.2');
export const SPOOF_BASE = parseIpv4('10.77.128.0');
/** Usable hosts of the /17 (network and broadcast skipped). */
export const SPOOF_HOSTS = (1 << 15) - 2;
export const DPORT = 80;
/** Every frame slot is this many bytes apart (a 60-byte SYN, a 52-byte ACK). */
export const FRAME_STRIDE = 64;

export class FramePool {
  readonly slab: Uint8Array;
  readonly lengths: Int32Array;
  readonly count: number;

  constructor(count: number) {
    this.count = count;
    this.slab = new Uint8Array(count * FRAME_STRIDE);
    this.lengths = new Int32Array(count);
  }
}

/** Source address and port of tuple i (distinct up to SPOOF_HOSTS × 64512 tuples). */
export function tupleSource(i: number): { addr: number; port: number } {
  const host = i % SPOOF_HOSTS;
  const round = Math.floor(i / SPOOF_HOSTS);
  return { addr: (SPOOF_BASE + 1 + host) >>> 0, port: 1024 + (round % 64512) };
}

/** A Linux client's SYN: MSS 1460, SACK_PERM + TS, NOP WS 7 (60 bytes), tuple `first + i`. */
export function buildSynPool(count: number, first = 0): FramePool {
  const pool = new FramePool(count);
  const spec = new SegmentSpec();
  for (let i = 0; i < count; i++) {
    const { addr, port } = tupleSource(first + i);
    spec.reset();
    spec.srcAddr = addr;
    spec.dstAddr = EMULATED;
    spec.srcPort = port;
    spec.dstPort = DPORT;
    spec.seq = clientIsn(addr, port);
    spec.flags = TcpFlag.SYN;
    spec.window = 64240;
    spec.ipId = i & 0xffff;
    spec.mss = 1460;
    spec.sackPermitted = true;
    spec.hasTimestamps = true;
    spec.tsVal = (1_000_000 + i) >>> 0;
    spec.windowScale = 7;
    pool.lengths[i] = writeTcpSegment(pool.slab, i * FRAME_STRIDE, spec);
  }
  return pool;
}

/** The client ISN of a tuple (any fixed function will do; sdgen also hashes the tuple). */
export function clientIsn(addr: number, port: number): number {
  let h = Math.imul(addr ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(port, 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0xc2b2ae35) >>> 0;
}

/** One SYN-ACK as the client sees it: what the third ACK must echo. */
export interface CapturedSynAck {
  dstAddr: number;
  dstPort: number;
  seq: number;
  ack: number;
  tsVal: number;
  hasTimestamps: boolean;
}

const ip = new Ipv4View(new Uint8Array(0));
const tcp = new TcpView(new Uint8Array(0));
const options = new TcpOptions();

/** Parses a frame the host sent; null unless it is a well-formed SYN-ACK. Not for hot paths. */
export function parseSynAck(buf: Uint8Array, off: number, len: number): CapturedSynAck | null {
  if (Ipv4View.check(buf, off, len) !== WireError.Ok) return null;
  ip.reset(buf, off, len);
  if (ip.protocol !== 6) return null;
  if (TcpView.check(buf, ip.payloadOffset, ip.payloadLength, ip.srcAddr, ip.dstAddr, options) !== WireError.Ok) return null;
  tcp.reset(buf, ip.payloadOffset, ip.payloadLength);
  if ((tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== (TcpFlag.SYN | TcpFlag.ACK)) return null;
  return {
    dstAddr: ip.dstAddr,
    dstPort: tcp.dstPort,
    seq: tcp.seq,
    ack: tcp.ack,
    tsVal: options.hasTimestamps ? options.tsVal : 0,
    hasTimestamps: options.hasTimestamps,
  };
}

/** Writes the client's third ACK for `synAck` (52 bytes with NOP NOP TS) into pool slot i. */
export function writeThirdAck(pool: FramePool, i: number, synAck: CapturedSynAck, spec = new SegmentSpec()): void {
  spec.reset();
  spec.srcAddr = synAck.dstAddr;
  spec.dstAddr = EMULATED;
  spec.srcPort = synAck.dstPort;
  spec.dstPort = DPORT;
  spec.seq = synAck.ack;
  spec.ack = (synAck.seq + 1) >>> 0;
  spec.flags = TcpFlag.ACK;
  spec.window = 502;
  spec.ipId = i & 0xffff;
  if (synAck.hasTimestamps) {
    spec.hasTimestamps = true;
    spec.tsVal = (2_000_000 + i) >>> 0;
    spec.tsEcr = synAck.tsVal;
  }
  pool.lengths[i] = writeTcpSegment(pool.slab, i * FRAME_STRIDE, spec);
}

// Drives a Host with crafted frames on a virtual clock and decodes what it sends back.
// Tests read replies as plain records and counters as deltas: real outcomes, no mocks.

import { AcceptLoop } from '../../src/app/accept-loop.js';
import { Host, type HostConfig } from '../../src/stack/host.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { COUNTERS } from '../../src/stack/mib.js';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { NOT_TCP, parseSegment, segmentParseCodeName } from '../../src/wire/parse.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { WireError } from '../../src/wire/wire-error.js';
import { VERDICTS } from '../../src/stack/verdict.js';

export const SERVER = parseIpv4('10.0.0.1');
export const CLIENT_C = parseIpv4('10.0.0.2');
export const CLIENT_D = parseIpv4('10.0.0.3');

export interface Reply {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** IPv4 identification and TOS byte (DSCP + ECN). */
  ipId: number;
  tos: number;
  payload: Uint8Array;
  mss: number | null;
  windowScale: number | null;
  sackPermitted: boolean;
  tsVal: number | null;
  tsEcr: number | null;
  /** Raw bytes, for byte-level assertions. */
  bytes: Uint8Array;
}

export interface SegmentOptions {
  src?: number;
  srcPort?: number;
  dstPort?: number;
  dst?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** IPv4 TOS byte (its low two bits are the ECN field). */
  tos?: number;
  mss?: number | null;
  windowScale?: number | null;
  sack?: boolean;
  tsVal?: number | null;
  tsEcr?: number;
  payload?: Uint8Array;
}

export class StackHarness {
  readonly host: Host;
  /** The application accepting on the host's listeners (at once unless a test says otherwise). */
  readonly app: AcceptLoop;
  now = 0;
  private snapshot: Float64Array;

  constructor(kernel: string, sysctls: string[] = [], config: Partial<HostConfig> = {}) {
    const profile = resolveProfile(kernel);
    this.host = new Host({ profile, sysctls: new Sysctls(profile, sysctls), address: SERVER, seed: 42, ...config });
    this.app = new AcceptLoop(this.host);
    this.snapshot = this.host.counters.slice();
  }

  /** Builds a segment (default: a SYN from C:5000 to :80 with MSS 1460, SACK, TS, WS 7). */
  frame(o: SegmentOptions = {}): Uint8Array {
    const spec = new SegmentSpec();
    spec.srcAddr = o.src ?? CLIENT_C;
    spec.dstAddr = o.dst ?? SERVER;
    spec.srcPort = o.srcPort ?? 5000;
    spec.dstPort = o.dstPort ?? 80;
    spec.seq = (o.seq ?? 1000) >>> 0;
    spec.ack = (o.ack ?? 0) >>> 0;
    spec.flags = o.flags ?? TcpFlag.SYN;
    spec.window = o.window ?? 64240;
    spec.tos = o.tos ?? 0;
    const isSyn = (spec.flags & TcpFlag.SYN) !== 0;
    spec.mss = o.mss === undefined ? (isSyn ? 1460 : 0) : (o.mss ?? 0);
    spec.windowScale = o.windowScale === undefined ? (isSyn ? 7 : -1) : (o.windowScale ?? -1);
    spec.sackPermitted = o.sack ?? isSyn;
    const tsVal = o.tsVal === undefined ? 100 : o.tsVal;
    spec.hasTimestamps = tsVal !== null;
    spec.tsVal = (tsVal ?? 0) >>> 0;
    spec.tsEcr = (o.tsEcr ?? 0) >>> 0;
    if (o.payload !== undefined) {
      spec.payload = o.payload;
      spec.payloadOffset = 0;
      spec.payloadLength = o.payload.length;
    }
    const buf = new Uint8Array(2048);
    const len = writeTcpSegment(buf, 0, spec);
    return buf.slice(0, len);
  }

  /** Delivers a frame at the current time; returns the verdict name and the replies. */
  send(frame: Uint8Array): { verdict: string; replies: Reply[] } {
    this.host.tick(this.now);
    const verdict = this.host.receive(frame, 0, frame.length, this.now);
    return { verdict: VERDICTS[verdict]!.name, replies: this.drain() };
  }

  segment(o: SegmentOptions = {}): { verdict: string; replies: Reply[] } {
    return this.send(this.frame(o));
  }

  /** Advances the virtual clock to `t` ms, running timers; returns what they sent. */
  advanceTo(t: number): Reply[] {
    const replies: Reply[] = [];
    while (this.now < t) {
      const next = Math.min(this.host.nextTimerAt(), t);
      this.now = Math.max(this.now, next);
      this.host.tick(this.now);
      replies.push(...this.drain());
      if (next === t) break;
    }
    this.now = t;
    return replies;
  }

  drain(): Reply[] {
    const tx = this.host.tx;
    const out: Reply[] = [];
    for (let i = 0; i < tx.count; i++) out.push(decodeReply(tx.frame(i)));
    tx.clear();
    return out;
  }

  /** Counter changes since the last call (or construction), by nstat name, zeros left out. */
  deltas(): Record<string, number> {
    const out: Record<string, number> = {};
    const c = this.host.counters;
    for (let i = 0; i < COUNTERS.length; i++) {
      const d = c[i]! - this.snapshot[i]!;
      if (d !== 0) out[COUNTERS[i]!.name] = d;
    }
    this.snapshot = c.slice();
    return out;
  }

  /** Listen-path counters only (spec §9a: InSegs/OutSegs ignored), without the Tcp/TcpExt prefix. */
  listenDeltas(): Record<string, number> {
    const all = this.deltas();
    const out: Record<string, number> = {};
    for (const [name, value] of Object.entries(all)) {
      if (/^(Ip|Icmp|Syndrop)/.test(name)) continue;
      if (name === 'TcpInSegs' || name === 'TcpOutSegs' || name === 'TcpCurrEstab') continue;
      out[name.startsWith('TcpExt') ? name.slice(6) : name] = value;
    }
    return out;
  }

  /**
   * A full handshake from `src:port`: SYN, then the ACK of the SYN-ACK. Returns the SYN-ACK
   * and the verdict of the third ACK.
   */
  handshake(srcPort: number, src = CLIENT_C, tsVal: number | null = 100): { synAck: Reply; ackVerdict: string } {
    const syn = this.segment({ src, srcPort, seq: 1000, tsVal });
    const synAck = syn.replies.find((r) => (r.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK));
    if (synAck === undefined) throw new Error(`no SYN-ACK for port ${srcPort}: ${syn.verdict}`);
    const ack = this.segment({
      src,
      srcPort,
      seq: 1001,
      ack: synAck.seq + 1,
      flags: TcpFlag.ACK,
      tsVal: tsVal === null ? null : tsVal + 1,
      tsEcr: synAck.tsVal ?? 0,
    });
    return { synAck, ackVerdict: ack.verdict };
  }
}

export function decodeReply(bytes: Uint8Array): Reply {
  const len = bytes.length;
  const spec = new SegmentSpec();
  const code = parseSegment(bytes, 0, len, spec);
  if (code === NOT_TCP) {
    const ip = new Ipv4View(bytes, 0, len);
    return {
      src: ip.srcAddr, dst: ip.dstAddr, srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, ipId: ip.ident, tos: ip.tos,
      payload: bytes.slice(ip.payloadOffset), mss: null, windowScale: null, sackPermitted: false, tsVal: null, tsEcr: null, bytes,
    };
  }
  if (code !== WireError.Ok) throw new Error(`host sent a malformed frame: ${segmentParseCodeName(code)}`);
  const payload = spec.payload === null ? new Uint8Array(0) : spec.payload.slice(spec.payloadOffset, spec.payloadOffset + spec.payloadLength);
  return {
    src: spec.srcAddr,
    dst: spec.dstAddr,
    srcPort: spec.srcPort,
    dstPort: spec.dstPort,
    seq: spec.seq,
    ack: spec.ack,
    flags: spec.flags,
    window: spec.window,
    ipId: spec.ipId,
    tos: spec.tos,
    payload,
    mss: spec.mss !== 0 ? spec.mss : null,
    windowScale: spec.windowScale >= 0 ? spec.windowScale : null,
    sackPermitted: spec.sackPermitted,
    tsVal: spec.hasTimestamps ? spec.tsVal : null,
    tsEcr: spec.hasTimestamps ? spec.tsEcr : null,
    bytes,
  };
}

export const isSynAck = (r: Reply): boolean => (r.flags & 0x12) === 0x12;
export const isRst = (r: Reply): boolean => (r.flags & TcpFlag.RST) !== 0;
export { TcpFlag };

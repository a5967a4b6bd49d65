// The fuzzer's frame source and peer: it builds hosts with drawn profiles and sysctls, writes
// the next frame (crafted SYNs, in-sequence follow-ups to the host's SYN-ACKs, mutated real
// Linux frames, random bytes), reads back what the host sent and moves the virtual clock.

import { AcceptLoop } from '../../app/accept-loop.js';
import { createApp } from '../../app/handlers.js';
import type { Profile } from '../../profiles/profile.js';
import { Sysctls } from '../../profiles/sysctl.js';
import { Host } from '../../stack/host.js';
import { TxRing } from '../../stack/tx.js';
import { parseIpv4 } from '../../wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../../wire/builder.js';
import { TcpFlag } from '../../wire/tcp.js';
import { TcpOptions } from '../../wire/tcp-options.js';
import { get32, hexToBytes, put16, put32, repairChecksums, Rng, SEED_CORPUS } from './corpus.js';
import { checkReply, type SkipCounts } from './invariants.js';
import { avoidTinyMss, mutateFrame, randomFrame } from './mutate.js';

export const FUZZ_HOST = parseIpv4('10.77.0.2');
const PEER_BASE = parseIpv4('10.77.128.0');
const PEERS = 256;
const PORTS_PER_PEER = 64;
const HTTP_GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');

interface SeedFrame {
  name: string;
  bytes: Uint8Array;
}

/** A SYN-ACK the host sent: what a follow-up from that peer needs to be in sequence. */
interface Flow {
  peer: number;
  peerPort: number;
  localPort: number;
  /** Our next sequence number (their ISN + 1) and their next expected (host ISN + 1). */
  seq: number;
  ack: number;
  /** The host's TSval and the peer's own clock (the SYN-ACK's TSecr echoes the SYN's TSval). */
  hostTs: number;
  peerTs: number;
  timestamps: boolean;
  /** The host sent its FIN: a polite peer answers with its own (the host enters TIME_WAIT). */
  hostFin?: boolean;
}

/** Room for one generated frame (the TUN MTU is 1500; mutations extend past it on purpose). */
export const FRAME_ROOM = 4096;

/**
 * Shared with a watchdog thread: [0] frames done, [1] phase (1 tick, 2 receive), [2] length of
 * the frame in `frame`, [3] virtual clock (ms, truncated). A frame that never returns is a hang.
 */
export interface FuzzProbe {
  state: Int32Array;
  frame: Uint8Array;
}

const BACKLOGS = [0, 1, 2, 4, 8, 16, 128, 1024];

export class Fuzzer {
  readonly rng: Rng;
  private readonly seeds: SeedFrame[];
  private readonly frame: Uint8Array;
  private readonly spec = new SegmentSpec();
  private readonly flows: Flow[] = [];
  private flowNext = 0;
  private readonly flowByTuple = new Map<number, Flow>();
  private readonly replyOptions = new TcpOptions();
  host!: Host;
  acceptLoop!: AcceptLoop;
  now = 0;
  repliesChecked = 0;
  handshakes = 0;
  readonly skip: SkipCounts;

  constructor(seed: number, skip: readonly string[] = [], frame: Uint8Array = new Uint8Array(FRAME_ROOM)) {
    this.frame = frame;
    this.skip = new Map(skip.map((key) => [key, 0]));
    this.rng = new Rng(seed);
    this.seeds = Object.entries(SEED_CORPUS).map(([name, hex]) => ({ name, bytes: hexToBytes(hex) }));
  }

  /** A fresh host: profile, backlog, app and sysctls drawn from the rng. */
  newHost(profile: Profile): Host {
    const rng = this.rng;
    const overrides: string[] = [];
    const has = (name: string) => Object.prototype.hasOwnProperty.call(profile.sysctlDefaults, name);
    overrides.push(`net.ipv4.tcp_syncookies=${rng.below(3)}`);
    if (rng.chance(0.3)) overrides.push(`net.ipv4.tcp_max_syn_backlog=${[8, 16, 128][rng.below(3)]}`);
    if (has('net.ipv4.tcp_tw_recycle') && rng.chance(0.5)) overrides.push('net.ipv4.tcp_tw_recycle=1');
    if (rng.chance(0.2)) overrides.push('net.ipv4.tcp_abort_on_overflow=1');
    if (rng.chance(0.2)) overrides.push('net.ipv4.tcp_timestamps=0');
    if (rng.chance(0.2)) overrides.push(`net.ipv4.tcp_max_tw_buckets=${rng.below(64)}`);
    if (rng.chance(0.1)) overrides.push('net.ipv4.tcp_rfc1337=1');
    const tx = new TxRing(256, (ring) => this.drainTx(ring));
    const host = new Host({ profile, sysctls: new Sysctls(profile, overrides), address: FUZZ_HOST, seed: rng.u32(), tx, eventCapacity: 4096 });
    const apps = ['http', 'echo', 'discard', null] as const;
    const app = apps[rng.below(apps.length)]!;
    const rates = [Infinity, Infinity, 0, 5];
    const acceptLoop = new AcceptLoop(host);
    acceptLoop.listen(80, BACKLOGS[rng.below(BACKLOGS.length)]!, { handler: app === null ? null : createApp(app), ratePerSecond: rates[rng.below(rates.length)]! });
    if (rng.chance(0.3)) acceptLoop.listen(8080, BACKLOGS[rng.below(BACKLOGS.length)]!, { handler: createApp('http') });
    if (rng.chance(0.2)) host.listeners[0]!.deferAcceptRetrans = 1 + rng.below(3);
    this.host = host;
    this.acceptLoop = acceptLoop;
    this.now = 0;
    this.flows.length = 0;
    this.flowByTuple.clear();
    this.flowNext = 0;
    return host;
  }

  /** Checks and forgets what the host sent; remembers SYN-ACKs for in-sequence follow-ups. */
  drainTx(ring: TxRing): void {
    const host = this.host;
    for (let i = 0; i < ring.count; i++) {
      const off = ring.offsets[i]!;
      const len = ring.lengths[i]!;
      checkReply(host, ring.slab, off, len, this.skip);
      this.repliesChecked++;
      const b = ring.slab;
      if (b[off + 9] !== 6) continue;
      const t = off + (b[off]! & 0x0f) * 4;
      const flags = b[t + 13]!;
      if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) {
        this.rememberSynAck(b, off, t, len);
      } else if ((flags & TcpFlag.ACK) !== 0 && (flags & TcpFlag.RST) === 0) {
        // Data or FIN from the host: a well-behaved peer acknowledges it, so TIME_WAIT is reached.
        const flow = this.flowByTuple.get(get32(b, off + 16) * 65536 + ((b[t + 2]! << 8) | b[t + 3]!));
        if (flow !== undefined) {
          const payload = off + len - (t + (b[t + 12]! >> 4) * 4);
          flow.ack = (get32(b, t + 4) + payload + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0)) >>> 0;
          if ((flags & TcpFlag.FIN) !== 0) flow.hostFin = true;
        }
      }
    }
    ring.clear();
  }

  private rememberSynAck(b: Uint8Array, off: number, t: number, len: number): void {
    const o = this.replyOptions;
    const dataOffset = (b[t + 12]! >> 4) * 4;
    o.parse(b, t + 20, t + dataOffset);
    void len;
    const existing = this.flowByTuple.get(get32(b, off + 16) * 65536 + ((b[t + 2]! << 8) | b[t + 3]!));
    const flow: Flow = existing ?? {
      peer: get32(b, off + 16),
      peerPort: (b[t + 2]! << 8) | b[t + 3]!,
      localPort: (b[t]! << 8) | b[t + 1]!,
      seq: get32(b, t + 8),
      ack: (get32(b, t + 4) + 1) >>> 0,
      hostTs: o.hasTimestamps ? o.tsVal : 0,
      peerTs: o.hasTimestamps ? o.tsEcr : 0,
      timestamps: o.hasTimestamps,
    };
    if (existing !== undefined) {
      existing.localPort = (b[t]! << 8) | b[t + 1]!;
      existing.seq = get32(b, t + 8);
      existing.ack = (get32(b, t + 4) + 1) >>> 0;
      existing.hostTs = o.hasTimestamps ? o.tsVal : 0;
      existing.peerTs = o.hasTimestamps ? o.tsEcr : 0;
      existing.timestamps = o.hasTimestamps;
      return;
    }
    if (this.flows.length < 512) this.flows.push(flow);
    else {
      const old = this.flows[this.flowNext & 511]!;
      this.flowByTuple.delete(old.peer * 65536 + old.peerPort);
      this.flows[this.flowNext++ & 511] = flow;
    }
    this.flowByTuple.set(flow.peer * 65536 + flow.peerPort, flow);
  }

  private peer(): number {
    const rng = this.rng;
    if (rng.chance(0.05)) return rng.u32();
    return (PEER_BASE + rng.below(PEERS)) >>> 0;
  }

  private port(): number {
    return 1024 + this.rng.below(PORTS_PER_PEER);
  }

  /** Writes the next frame into `this.frame`; returns its length. */
  next(): number {
    const len = this.generate();
    if (this.skip.has('tiny-mss')) avoidTinyMss(this.frame, len, this.skip);
    return len;
  }

  private generate(): number {
    const rng = this.rng;
    const roll = rng.below(100);
    if (roll < 30 && this.flows.length > 0) return this.followUp();
    if (roll < 40) return this.craftedSyn();
    if (roll < 43) return randomFrame(this.rng, this.frame);
    return this.mutatedSeed();
  }

  private craftedSyn(): number {
    const rng = this.rng;
    const spec = this.spec.reset();
    spec.srcAddr = this.peer();
    spec.dstAddr = rng.chance(0.97) ? FUZZ_HOST : rng.u32();
    spec.srcPort = this.port();
    spec.dstPort = rng.chance(0.9) ? 80 : rng.chance(0.5) ? 8080 : rng.below(65536);
    spec.seq = rng.u32();
    spec.flags = TcpFlag.SYN | (rng.chance(0.05) ? rng.below(256) : 0);
    spec.window = rng.below(65536);
    spec.mss = rng.chance(0.8) ? [1460, 536, 1, 65535, 88][rng.below(5)]! : 0;
    spec.sackPermitted = rng.chance(0.6);
    spec.hasTimestamps = rng.chance(0.6);
    spec.tsVal = rng.chance(0.5) ? (this.now + 1000) >>> 0 : rng.u32();
    spec.windowScale = rng.chance(0.6) ? rng.below(16) : -1;
    const len = writeTcpSegment(this.frame, 0, spec);
    if (rng.chance(0.1)) return mutateFrame(this.rng, this.frame, len);
    return len;
  }

  private followUp(): number {
    const rng = this.rng;
    // Mostly one of the newest flows (their requests are still alive), sometimes any.
    const n = this.flows.length;
    const newest = n < 512 ? n - 1 : (this.flowNext - 1) & 511;
    const flow = rng.chance(0.7) ? this.flows[(newest - rng.below(Math.min(n, 32)) + 512) % 512 % n]! : this.flows[rng.below(n)]!;
    const spec = this.spec.reset();
    spec.srcAddr = flow.peer;
    spec.dstAddr = FUZZ_HOST;
    spec.srcPort = flow.peerPort;
    spec.dstPort = flow.localPort;
    spec.seq = rng.chance(0.85) ? flow.seq : (flow.seq + rng.below(200000) - 100000) >>> 0;
    spec.ack = rng.chance(0.85) ? flow.ack : rng.u32();
    spec.window = rng.chance(0.9) ? 502 : rng.below(65536);
    spec.hasTimestamps = flow.timestamps ? rng.chance(0.9) : rng.chance(0.1);
    if (rng.chance(0.9)) flow.peerTs = (flow.peerTs + rng.below(50)) >>> 0;
    spec.tsVal = rng.chance(0.95) ? flow.peerTs : rng.u32();
    spec.tsEcr = flow.hostTs;
    const kind = flow.hostFin === true && rng.chance(0.6) ? 5 : rng.below(10);
    spec.flags = TcpFlag.ACK;
    if (kind < 3) {
      this.handshakes++;
    } else if (kind < 5) {
      spec.flags |= TcpFlag.PSH;
      if (rng.chance(0.5)) {
        spec.payload = HTTP_GET;
        spec.payloadLength = HTTP_GET.length;
      } else {
        const n = 1 + rng.below(1400);
        const data = new Uint8Array(n);
        for (let i = 0; i < n; i += 4) put32(data, i & ~3, rng.u32());
        spec.payload = data;
        spec.payloadLength = n;
      }
      flow.seq = (flow.seq + spec.payloadLength) >>> 0;
    } else if (kind < 7) {
      spec.flags |= TcpFlag.FIN;
      flow.seq = (flow.seq + 1) >>> 0;
    } else if (kind < 8) {
      spec.flags = rng.chance(0.5) ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK;
    } else if (kind < 9) {
      // The client retransmits its SYN, or reuses the 4-tuple with a new one.
      spec.flags = TcpFlag.SYN;
      spec.seq = rng.chance(0.5) ? (flow.seq - 1) >>> 0 : rng.u32();
      spec.mss = 1460;
    } else {
      spec.flags = rng.below(256);
    }
    const len = writeTcpSegment(this.frame, 0, spec);
    if (rng.chance(0.05)) return mutateFrame(this.rng, this.frame, len);
    return len;
  }

  private mutatedSeed(): number {
    const rng = this.rng;
    const seed = this.seeds[rng.below(this.seeds.length)]!.bytes;
    const f = this.frame;
    f.set(seed, 0);
    let len = seed.length;
    // Aim it at the host from one of our peers, mostly at the listener.
    if (rng.chance(0.9)) {
      put32(f, 16, rng.chance(0.95) ? FUZZ_HOST : rng.u32());
      put32(f, 12, this.peer());
      const ihl = (f[0]! & 0x0f) * 4;
      if (f[9] === 6 && len >= ihl + 4) {
        put16(f, ihl, this.port());
        if (rng.chance(0.85)) put16(f, ihl + 2, rng.chance(0.8) ? 80 : 8080);
      }
    }
    repairChecksums(f, len, true, true);
    len = mutateFrame(this.rng, this.frame, len);
    return len;
  }

  /** The virtual clock: mostly a few ms per frame, sometimes seconds or minutes, rarely back. */
  advanceClock(): void {
    const rng = this.rng;
    const r = rng.below(10_000);
    if (r < 9978) this.now += rng.below(5);
    else if (r < 9998) this.now += rng.below(3000);
    else this.now += rng.below(130_000);
  }

  get frameBytes(): Uint8Array {
    return this.frame;
  }
}

// `make fuzz`: a mutation fuzzer of the whole packet path, in process. Seeded with real frames
// captured from Linux (the same bytes as test/fixtures/captures.ts), it rewrites them towards the
// emulated host from a few hundred peers, mutates them (bit flips, interesting bytes, header
// fields, truncation, extension, checksums repaired or not), answers the host's SYN-ACKs with
// handshake ACKs, data, FINs and RSTs so the deep states are reached, and jumps the virtual clock
// so every timer fires. After every frame it checks the invariants that must hold whatever
// arrives: no exception, every frame accounted for once, queues within their limits, every frame
// the host sends well formed. Everything is derived from --seed: a crash replays exactly.
//
//   node dist/tools/fuzz.js [--frames 10000000] [--seconds 600] [--seed 1] [--crash-dir DIR] [--json]
//
// Exit 0: no crash; 1: a crash or a broken invariant (its bytes written to --crash-dir); 2: usage.

import { AcceptLoop } from '../app/accept-loop.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { createApp } from '../app/handlers.js';
import type { Profile } from '../profiles/profile.js';
import { Sysctls } from '../profiles/sysctl.js';
import { PROFILES } from '../profiles/table.js';
import { Host } from '../stack/host.js';
import { Counter } from '../stack/mib.js';
import { TxRing } from '../stack/tx.js';
import { VERDICTS } from '../stack/verdict.js';
import { parseIpv4 } from '../wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../wire/builder.js';
import { TcpFlag } from '../wire/tcp.js';
import { TcpOptions } from '../wire/tcp-options.js';
import { bytesToHex, fold, get32, hexToBytes, put16, put32, repairChecksums, Rng, SEED_CORPUS } from './fuzz/corpus.js';
import { checkHostInvariants, checkReply, INVARIANT_KEYS, rejectionsByReason, type SkipCounts } from './fuzz/invariants.js';

// The tests import these from here.
export { checkHostInvariants, checkReply, repairChecksums, SEED_CORPUS };

export const FUZZ_HOST = parseIpv4('10.77.0.2');
const PEER_BASE = parseIpv4('10.77.128.0');
const PEERS = 256;
const PORTS_PER_PEER = 64;
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x3f, 0x10, 0x0f, 0x05, 0x06, 0x14, 0x45];
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

export interface FuzzOptions {
  frames: number;
  /** Time budget: stop after this many wall-clock seconds even if frames remain. */
  seconds: number;
  seed: number;
  /** Where crash files go; none written when null. */
  crashDir: string | null;
  /** Frames per host before a fresh host (next profile, backlog, sysctls) takes over. */
  framesPerHost?: number;
  /** Run checkHostInvariants every this many frames (1 = every frame). */
  checkEvery?: number;
  /** Invariants (INVARIANT_KEYS) not to stop on: known open bugs; their violations are counted. */
  skip?: readonly string[];
  /** Called about once a second with frames done so far. */
  progress?: (frames: number, seconds: number) => void;
  /** Where to publish progress for a hang watchdog (the CLI runs the fuzzer in a worker). */
  probe?: FuzzProbe;
}

export interface FuzzCrash {
  frame: number;
  profile: string;
  message: string;
  stack: string;
  bytesHex: string;
  file: string | null;
}

export interface FuzzReport {
  frames: number;
  seconds: number;
  framesPerSec: number;
  seed: number;
  hosts: number;
  profiles: string[];
  crashes: number;
  crash: FuzzCrash | null;
  accepted: number;
  rejectedByReason: Record<string, number>;
  verdicts: Record<string, number>;
  repliesChecked: number;
  handshakes: number;
  maxRequestSocks: number;
  maxConnections: number;
  /** Violations of skipped invariants, by key. */
  skipped: Record<string, number>;
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
    if (this.skip.has('tiny-mss')) this.avoidTinyMss(len);
    return len;
  }

  private generate(): number {
    const rng = this.rng;
    const roll = rng.below(100);
    if (roll < 30 && this.flows.length > 0) return this.followUp();
    if (roll < 40) return this.craftedSyn();
    if (roll < 43) return this.randomBytes();
    return this.mutatedSeed();
  }

  /**
   * Workaround while the tiny-MSS hang is open (regressions.test.ts): an MSS option below 64
   * becomes 536, the TCP checksum updated incrementally (RFC 1624) so a frame that was valid
   * stays valid and one that was not stays not. Counted in `skipped['tiny-mss']`.
   */
  private avoidTinyMss(len: number): void {
    const f = this.frame;
    if (len < 40 || f[9] !== 6) return;
    const ihl = (f[0]! & 0x0f) * 4;
    if (ihl < 20 || ihl + 20 > len) return;
    const end = Math.min(len, ihl + (f[ihl + 12]! >> 4) * 4);
    let i = ihl + 20;
    while (i < end) {
      const kind = f[i]!;
      if (kind === 0) break;
      if (kind === 1) {
        i++;
        continue;
      }
      if (i + 1 >= end) return;
      const length = f[i + 1]!;
      if (length < 2) return;
      if (kind === 2 && length === 4 && i + 4 <= end) {
        const old = (f[i + 2]! << 8) | f[i + 3]!;
        if (old < 64 && (i - ihl) % 2 === 0) {
          put16(f, i + 2, 536);
          const sum = (~((f[ihl + 16]! << 8) | f[ihl + 17]!) & 0xffff) + (~old & 0xffff) + 536;
          put16(f, ihl + 16, fold(sum));
          this.skip.set('tiny-mss', this.skip.get('tiny-mss')! + 1);
        }
      }
      i += length;
    }
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
    if (rng.chance(0.1)) return this.mutate(len);
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
    if (rng.chance(0.05)) return this.mutate(len);
    return len;
  }

  private randomBytes(): number {
    const rng = this.rng;
    const len = rng.below(rng.chance(0.5) ? 64 : 1600);
    for (let i = 0; i < len; i++) this.frame[i] = rng.below(256);
    if (len > 0 && rng.chance(0.5)) this.frame[0] = 0x40 | (this.frame[0]! & 0x0f);
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
    len = this.mutate(len);
    return len;
  }

  /** 0–4 mutations, then the checksums repaired with some probability so mutations go deep. */
  private mutate(len: number): number {
    const rng = this.rng;
    const f = this.frame;
    const n = rng.below(5);
    for (let k = 0; k < n; k++) {
      const ihl = len > 0 ? (f[0]! & 0x0f) * 4 : 0;
      switch (rng.below(12)) {
        case 0: // bit flip
          if (len > 0) f[rng.below(len)]! ^= 1 << rng.below(8);
          break;
        case 1: // interesting byte
          if (len > 0) f[rng.below(len)] = INTERESTING[rng.below(INTERESTING.length)]!;
          break;
        case 2: // random byte
          if (len > 0) f[rng.below(len)] = rng.below(256);
          break;
        case 3: // truncate
          len = rng.below(len + 1);
          break;
        case 4: // extend with junk (the total length may or may not follow)
          {
            const extra = 1 + rng.below(rng.chance(0.9) ? 40 : 1500);
            const to = Math.min(f.length, len + extra);
            for (let i = len; i < to; i++) f[i] = rng.below(256);
            len = to;
            if (rng.chance(0.5) && len >= 4) put16(f, 2, len);
          }
          break;
        case 5: // IHL
          if (len > 0) f[0] = (f[0]! & 0xf0) | rng.below(16);
          break;
        case 6: // total length
          if (len >= 4) put16(f, 2, rng.chance(0.5) ? len + rng.below(9) - 4 : rng.below(65536));
          break;
        case 7: // fragment bits
          if (len >= 8) put16(f, 6, rng.chance(0.5) ? 0x4000 : rng.below(65536));
          break;
        case 8: // TCP data offset
          if (len > ihl + 12 && ihl >= 20) f[ihl + 12] = (rng.below(16) << 4) | (f[ihl + 12]! & 0x0f);
          break;
        case 9: // TCP flags
          if (len > ihl + 13 && ihl >= 20) f[ihl + 13] = rng.below(256);
          break;
        case 10: // option bytes: kinds and lengths
          if (len > ihl + 20 && ihl >= 20) {
            const at = ihl + 20 + rng.below(Math.max(1, len - ihl - 20));
            f[at] = rng.chance(0.5) ? [0, 1, 2, 3, 4, 5, 8, 254, 255][rng.below(9)]! : rng.below(256);
          }
          break;
        default: // protocol
          if (len >= 10) f[9] = rng.chance(0.7) ? [1, 6, 17, 0, 255][rng.below(5)]! : rng.below(256);
          break;
      }
    }
    const repair = rng.below(10);
    if (repair < 7) repairChecksums(f, len, true, repair < 6);
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

/** Runs the fuzzer. Never throws: a crash is returned in the report (and written to crashDir). */
export function runFuzz(options: FuzzOptions): FuzzReport {
  const probe = options.probe;
  const fuzzer = new Fuzzer(options.seed, options.skip, probe?.frame);
  const skip = fuzzer.skip;
  const rng = fuzzer.rng;
  const framesPerHost = options.framesPerHost ?? 50_000;
  const checkEvery = options.checkEvery ?? 1;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const accepted = { n: 0 };
  const rejected: Record<string, number> = {};
  const verdicts = new Float64Array(VERDICTS.length);
  const profiles = new Set<string>();
  let hosts = 0;
  let crash: FuzzCrash | null = null;
  let frames = 0;
  let maxRequestSocks = 0;
  let maxConnections = 0;
  let lastProgress = started;
  let host: Host | null = null;
  let profileIndex = rng.below(PROFILES.length);

  const retire = (h: Host): void => {
    accepted.n += h.counters[Counter.RxAccepted]!;
    const byReason = rejectionsByReason(h.counters);
    for (const [k, v] of Object.entries(byReason)) rejected[k] = (rejected[k] ?? 0) + v;
    for (let i = 0; i < verdicts.length; i++) verdicts[i]! += h.verdictCounts[i]!;
  };

  let len = 0;
  try {
    while (frames < options.frames) {
      if (host === null || frames % framesPerHost === 0) {
        if (host !== null) {
          checkHostInvariants(host, skip);
          retire(host);
        }
        const profile = PROFILES[profileIndex++ % PROFILES.length]!;
        profiles.add(profile.name);
        host = fuzzer.newHost(profile);
        hosts++;
      }
      if ((frames & 1023) === 0) {
        const t = performance.now();
        if (t > deadline) break;
        if (options.progress && t - lastProgress > 1000) {
          lastProgress = t;
          options.progress(frames, (t - started) / 1000);
        }
        if (host.requests.live > maxRequestSocks) maxRequestSocks = host.requests.live;
        if (host.connections.size > maxConnections) maxConnections = host.connections.size;
        // Live sysctl changes, as `syndrop sysctl` makes them.
        if (rng.chance(0.05)) host.sysctls.set(`net.ipv4.tcp_syncookies=${rng.below(3)}`);
        if (rng.chance(0.02)) {
          const policy = fuzzer.acceptLoop.policy(0);
          policy.paused = !policy.paused;
        }
      }
      fuzzer.advanceClock();
      len = fuzzer.next();
      const off = 0;
      if (probe !== undefined) {
        probe.state[1] = 1;
        probe.state[2] = len;
        probe.state[3] = fuzzer.now | 0;
      }
      host.tick(fuzzer.now);
      fuzzer.drainTx(host.tx);
      if (probe !== undefined) probe.state[1] = 2;
      host.receive(fuzzer.frameBytes, off, len, fuzzer.now);
      fuzzer.drainTx(host.tx);
      frames++;
      if (probe !== undefined) Atomics.store(probe.state, 0, frames);
      if (frames % checkEvery === 0) checkHostInvariants(host, skip);
    }
    if (host !== null) {
      checkHostInvariants(host, skip);
      retire(host);
    }
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    const bytes = fuzzer.frameBytes.slice(0, len);
    let file: string | null = null;
    if (options.crashDir !== null) {
      mkdirSync(options.crashDir, { recursive: true });
      file = join(options.crashDir, `crash-seed${options.seed}-frame${frames}.bin`);
      writeFileSync(file, bytes);
      writeFileSync(
        `${file.replace(/\.bin$/, '')}.json`,
        `${JSON.stringify({ seed: options.seed, frame: frames, framesPerHost, profile: host?.profile.name, now: fuzzer.now, message: err.message, stack: err.stack, bytesHex: bytesToHex(bytes), replay: `node dist/tools/fuzz.js --seed ${options.seed} --frames ${frames + 1}` }, null, 2)}\n`,
      );
    }
    crash = { frame: frames, profile: host?.profile.name ?? '?', message: err.message, stack: err.stack ?? '', bytesHex: bytesToHex(bytes), file };
    if (host !== null) retire(host);
  }
  const seconds = (performance.now() - started) / 1000;
  const verdictRecord: Record<string, number> = {};
  VERDICTS.forEach((v, i) => {
    if (verdicts[i]! > 0) verdictRecord[v.name] = verdicts[i]!;
  });
  return {
    frames,
    seconds: Math.round(seconds * 1000) / 1000,
    framesPerSec: Math.round(frames / Math.max(seconds, 1e-9)),
    seed: options.seed,
    hosts,
    profiles: [...profiles],
    crashes: crash === null ? 0 : 1,
    crash,
    accepted: accepted.n,
    rejectedByReason: rejected,
    verdicts: verdictRecord,
    repliesChecked: fuzzer.repliesChecked,
    handshakes: fuzzer.handshakes,
    maxRequestSocks,
    maxConnections,
    skipped: Object.fromEntries(skip),
  };
}

function parseArgs(argv: string[]) {
  const options = { frames: 10_000_000, seconds: 600, seed: 1, crashDir: resolve('fuzz-crashes') as string | null, json: false, checkEvery: 1, skip: [] as string[], hangSeconds: 10 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const count = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`${arg} ${v}: expected a whole number`);
      return Number(v);
    };
    switch (arg) {
      case '--frames':
        options.frames = count();
        break;
      case '--seconds':
        options.seconds = count();
        break;
      case '--seed':
        options.seed = count();
        break;
      case '--check-every':
        options.checkEvery = Math.max(1, count());
        break;
      case '--hang-seconds':
        options.hangSeconds = Math.max(1, count());
        break;
      case '--crash-dir':
        options.crashDir = resolve(value());
        break;
      case '--skip': {
        const key = value();
        if (!(INVARIANT_KEYS as readonly string[]).includes(key)) throw new UsageError(`--skip ${key}: one of ${INVARIANT_KEYS.join(', ')}`);
        options.skip.push(key);
        break;
      }
      case '--json':
        options.json = true;
        break;
      case '-h':
      case '--help':
        process.stdout.write('usage: fuzz [--frames N=10000000] [--seconds S=600] [--seed N=1] [--check-every N=1] [--hang-seconds S=10] [--crash-dir DIR=./fuzz-crashes] [--skip INVARIANT]... [--json]\n');
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  return options;
}

class UsageError extends Error {}

export function formatReport(r: FuzzReport): string {
  const lines = [
    `fuzz: ${r.frames.toLocaleString('en')} frames in ${r.seconds} s = ${r.framesPerSec.toLocaleString('en')} frames/s (seed ${r.seed}, ${r.hosts} hosts over ${r.profiles.length} profiles)`,
    `fuzz: crashes ${r.crashes}; accepted ${r.accepted.toLocaleString('en')}; replies checked ${r.repliesChecked.toLocaleString('en')}; max request socks ${r.maxRequestSocks}; max connections ${r.maxConnections}`,
    'fuzz: rejected by reason:',
    ...Object.entries(r.rejectedByReason)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `  ${k.padEnd(18)} ${v.toLocaleString('en')}`),
    ...(Object.keys(r.skipped).length > 0 ? [`fuzz: skipped invariants (known bugs), violations: ${JSON.stringify(r.skipped)}`] : []),
    `fuzz: verdicts reached: ${Object.keys(r.verdicts).length} of ${VERDICTS.length}`,
  ];
  if (r.crash !== null) {
    lines.push(`fuzz: CRASH at frame ${r.crash.frame} (${r.crash.profile}): ${r.crash.message}`, `fuzz: bytes ${r.crash.bytesHex}`);
    if (r.crash.file) lines.push(`fuzz: written to ${r.crash.file}`);
    lines.push(r.crash.stack);
  }
  return `${lines.join('\n')}\n`;
}

/** The CLI: the fuzzer runs in a worker so a frame that never returns (an infinite loop in the
 *  stack) is caught by this thread's watchdog and reported like a crash, with its bytes. */
async function main(): Promise<number> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fuzz: ${(error as Error).message}\n`);
    return 2;
  }
  const state = new Int32Array(new SharedArrayBuffer(16));
  const frameBuffer = new SharedArrayBuffer(FRAME_ROOM);
  const { Worker } = await import('node:worker_threads');
  const { json, hangSeconds, ...fuzzOptions } = options;
  const worker = new Worker(new URL(import.meta.url), { workerData: { fuzz: fuzzOptions, state, frameBuffer } });
  const started = performance.now();
  const report = await new Promise<FuzzReport>((resolveReport, rejectReport) => {
    let lastFrames = -1;
    let lastChange = performance.now();
    const watchdog = setInterval(() => {
      const frames = Atomics.load(state, 0);
      const t = performance.now();
      if (frames !== lastFrames) {
        lastFrames = frames;
        lastChange = t;
        if (!json) process.stderr.write(`\rfuzz: ${frames.toLocaleString('en')} frames, ${Math.round(frames / ((t - started) / 1000)).toLocaleString('en')}/s   `);
        return;
      }
      if (t - lastChange < hangSeconds * 1000) return;
      clearInterval(watchdog);
      const len = state[2]!;
      const bytes = new Uint8Array(frameBuffer).slice(0, len);
      const phase = state[1] === 1 ? 'host.tick' : 'host.receive';
      const message = `hang: frame ${frames} did not return from ${phase} within ${hangSeconds} s (virtual clock ${state[3]} ms)`;
      let file: string | null = null;
      if (fuzzOptions.crashDir !== null) {
        mkdirSync(fuzzOptions.crashDir, { recursive: true });
        file = join(fuzzOptions.crashDir, `hang-seed${fuzzOptions.seed}-frame${frames}.bin`);
        writeFileSync(file, bytes);
        writeFileSync(
          `${file.replace(/\.bin$/, '')}.json`,
          `${JSON.stringify({ seed: fuzzOptions.seed, frame: frames, phase, now: state[3], message, bytesHex: bytesToHex(bytes), replay: `node dist/tools/fuzz.js --seed ${fuzzOptions.seed} --frames ${frames + 1}` }, null, 2)}\n`,
        );
      }
      void worker.terminate();
      const seconds = (t - started) / 1000;
      resolveReport({
        frames,
        seconds: Math.round(seconds * 1000) / 1000,
        framesPerSec: Math.round(frames / seconds),
        seed: fuzzOptions.seed,
        hosts: 0,
        profiles: [],
        crashes: 1,
        crash: { frame: frames, profile: '?', message, stack: '', bytesHex: bytesToHex(bytes), file },
        accepted: 0,
        rejectedByReason: {},
        verdicts: {},
        repliesChecked: 0,
        handshakes: 0,
        maxRequestSocks: 0,
        maxConnections: 0,
        skipped: {},
      });
    }, 500);
    worker.once('message', (message: FuzzReport) => {
      clearInterval(watchdog);
      resolveReport(message);
    });
    worker.once('error', (error) => {
      clearInterval(watchdog);
      rejectReport(error);
    });
  });
  if (!json) process.stderr.write('\n');
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return report.crashes === 0 ? 0 : 1;
}

const { isMainThread, parentPort, workerData } = await import('node:worker_threads');
if (!isMainThread && workerData?.fuzz !== undefined) {
  const data = workerData as { fuzz: FuzzOptions; state: Int32Array; frameBuffer: SharedArrayBuffer };
  const report = runFuzz({ ...data.fuzz, probe: { state: data.state, frame: new Uint8Array(data.frameBuffer) } });
  parentPort!.postMessage(report);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}

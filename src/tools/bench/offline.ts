// `make bench` section "offline" (issue 17's speed targets): replay ≥ 1 M client segments/s
// and simulate ≥ 2 M simulated SYNs/s per core, measured on one thread (this process).
//
// Replay reads a capture generated here, in the temporary directory, and removed after (a big
// capture is never committed): CONNECTIONS client connections, each SYN → SYN-ACK → ACK → RST
// from the client (3 client segments, 1 server segment; the RST frees the connection, so the
// stack's state stays small), plus a spoofed SYN per 4 connections, in raw-IPv4 pcap at 100 k
// connections per second of capture time. The floor: the same client segments fed straight to
// the emulated host (prebuilt frames, no reader, no bookkeeping), i.e. what src/stack/ and the
// OfflineHost driving it cost; "the stack is N % of the time" is replay's rate over the floor's,
// and everything above the floor is replay's own overhead.
//
// Simulate runs a flood-heavy workload: spoofed SYNs (never answered) plus legitimate clients,
// tcp_syncookies=1 and a large backlog, for `seconds` of virtual time.

import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CapturedSegment, SegmentLoad } from '../../replay/captured-segment.js';
import { OfflineHost } from '../../replay/offline-host.js';
import { runReplay } from '../../replay/replay.js';
import { FrameTemplate } from '../../simulate/frame-template.js';
import { runSimulation } from '../../simulate/simulate.js';
import type { ConnectionHandler } from '../../stack/conn.js';
import { parseIpv4 } from '../../wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../../wire/builder.js';
import { TcpFlag } from '../../wire/tcp.js';
import { benchGrid, gridLine, type GridBenchResult } from './offline-grid.js';

const SERVER = parseIpv4('10.77.0.2');
const PORT = 80;
const CLIENT_BASE = parseIpv4('10.1.0.0');
const SPOOF_BASE = parseIpv4('100.64.0.0');
const LINKTYPE_RAW = 101;
const REAL_TS_VAL = 12345;
/** Capture time between connections: 100 k connections per second. */
const GAP_MICROS = 10;
/** Queues never the limit: the bench measures the path, not an overflow (as the in-process section). */
/** Simulate's flood: cookies on, requests gone after their first SYN-ACK timeout. */
const SIMULATE_SYSCTLS = ['net.ipv4.tcp_syncookies=1', 'net.ipv4.tcp_synack_retries=0'];
const SYSCTLS = ['net.ipv4.tcp_syncookies=1', 'net.core.somaxconn=2147483647', 'net.ipv4.tcp_max_syn_backlog=2147483647'];

export interface OfflineBenchResult {
  replay: { clientSegments: number; seconds: number; perSec: number; floorPerSec: number; stackFraction: number; target: number; ok: boolean };
  simulate: { syns: number; virtualSeconds: number; seconds: number; perSec: number; floorPerSec: number; stackFraction: number; target: number; ok: boolean };
  /** A simulate grid with --jobs 1 vs --jobs 2 (worker threads), offline-grid.ts. */
  grid: GridBenchResult;
}

/** One capture record: raw IPv4 pcap, µs timestamps. */
class PcapFile {
  readonly #fd: number;
  readonly #buf = new Uint8Array(1 << 20);
  readonly #view = new DataView(this.#buf.buffer);
  #at = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
    const header = new DataView(new ArrayBuffer(24));
    header.setUint32(0, 0xa1b2c3d4, true);
    header.setUint16(4, 2, true);
    header.setUint16(6, 4, true);
    header.setUint32(16, 65535, true);
    header.setUint32(20, LINKTYPE_RAW, true);
    writeSync(this.#fd, new Uint8Array(header.buffer));
  }

  write(frame: Uint8Array, length: number, micros: number): void {
    if (this.#at + 16 + length > this.#buf.length) this.flush();
    const v = this.#view;
    v.setUint32(this.#at, Math.floor(micros / 1e6), true);
    v.setUint32(this.#at + 4, micros % 1e6, true);
    v.setUint32(this.#at + 8, length, true);
    v.setUint32(this.#at + 12, length, true);
    this.#buf.set(frame.subarray(0, length), this.#at + 16);
    this.#at += 16 + length;
  }

  flush(): void {
    writeSync(this.#fd, this.#buf, 0, this.#at);
    this.#at = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/** Writes the replay workload to `path`; returns how many client segments it holds. */
export function writeReplayCapture(path: string, connections: number): number {
  const file = new PcapFile(path);
  const spec = new SegmentSpec();
  const frame = new Uint8Array(128);
  const t0 = 1_700_000_000_000_000;
  let clientSegments = 0;
  const segment = (src: number, sport: number, dst: number, dport: number, flags: number, seq: number, ack: number, micros: number) => {
    spec.reset();
    spec.srcAddr = src;
    spec.srcPort = sport;
    spec.dstAddr = dst;
    spec.dstPort = dport;
    spec.flags = flags;
    spec.seq = seq;
    spec.ack = ack;
    spec.window = 64240;
    if ((flags & TcpFlag.SYN) !== 0) spec.mss = 1460;
    spec.hasTimestamps = true;
    // The real server's TSval is REAL_TS_VAL; the client echoes it after the SYN-ACK.
    spec.tsVal = dst === SERVER ? Math.floor(micros / 1000) >>> 0 : REAL_TS_VAL;
    spec.tsEcr = dst === SERVER ? ((flags & TcpFlag.SYN) !== 0 ? 0 : REAL_TS_VAL) : Math.floor(micros / 1000) >>> 0;
    file.write(frame, writeTcpSegment(frame, 0, spec), micros);
    if (dst === SERVER) clientSegments++;
  };
  for (let i = 0; i < connections; i++) {
    const at = t0 + i * GAP_MICROS;
    const client = CLIENT_BASE + 1 + (i >>> 14);
    const port = 10_000 + (i & 0x3fff);
    const isn = (i * 2654435761) >>> 0;
    const serverIsn = (isn ^ 0x5a5a5a5a) >>> 0;
    segment(client, port, SERVER, PORT, TcpFlag.SYN, isn, 0, at);
    segment(SERVER, PORT, client, port, TcpFlag.SYN | TcpFlag.ACK, serverIsn, (isn + 1) >>> 0, at + 1);
    segment(client, port, SERVER, PORT, TcpFlag.ACK, (isn + 1) >>> 0, (serverIsn + 1) >>> 0, at + 2);
    segment(client, port, SERVER, PORT, TcpFlag.RST | TcpFlag.ACK, (isn + 1) >>> 0, (serverIsn + 1) >>> 0, at + 3);
    if ((i & 3) === 0) {
      // A spoofed SYN: the real server answered into the void (a half-open request).
      segment(SPOOF_BASE + (i >>> 2), 1024 + (i & 0xffff), SERVER, PORT, TcpFlag.SYN, isn, 0, at + 4);
      segment(SERVER, PORT, SPOOF_BASE + (i >>> 2), 1024 + (i & 0xffff), TcpFlag.SYN | TcpFlag.ACK, serverIsn, (isn + 1) >>> 0, at + 5);
    }
  }
  file.close();
  return clientSegments;
}

/** The emulated SYN-ACK's ISN and TSval as each is sent, for the client's ACK (what replay's translation does). */
function followSynAcks(offline: OfflineHost): { isn: number; tsVal: number } {
  const reply = new CapturedSegment();
  const last = { isn: 0, tsVal: 0 };
  offline.observe(
    (tx, i) => {
      if (reply.load(tx.slab, tx.offsets[i]!, tx.lengths[i]!) === SegmentLoad.TCP && (reply.flags & TcpFlag.SYN) !== 0) {
        last.isn = reply.seq;
        last.tsVal = reply.tsVal;
      }
    },
    () => {},
  );
  return last;
}

/**
 * The stack's own cost: the same client segments into an OfflineHost (prebuilt shapes patched
 * per segment, as simulate does), without the reader, the tracks or the series.
 */
export function stackFloor(connections: number): { segments: number; seconds: number } {
  const offline = new OfflineHost({ kernel: '6.x', sysctls: SYSCTLS, address: SERVER, port: PORT, backlog: 1 << 20, acceptRate: Infinity, app: null, seed: 1 });
  const shape = (flags: number): FrameTemplate => {
    const spec = new SegmentSpec();
    spec.dstAddr = SERVER;
    spec.dstPort = PORT;
    spec.flags = flags;
    spec.window = 64240;
    if ((flags & TcpFlag.SYN) !== 0) spec.mss = 1460;
    spec.hasTimestamps = true;
    return new FrameTemplate(spec);
  };
  const syn = shape(TcpFlag.SYN);
  const ack = shape(TcpFlag.ACK);
  const rst = shape(TcpFlag.RST | TcpFlag.ACK);
  const synAck = followSynAcks(offline);
  let segments = 0;
  const feed = (template: FrameTemplate, src: number, sport: number, seq: number, ackNumber: number, now: number, tsEcr: number) => {
    offline.receive(template.frame, 0, template.write(src, sport, seq, ackNumber, now, tsEcr), now);
    segments++;
  };
  const start = performance.now();
  for (let i = 0; i < connections; i++) {
    const now = Math.floor((i * GAP_MICROS) / 1000);
    const client = CLIENT_BASE + 1 + (i >>> 14);
    const port = 10_000 + (i & 0x3fff);
    const isn = (i * 2654435761) >>> 0;
    feed(syn, client, port, isn, 0, now, 0);
    feed(ack, client, port, (isn + 1) >>> 0, (synAck.isn + 1) >>> 0, now, synAck.tsVal);
    feed(rst, client, port, (isn + 1) >>> 0, (synAck.isn + 1) >>> 0, now, synAck.tsVal);
    if ((i & 3) === 0) feed(syn, SPOOF_BASE + (i >>> 2), 1024 + (i & 0xffff), isn, 0, now, 0);
  }
  return { segments, seconds: (performance.now() - start) / 1000 };
}

function benchReplay(connections: number): OfflineBenchResult['replay'] {
  const dir = mkdtempSync(join(tmpdir(), 'syndrop-bench-replay-'));
  try {
    const capture = join(dir, 'replay.pcap');
    const clientSegments = writeReplayCapture(capture, connections);
    const options = { capturePath: capture, server: { address: SERVER, port: PORT }, kernel: '6.x', sysctls: SYSCTLS, backlog: 1 << 20, acceptRate: Infinity, app: null, seed: 1, outPath: null, bucketMs: 1000 };
    runReplay(options); // warm-up (the JIT), the same file
    const start = performance.now();
    const result = runReplay(options);
    const seconds = (performance.now() - start) / 1000;
    if (result.input.clientSegments !== clientSegments) throw new Error(`replay fed ${result.input.clientSegments} client segments of ${clientSegments}`);
    stackFloor(Math.min(connections, 50_000)); // warm-up
    const floor = stackFloor(connections);
    const perSec = clientSegments / seconds;
    const floorPerSec = floor.segments / floor.seconds;
    return { clientSegments, seconds, perSec, floorPerSec, stackFraction: perSec / floorPerSec, target: 1_000_000, ok: perSec >= 1_000_000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Simulate's floor: its mix fed straight to an OfflineHost, per virtual ms 900 spoofed SYNs and
 * 100 client SYNs each ACKed at once, no event heap, no random draws, no per-client state.
 * Returns SYNs (what simulate's rate counts; the ACKs' cost is in the time).
 */
export function simulateFloor(virtualSeconds: number): { syns: number; seconds: number } {
  // As simulate's application: accept, close with RST at once.
  const serveAndClose: ConnectionHandler = { onAccepted: (conn) => conn.abort(), onData: () => {}, onPeerClosed: () => {}, onClosed: () => {} };
  const offline = new OfflineHost({ kernel: '6.x', sysctls: SIMULATE_SYSCTLS, address: SERVER, port: PORT, backlog: 4096, acceptRate: Infinity, app: serveAndClose, seed: 1 });
  const spec = new SegmentSpec();
  spec.dstAddr = SERVER;
  spec.dstPort = PORT;
  spec.flags = TcpFlag.SYN;
  spec.window = 512;
  const spoofed = new FrameTemplate(spec);
  spec.mss = 1460;
  spec.sackPermitted = true;
  spec.windowScale = 7;
  spec.hasTimestamps = true;
  spec.window = 64240;
  const syn = new FrameTemplate(spec);
  spec.reset();
  spec.dstAddr = SERVER;
  spec.dstPort = PORT;
  spec.flags = TcpFlag.ACK;
  spec.window = 502;
  spec.hasTimestamps = true;
  const ack = new FrameTemplate(spec);
  const synAck = followSynAcks(offline);
  let syns = 0;
  let client = 0;
  const start = performance.now();
  for (let now = 0; now < virtualSeconds * 1000; now++) {
    for (let i = 0; i < 1000; i++) {
      const seq = Math.imul(syns + 1, 2654435761) >>> 0;
      syns++;
      if (i % 10 !== 0) {
        offline.receive(spoofed.frame, 0, spoofed.write(SPOOF_BASE + (syns & 0x3fffff), 1024 + (syns % 64000), seq, 0, 0, 0), now);
        continue;
      }
      const address = CLIENT_BASE + 1 + Math.floor(client / 50_000);
      const port = 10_000 + (client++ % 50_000);
      offline.receive(syn.frame, 0, syn.write(address, port, seq, 0, now, 0), now);
      offline.receive(ack.frame, 0, ack.write(address, port, (seq + 1) >>> 0, (synAck.isn + 1) >>> 0, now, synAck.tsVal), now);
    }
  }
  return { syns, seconds: (performance.now() - start) / 1000 };
}

function benchSimulate(virtualSeconds: number): OfflineBenchResult['simulate'] {
  const run = (seconds: number) =>
    runSimulation({
      kernel: '6.x',
      sysctls: SIMULATE_SYSCTLS,
      backlog: 4096,
      acceptRate: Infinity,
      seed: 1,
      bucketMs: 1000,
      synRate: 100_000,
      maxClients: Number.MAX_SAFE_INTEGER,
      arrivals: 'poisson',
      rttMinMs: 1,
      rttMaxMs: 20,
      clientKernel: '6.8',
      synRetries: 6,
      floodRate: 900_000,
      nat: null,
      durationMs: seconds * 1000,
    });
  run(1); // warm-up
  const start = performance.now();
  const result = run(virtualSeconds);
  const elapsed = (performance.now() - start) / 1000;
  const syns = result.summary.syns.legitimate + result.summary.syns.flood;
  const perSec = syns / elapsed;
  simulateFloor(1); // warm-up
  const floor = simulateFloor(virtualSeconds);
  const floorPerSec = floor.syns / floor.seconds;
  return { syns, virtualSeconds, seconds: elapsed, perSec, floorPerSec, stackFraction: perSec / floorPerSec, target: 2_000_000, ok: perSec >= 2_000_000 };
}

/** The section: measures, prints its lines through `log`, writes `out` (JSON). */
export function offlineSection(options: { quick: boolean; out: string; log: (line: string) => void }): OfflineBenchResult {
  const { log } = options;
  const connections = options.quick ? 100_000 : 1_000_000; // fewer, and the fixed costs (explain reads the whole event ring) show
  log(`offline: replay of a generated capture (${connections.toLocaleString('en-US')} connections)…`);
  const replay = benchReplay(connections);
  log(`  replay: ${Math.round(replay.perSec).toLocaleString('en-US')} client segments/s (target ≥ 1,000,000: ${replay.ok ? 'met' : 'NOT met'}); the stack alone ${Math.round(replay.floorPerSec).toLocaleString('en-US')}/s, so the stack is ${(replay.stackFraction * 100).toFixed(0)} % of replay's time`);
  const seconds = options.quick ? 1 : 5;
  log(`offline: simulate, ${seconds} s of virtual time at 1 M SYN/s (100 k/s clients, 900 k/s spoofed)…`);
  const simulate = benchSimulate(seconds);
  log(`  simulate: ${Math.round(simulate.perSec).toLocaleString('en-US')} simulated SYNs/s (target ≥ 2,000,000: ${simulate.ok ? 'met' : 'NOT met'}); the stack alone on the same mix ${Math.round(simulate.floorPerSec).toLocaleString('en-US')}/s, so the stack is ${(simulate.stackFraction * 100).toFixed(0)} % of simulate's time`);
  log('offline: a simulate grid (2 kernels × 2 backlogs) with --jobs 1 and --jobs 2, alternated…');
  const grid = benchGrid(options.quick);
  log(gridLine(grid));
  const result = { replay, simulate, grid };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify({ date: new Date().toISOString(), node: process.versions.node, ...result }, null, 2)}\n`);
  return result;
}

// Section 1 and 2 (worker side): the stack alone on a virtual clock. Frames come from a
// preallocated pool; the loop is the engine's (tick once per batch of 64, receive each frame,
// then drain the Host's tx ring by resetting it — nothing is copied). Each path is timed
// `runs` times after one untimed warm-up run, with allocation and GCs counted per run.

import { AcceptLoop } from '../../app/accept-loop.js';
import { performance } from 'node:perf_hooks';

import { resolveProfile } from '../../profiles/resolve.js';
import { Sysctls } from '../../profiles/sysctl.js';
import { Host } from '../../stack/host.js';
import { Counter } from '../../stack/mib.js';
import { SegmentSpec } from '../../wire/builder.js';
import { AllocMeter, fullGc, type AllocStats } from './alloc.js';
import { referenceNsPerUnit } from './reference.js';
import {
  DPORT,
  EMULATED,
  FRAME_STRIDE,
  SPOOF_HOSTS,
  FramePool,
  buildSynPool,
  parseSynAck,
  writeThirdAck,
  type CapturedSynAck,
} from './frames.js';

export type InProcessPath = 'queued' | 'cookie' | 'drop' | 'cookieAck';
export const IN_PROCESS_PATHS: readonly InProcessPath[] = ['queued', 'cookie', 'drop', 'cookieAck'];

export const PATH_INFO: Record<InProcessPath, { title: string; what: string; profile: string; sysctls: string[] }> = {
  queued: {
    title: 'SYN → SYN-ACK, request queued',
    what:
      'every SYN creates a request sock (pool slot, ehash entry, SYN-ACK timer) and gets a SYN-ACK; ' +
      'tcp_syncookies=1, backlog/somaxconn/tcp_max_syn_backlog = 2^31-1; pools pre-grown by the warm-up run ' +
      '(requests expired between runs via tcp_synack_retries=0)',
    profile: '6.x',
    sysctls: [
      'net.ipv4.tcp_syncookies=1',
      'net.core.somaxconn=2147483647',
      'net.ipv4.tcp_max_syn_backlog=2147483647',
      'net.ipv4.tcp_synack_retries=0',
    ],
  },
  cookie: {
    title: 'SYN → cookie SYN-ACK (tcp_syncookies=2)',
    what: 'every SYN answered statelessly with a cookie SYN-ACK (TS option carries wscale/SACK)',
    profile: '6.x',
    sysctls: ['net.ipv4.tcp_syncookies=2'],
  },
  drop: {
    title: 'SYN dropped, accept queue full',
    what: '6.x (4.10+ "full" rule): backlog 1, 2 children never accepted, every SYN is ListenOverflows+ListenDrops',
    profile: '6.x',
    sysctls: [],
  },
  cookieAck: {
    title: 'third ACK → cookie validated',
    what:
      'each ACK is parsed, its cookie checked (2 HalfSipHash) and options decoded, then a full socket is ' +
      'created (Connection object, ehash entry, metrics entry), put on the accept queue and accept()ed at once ' +
      '(no handler; connections are kept). A fresh Host per run, ACKs precomputed from captured cookie SYN-ACKs',
    profile: '6.x',
    sysctls: ['net.ipv4.tcp_syncookies=2'],
  },
};

export interface RunResult {
  count: number;
  seconds: number;
  perSec: number;
  /** SYN-ACKs the host emitted (queued/cookie), 0 on the drop path; connections made on cookieAck. */
  answered: number;
  alloc: AllocStats;
  /** The fixed reference loop's ns per unit, the faster of just before and just after this run. */
  referenceNs: number;
}

export interface PathResult {
  path: InProcessPath;
  count: number;
  runs: RunResult[];
  /** Sanity: every frame had the expected outcome in every run. */
  ok: boolean;
  note?: string;
}

const BATCH = 64;
/** Virtual time per frame, ms (100 ns: a SYN every 100 ns, no timer fires within a run). */
const FRAME_MS = 1e-4;
const SEED = 42;

function makeHost(path: InProcessPath): Host {
  const info = PATH_INFO[path];
  const profile = resolveProfile(info.profile);
  return new Host({ profile, sysctls: new Sysctls(profile, info.sysctls), address: EMULATED, seed: SEED });
}

/** The engine's loop over a pool: returns elapsed seconds. `answered` via counters. */
function pump(host: Host, pool: FramePool, t0: number): number {
  const slab = pool.slab;
  const lengths = pool.lengths;
  const n = pool.count;
  const tx = host.tx;
  const start = performance.now();
  for (let base = 0; base < n; base += BATCH) {
    const end = base + BATCH < n ? base + BATCH : n;
    // Whole milliseconds, like the engine's clock (jiffies).
    const now = t0 + Math.floor(base * FRAME_MS);
    host.tick(now);
    for (let i = base; i < end; i++) host.receive(slab, i * FRAME_STRIDE, lengths[i]!, now);
    tx.clear();
  }
  return (performance.now() - start) / 1000;
}

function timed(host: Host, pool: FramePool, t0: number, counter: number): RunResult {
  fullGc();
  const ref0 = referenceNsPerUnit();
  const before = host.counters[counter]!;
  const meter = new AllocMeter();
  meter.start();
  const seconds = pump(host, pool, t0);
  const alloc = meter.stop();
  const answered = host.counters[counter]! - before;
  const referenceNs = Math.min(ref0, referenceNsPerUnit());
  return { count: pool.count, seconds, perSec: pool.count / seconds, answered, alloc, referenceNs };
}

function runQueued(count: number, runs: number): PathResult {
  const pool = buildSynPool(count);
  const host = makeHost('queued');
  new AcceptLoop(host).listen(DPORT, 2 ** 31 - 1, { ratePerSecond: Infinity, paused: false, handler: null });
  const results: RunResult[] = [];
  let ok = true;
  let t0 = 10_000;
  for (let r = -1; r < runs; r++) {
    const result = timed(host, pool, t0, Counter.TxSynAck);
    ok &&= result.answered === count && host.listeners[0]!.qlen === count;
    if (r >= 0) results.push(result);
    // Expire every request (tcp_synack_retries=0: the first timer drops it), keep the pools.
    t0 += 10_000;
    host.tick(t0 - 1);
    host.tx.clear();
    ok &&= host.listeners[0]!.qlen === 0;
  }
  return { path: 'queued', count, runs: results, ok };
}

function runCookie(count: number, runs: number): PathResult {
  const pool = buildSynPool(count);
  const host = makeHost('cookie');
  new AcceptLoop(host).listen(DPORT, 4096, { ratePerSecond: Infinity, paused: false, handler: null });
  const results: RunResult[] = [];
  let ok = true;
  for (let r = -1; r < runs; r++) {
    const result = timed(host, pool, 10_000 + r * 1000, Counter.TxSynAck);
    ok &&= result.answered === count && host.listeners[0]!.qlen === 0;
    if (r >= 0) results.push(result);
  }
  return { path: 'cookie', count, runs: results, ok };
}

/** Two completed handshakes on a backlog-1 listener that never accepts: the accept queue is full. */
function fillAcceptQueue(host: Host): void {
  const setup = buildSynPool(2, SPOOF_HOSTS * 64000);
  const acks = new FramePool(2);
  const spec = new SegmentSpec();
  for (let i = 0; i < 2; i++) {
    host.tx.clear();
    host.receive(setup.slab, i * FRAME_STRIDE, setup.lengths[i]!, 1);
    const synAck = parseSynAck(host.tx.slab, host.tx.offsets[0]!, host.tx.lengths[0]!);
    if (synAck === null) throw new Error('drop path setup: no SYN-ACK');
    writeThirdAck(acks, i, synAck, spec);
    host.tx.clear();
    host.receive(acks.slab, i * FRAME_STRIDE, acks.lengths[i]!, 2);
    host.tx.clear();
  }
  if (!host.listeners[0]!.acceptQueueFull()) throw new Error('drop path setup: accept queue not full');
}

function runDrop(count: number, runs: number): PathResult {
  const pool = buildSynPool(count);
  const host = makeHost('drop');
  new AcceptLoop(host).listen(DPORT, 1, { ratePerSecond: 0, paused: true, handler: null });
  fillAcceptQueue(host);
  const results: RunResult[] = [];
  let ok = true;
  for (let r = -1; r < runs; r++) {
    const dropsBefore = host.counters[Counter.ListenDrops]!;
    const result = timed(host, pool, 10_000 + r * 1000, Counter.TxSynAck);
    const drops = host.counters[Counter.ListenDrops]! - dropsBefore;
    ok &&= result.answered === 0 && drops === count;
    result.answered = drops;
    if (r >= 0) results.push(result);
  }
  return { path: 'drop', count, runs: results, ok, note: 'answered = ListenDrops' };
}

/** Virtual time of the SYN pass (ms) and of the ACK pass (the cookie must still be fresh). */
const COOKIE_SYN_T0 = 20_000;
const COOKIE_ACK_T0 = 25_000;

function runCookieAck(count: number, runs: number): PathResult {
  // Capture the cookie SYN-ACKs of a seeded host once; a fresh host with the same seed and the
  // same virtual clock accepts them, so one ACK pool serves every run.
  const syns = buildSynPool(count);
  const acks = new FramePool(count);
  {
    const host = makeHost('cookieAck');
    new AcceptLoop(host).listen(DPORT, 4096, { ratePerSecond: Infinity, paused: false, handler: null });
    const tx = host.tx;
    const spec = new SegmentSpec();
    let made = 0;
    tx.onFull = (ring) => {
      for (let j = 0; j < ring.count; j++) {
        const s: CapturedSynAck | null = parseSynAck(ring.slab, ring.offsets[j]!, ring.lengths[j]!);
        if (s !== null && made < count) writeThirdAck(acks, made++, s, spec);
      }
      ring.clear();
    };
    for (let base = 0; base < count; base += BATCH) {
      const end = Math.min(count, base + BATCH);
      for (let i = base; i < end; i++) host.receive(syns.slab, i * FRAME_STRIDE, syns.lengths[i]!, COOKIE_SYN_T0);
      tx.onFull(tx);
    }
    if (made !== count) throw new Error(`cookieAck setup: ${made} SYN-ACKs for ${count} SYNs`);
  }
  const results: RunResult[] = [];
  let ok = true;
  for (let r = -1; r < runs; r++) {
    const host = makeHost('cookieAck');
    new AcceptLoop(host).listen(DPORT, 2 ** 31 - 1, { ratePerSecond: Infinity, paused: false, handler: null });
    // One cookie SYN stamps the listener's last overflow (cookies are only checked after one).
    host.receive(syns.slab, 0, syns.lengths[0]!, COOKIE_SYN_T0);
    host.tx.clear();
    const result = timed(host, acks, COOKIE_ACK_T0, Counter.CurrEstab);
    ok &&= result.answered === count;
    if (r >= 0) results.push(result);
  }
  return { path: 'cookieAck', count, runs: results, ok, note: 'answered = connections established' };
}

export function runInProcessPath(path: InProcessPath, count: number, runs: number): PathResult {
  switch (path) {
    case 'queued':
      return runQueued(count, runs);
    case 'cookie':
      return runCookie(count, runs);
    case 'drop':
      return runDrop(count, runs);
    case 'cookieAck':
      return runCookieAck(count, runs);
  }
}

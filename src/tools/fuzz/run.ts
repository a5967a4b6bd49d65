// One fuzzing run in this thread: hosts one after another over every profile, a frame at a
// time, invariants checked after each; a crash is caught, written with its replay command, and
// returned in the report. The CLI (fuzz.ts) runs this in a worker under a hang watchdog.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { PROFILES } from '../../profiles/table.js';
import type { Host } from '../../stack/host.js';
import { Counter } from '../../stack/mib.js';
import { VERDICTS } from '../../stack/verdict.js';
import { bytesToHex } from './corpus.js';
import { Fuzzer, type FuzzProbe } from './fuzzer.js';
import { checkHostInvariants, rejectionsByReason } from './invariants.js';

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

/**
 * Writes the frame that crashed (or hung) and a JSON note with the replay command; returns the
 * .bin path, or null when crash files are off.
 */
export function writeCrashFiles(
  crashDir: string | null,
  kind: 'crash' | 'hang',
  seed: number,
  frame: number,
  bytes: Uint8Array,
  details: Record<string, unknown>,
): string | null {
  if (crashDir === null) return null;
  mkdirSync(crashDir, { recursive: true });
  const file = join(crashDir, `${kind}-seed${seed}-frame${frame}.bin`);
  writeFileSync(file, bytes);
  const note = { seed, frame, ...details, bytesHex: bytesToHex(bytes), replay: `node dist/tools/fuzz.js --seed ${seed} --frames ${frame + 1}` };
  writeFileSync(`${file.replace(/\.bin$/, '')}.json`, `${JSON.stringify(note, null, 2)}\n`);
  return file;
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
    const file = writeCrashFiles(options.crashDir, 'crash', options.seed, frames, bytes, {
      framesPerHost,
      profile: host?.profile.name,
      now: fuzzer.now,
      message: err.message,
      stack: err.stack,
    });
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


// `make fuzz`: a mutation fuzzer of the whole packet path, in process. Seeded with real frames
// captured from Linux (the seed corpus in fuzz/corpus.ts), it rewrites them towards the emulated
// host from a few hundred peers, mutates them (bit flips, interesting bytes, header fields,
// truncation, extension, checksums repaired or not), answers the host's SYN-ACKs with handshake
// ACKs, data, FINs and RSTs so the deep states are reached, and jumps the virtual clock so every
// timer fires. After every frame it checks the invariants that must hold whatever arrives: no
// exception, every frame accounted for once, queues within their limits, every frame the host
// sends well formed. Everything is derived from --seed: a crash replays exactly.
//
//   node dist/tools/fuzz.js [--frames 10000000] [--seconds 600] [--seed 1] [--crash-dir DIR] [--json]
//
// Exit 0: no crash; 1: a crash or a broken invariant (its bytes written to --crash-dir); 2: usage.
//
// This file is the command line: the fuzzer (fuzz/run.ts) runs in a worker so a frame that
// never returns (an infinite loop in the stack) is caught by this thread's watchdog.

import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { bytesToHex, repairChecksums, SEED_CORPUS } from './fuzz/corpus.js';
import { FRAME_ROOM } from './fuzz/fuzzer.js';
import { checkHostInvariants, checkReply, INVARIANT_KEYS } from './fuzz/invariants.js';
import { formatReport, runFuzz, writeCrashFiles, type FuzzOptions, type FuzzReport } from './fuzz/run.js';
import { toolOptionsOrExit, type ToolOptions } from './tool-args.js';

// The tests import these from here.
export { checkHostInvariants, checkReply, repairChecksums, SEED_CORPUS, FRAME_ROOM, runFuzz, formatReport };
export { FUZZ_HOST, Fuzzer } from './fuzz/fuzzer.js';
export type { FuzzOptions, FuzzReport, FuzzCrash } from './fuzz/run.js';

const FUZZ_OPTIONS = {
  frames: { type: 'integer', default: 10_000_000, help: 'frames to send' },
  seconds: { type: 'integer', default: 600, help: 'wall-clock budget' },
  seed: { type: 'integer', default: 1, help: 'everything derives from it' },
  'check-every': { type: 'integer', default: 1, min: 1, help: 'check the host invariants every N frames' },
  'hang-seconds': { type: 'integer', default: 10, min: 1, help: 'a frame that takes longer is a hang' },
  'crash-dir': { type: 'string', default: 'fuzz-crashes', help: 'where crash and hang files go' },
  skip: { type: 'strings', choices: INVARIANT_KEYS, help: 'an invariant not to stop on (a known open bug); repeatable' },
  json: { type: 'boolean', help: 'one JSON report on stdout' },
} satisfies ToolOptions;

/** A report for a frame that never returned: the worker is gone, so the watchdog writes it. */
function hangReport(seed: number, frames: number, seconds: number, message: string, bytesHex: string, file: string | null): FuzzReport {
  return {
    frames,
    seconds: Math.round(seconds * 1000) / 1000,
    framesPerSec: Math.round(frames / seconds),
    seed,
    hosts: 0,
    profiles: [],
    crashes: 1,
    crash: { frame: frames, profile: '?', message, stack: '', bytesHex, file },
    accepted: 0,
    rejectedByReason: {},
    verdicts: {},
    repliesChecked: 0,
    handshakes: 0,
    maxRequestSocks: 0,
    maxConnections: 0,
    skipped: {},
  };
}

async function main(): Promise<number> {
  const values = toolOptionsOrExit('fuzz', FUZZ_OPTIONS, process.argv.slice(2));
  if (values === null) return process.exitCode as number;
  const json = values.json;
  const hangSeconds = values['hang-seconds'];
  const fuzzOptions: FuzzOptions = {
    frames: values.frames,
    seconds: values.seconds,
    seed: values.seed,
    crashDir: resolve(values['crash-dir']),
    checkEvery: values['check-every'],
    skip: values.skip,
  };
  const state = new Int32Array(new SharedArrayBuffer(16));
  const frameBuffer = new SharedArrayBuffer(FRAME_ROOM);
  const { Worker } = await import('node:worker_threads');
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
      const bytes = new Uint8Array(frameBuffer).slice(0, state[2]!);
      const phase = state[1] === 1 ? 'host.tick' : 'host.receive';
      const message = `hang: frame ${frames} did not return from ${phase} within ${hangSeconds} s (virtual clock ${state[3]} ms)`;
      const file = writeCrashFiles(fuzzOptions.crashDir, 'hang', fuzzOptions.seed, frames, bytes, { phase, now: state[3], message });
      void worker.terminate();
      resolveReport(hangReport(fuzzOptions.seed, frames, (t - started) / 1000, message, bytesToHex(bytes), file));
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

// Every crash, hang or broken invariant the fuzzers found, kept as a test with its bytes, plus
// the CI-size run of the mutation fuzzer (`make fuzz` runs 10 M frames; CI runs 200 k).
// Anything that could loop forever runs in a worker thread over dist/ with a deadline, so a
// regression fails the suite instead of hanging it (a synchronous loop cannot be interrupted
// by vitest's test timeout).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/handlers.js';
import { Counter } from '../../src/stack/mib.js';
import { SEED_CORPUS, FRAME_ROOM, checkHostInvariants, type FuzzOptions, type FuzzReport } from '../../src/tools/fuzz.js';
import * as captures from '../fixtures/captures.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST_FUZZ = join(ROOT, 'dist', 'tools', 'fuzz.js');
const built = existsSync(DIST_FUZZ);

/** Runs `body` (CommonJS, `root` = the package root as a file URL) in a worker; 'hang' if it does not post within ms. */
function inWorker(body: string, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(`const { parentPort, workerData } = require('node:worker_threads');\nconst root = workerData.root;\n(async () => {\n${body}\n})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`, {
      eval: true,
      workerData: { root: pathToFileURL(ROOT).href },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve('hang');
    }, ms);
    worker.once('message', (m) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('fuzz seed corpus', () => {
  it('is the real captured frames of test/fixtures/captures.ts, byte for byte', () => {
    for (const [name, hex] of Object.entries(SEED_CORPUS)) {
      expect((captures as unknown as Record<string, string>)[name], name).toBe(hex);
    }
    expect(Object.keys(SEED_CORPUS).length).toBeGreaterThanOrEqual(20);
  });
});

describe('regressions found by the fuzzers', () => {
  // Found by `fuzz --seed 1` (frame 50017, 6.1): the http app closes first, ESTABLISHED →
  // FIN_WAIT_1, and TcpCurrEstab was only decremented when the socket was removed while still
  // ESTABLISHED/CLOSE_WAIT, so every served request leaked one. Fixed in 4d84c07.
  it('TcpCurrEstab returns to 0 after the application closes first (tcp_set_state)', () => {
    const h = new StackHarness('6.1');
    h.app.listen(80, 128, { handler: createApp('http') });
    const { synAck } = h.handshake(4000);
    expect(h.host.counters[Counter.CurrEstab]).toBe(1);
    const get = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const answer = h.segment({ srcPort: 4000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, tsEcr: synAck.tsVal ?? 0, payload: get });
    // The app answered and closed: FIN_WAIT_1 is no longer counted (kernel: tcp_set_state).
    expect(answer.replies.some((r) => (r.flags & TcpFlag.FIN) !== 0)).toBe(true);
    expect(h.host.counters[Counter.CurrEstab]).toBe(0);
    checkHostInvariants(h.host);
  });

  // Found by `fuzz --seed 1` (frame 750278, hang-seed1-frame750278.bin): a SYN whose MSS option
  // is tiny (1 here; 12 too) gives the child an effective MSS of 1 − 12 (timestamps) = −11 (or 0);
  // the first write of the application then loops forever in Connection.push (length ≤ 0 never
  // advances). One remote client freezes the emulator. Linux ignores MSS 0 (tcp_parse_options)
  // and never goes below TCP_MIN_SND_MSS = 48 (tcp_mtu_to_mss); syndrop now does the same.
  const HANG_FRAME_HEX =
    '4500004f000040004006a5f20a4d801b0a4d000204050050172516b31fc9dc67801801f642c300000101080ade103cf070398fdc' +
    '474554202f20485454502f312e310d0a486f73743a20780d0a0d0a';
  for (const mss of [1, 12]) {
    it.skipIf(!built)(`a SYN with MSS option ${mss} does not hang the host when the app writes`, async () => {
      const result = await inWorker(
        `
        const { Host } = await import(root + '/dist/stack/host.js');
        const { Sysctls } = await import(root + '/dist/profiles/sysctl.js');
        const { resolveProfile } = await import(root + '/dist/profiles/resolve.js');
        const { createApp } = await import(root + '/dist/app/handlers.js');
        const { SegmentSpec, writeTcpSegment } = await import(root + '/dist/wire/builder.js');
        const profile = resolveProfile('6.x');
        const host = new Host({ profile, sysctls: new Sysctls(profile), address: 0x0a4d0002, seed: 1 });
        const { AcceptLoop } = await import(root + '/dist/app/accept-loop.js');
        new AcceptLoop(host).listen(80, 128, { handler: createApp('http') });
        const buf = new Uint8Array(2048);
        const send = (f) => {
          const s = new SegmentSpec();
          Object.assign(s, { srcAddr: 0x0a4d801b, dstAddr: 0x0a4d0002, srcPort: 1029, dstPort: 80, window: 502, hasTimestamps: true, tsVal: 100 }, f);
          host.receive(buf, 0, writeTcpSegment(buf, 0, s), 0);
        };
        send({ flags: 2, seq: 1000, mss: ${mss}, windowScale: 7, sackPermitted: true });
        const tx = host.tx;
        const b = tx.slab, o = tx.offsets[0] + 20;
        const isn = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
        tx.clear();
        send({ flags: 0x10, seq: 1001, ack: (isn + 1) >>> 0, tsVal: 101 });
        const get = new TextEncoder().encode('GET / HTTP/1.1\\r\\n\\r\\n');
        send({ flags: 0x18, seq: 1001, ack: (isn + 1) >>> 0, tsVal: 102, payload: get, payloadLength: get.length });
        parentPort.postMessage('returned');
        `,
        2000,
      );
      expect(result).toBe('returned');
    });
  }
  it('keeps the hang frame bytes as found', () => {
    expect(HANG_FRAME_HEX.length).toBe(79 * 2);
  });
});

describe('mutation fuzzer, CI size (make fuzz runs ≥ 10 M)', () => {
  it.skipIf(!built)('200,000 frames over every profile: no exception, no hang, every invariant holds', async () => {
    const options: FuzzOptions = { frames: 200_000, seconds: 60, seed: 20_261_126, crashDir: null, skip: [] };
    const state = new Int32Array(new SharedArrayBuffer(16));
    const frameBuffer = new SharedArrayBuffer(FRAME_ROOM);
    const worker = new Worker(new URL(pathToFileURL(DIST_FUZZ).href), { workerData: { fuzz: options, state, frameBuffer } });
    const report = await new Promise<FuzzReport | string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const bytes = Buffer.from(new Uint8Array(frameBuffer).slice(0, state[2]!)).toString('hex');
        void worker.terminate();
        resolve(`hang at frame ${state[0]} (phase ${state[1]}): ${bytes}`);
      }, 60_000);
      worker.once('message', (m: FuzzReport) => {
        clearTimeout(timer);
        resolve(m);
      });
      worker.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    if (typeof report === 'string') throw new Error(report);
    if (report.crash !== null) throw new Error(`fuzz crash at frame ${report.crash.frame} (${report.crash.profile}): ${report.crash.message}\nbytes ${report.crash.bytesHex}\n${report.crash.stack}`);
    expect(report.frames).toBe(200_000);
    expect(report.profiles.length).toBeGreaterThanOrEqual(4);
    const rejected = Object.values(report.rejectedByReason).reduce((a, b) => a + b, 0);
    expect(report.accepted + rejected).toBe(report.frames);
    // The mix reaches every rejection reason and the deep states (established, TIME_WAIT, cookies).
    for (const reason of ['truncated', 'bad-ip-checksum', 'bad-tcp-checksum', 'bad-data-offset', 'fragment', 'not-for-us', 'unknown-proto']) {
      expect(report.rejectedByReason[reason], reason).toBeGreaterThan(0);
    }
    for (const verdict of ['SYN_QUEUED', 'REQ_ESTABLISHED', 'SYN_COOKIE', 'COOKIE_ACCEPTED', 'REQ_EXPIRED', 'CONN_RESET']) {
      expect(report.verdicts[verdict] ?? 0, verdict).toBeGreaterThan(0);
    }
    expect((report.verdicts.TW_ENTER ?? 0) + (report.verdicts.TW_ENTER_COUNTED ?? 0), 'TIME_WAIT entered').toBeGreaterThan(0);
    console.log(`fuzz CI: ${report.frames} frames, ${report.framesPerSec} frames/s, ${Object.keys(report.verdicts).length} verdicts reached`);
  });
});

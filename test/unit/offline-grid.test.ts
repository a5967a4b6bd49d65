// The grid of `syndrop simulate --kernels … --sweep …` and `syndrop replay --kernels …` on worker
// threads (issue 17: "use worker threads to fill both cores"; issue 21 item 4), through the
// real CLI (dist/): the same bytes as the serial run in every output form, the runs really
// spread over two threads (SYNDROP_GRID_TRACE names the thread of each run), and an error met
// inside a worker comes out as the serial run's one line and exit code.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReplayCapture } from '../../src/tools/bench/offline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'bin', 'syndrop');
const built = existsSync(join(ROOT, 'dist', 'offline', 'grid-worker.js')) && existsSync(join(ROOT, 'dist', 'cli', 'main.js'));
if (!built && process.env.CI) throw new Error('dist/ missing in CI: run make build');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Thread id per grid run, in run order, from the trace lines. */
  threads: number[];
}

const TRACE = /^syndrop: grid run (\d+)\/\d+ on thread (\d+), cpu [\d.]+ s(?:, failed)?\n/gm;

function syndrop(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, SYNDROP_GRID_TRACE: '1' }, maxBuffer: 64 << 20, timeout: 60_000 }, (error, stdout, stderr) => {
      const threads: number[] = [];
      for (const [, run, thread] of stderr.matchAll(TRACE)) threads[Number(run) - 1] = Number(thread);
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr: stderr.replace(TRACE, ''), threads });
    });
  });
}

/** The report without its header (the command line typed, the time it was generated). */
function reportBody(path: string): string {
  return readFileSync(path, 'utf8').replace(/<p class="command">.*?<\/header>/s, '');
}

describe.skipIf(!built)('offline grid on worker threads, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syndrop-grid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => {
    writeReplayCapture(join(dir, 'whole.pcap'), 3000);
    const whole = readFileSync(join(dir, 'whole.pcap'));
    writeFileSync(join(dir, 'cut.pcap'), whole.subarray(0, Math.floor(whole.length / 2) + 7)); // ends inside a record
    writeFileSync(join(dir, 'header-cut.pcap'), whole.subarray(0, 12)); // a pcap magic, then half a file header
  });

  const SIMULATE = ['simulate', '--kernels', '3.10,6.x', '--sweep', 'backlog=4,64', '--syn-rate', '400', '--accept-rate', '300', '--duration', '3', '--rtt', '5-40'];

  it.each([['text', []], ['--json', ['--json']], ['--csv', ['--csv']]])('simulate 2 kernels × 2 backlogs, %s: --jobs 2 prints the bytes of --jobs 1, its 4 runs on 2 worker threads', async (_form, extra) => {
    const serial = await syndrop([...SIMULATE, ...extra, '--jobs', '1'], dir);
    const threaded = await syndrop([...SIMULATE, ...extra, '--jobs', '2'], dir);
    expect(serial.code).toBe(0);
    expect(threaded.code).toBe(0);
    expect(serial.stdout.length).toBeGreaterThan(500);
    expect(threaded.stdout).toBe(serial.stdout);
    expect(serial.threads).toEqual([0, 0, 0, 0]); // the main thread
    expect(threaded.threads).toHaveLength(4);
    expect(threaded.threads.every((t) => t > 0)).toBe(true);
    expect(new Set(threaded.threads).size).toBe(2);
  });

  it('simulate --json: the runs stay in grid order (kernel, then backlog) whichever thread finished first', async () => {
    const runs = JSON.parse((await syndrop([...SIMULATE, '--json', '--jobs', '2'], dir)).stdout) as Array<{ run: string; settings: { backlog: number } }>;
    expect(runs.map((r) => r.run)).toEqual(['kernel 3.10 backlog=4', 'kernel 3.10 backlog=64', 'kernel 6.x backlog=4', 'kernel 6.x backlog=64']);
    expect(runs.map((r) => r.settings.backlog)).toEqual([4, 64, 4, 64]);
  });

  it('simulate without --jobs: one worker per core, at most one per run; the same output', async () => {
    const serial = await syndrop([...SIMULATE, '--jobs', '1'], dir);
    const byDefault = await syndrop(SIMULATE, dir);
    expect(byDefault.stdout).toBe(serial.stdout);
    const threads = Math.min(availableParallelism(), 4);
    expect(new Set(byDefault.threads).size).toBe(threads);
    if (threads === 1) expect(byDefault.threads).toEqual([0, 0, 0, 0]);
  });

  it('simulate --report: the same HTML report from --jobs 2 as from --jobs 1 (but the header naming the command)', async () => {
    const serial = await syndrop([...SIMULATE, '--report', 'serial.html', '--jobs', '1'], dir);
    const threaded = await syndrop([...SIMULATE, '--report', 'threaded.html', '--jobs', '2'], dir);
    expect([serial.code, threaded.code]).toEqual([0, 0]);
    expect(reportBody(join(dir, 'threaded.html'))).toBe(reportBody(join(dir, 'serial.html')));
    expect(reportBody(join(dir, 'serial.html')).length).toBeGreaterThan(10_000);
  });

  const REPLAY = ['--kernels', '3.10,4.10,6.x', '--backlog', '16', '--accept-rate', '2000'];

  it.each([
    ['whole.pcap', 'text', []],
    ['whole.pcap', '--json', ['--json']],
    ['cut.pcap', 'text', []],
    ['cut.pcap', '--json', ['--json']],
  ])('replay %s --kernels 3.10,4.10,6.x, %s: each worker streams the capture itself; --jobs 2 prints the bytes of --jobs 1', async (capture, _form, extra) => {
    const serial = await syndrop(['replay', capture, ...REPLAY, ...extra, '--jobs', '1'], dir);
    const threaded = await syndrop(['replay', capture, ...REPLAY, ...extra, '--jobs', '2'], dir);
    expect([serial.code, threaded.code]).toEqual([0, 0]);
    expect(threaded.stdout).toBe(serial.stdout);
    expect(new Set(threaded.threads).size).toBe(2);
    expect(threaded.threads.every((t) => t > 0)).toBe(true);
    if (capture === 'cut.pcap') expect(serial.stdout).toMatch(/stopped at byte \d+|"stoppedAt": \d+/);
  });

  it('replay --report: the same HTML report from --jobs 2 as from --jobs 1', async () => {
    await syndrop(['replay', 'whole.pcap', ...REPLAY, '--report', 'replay-serial.html', '--jobs', '1'], dir);
    await syndrop(['replay', 'whole.pcap', ...REPLAY, '--report', 'replay-threaded.html', '--jobs', '2'], dir);
    expect(reportBody(join(dir, 'replay-threaded.html'))).toBe(reportBody(join(dir, 'replay-serial.html')));
  });

  it('a capture whose file header is cut short, read in the workers (--server given, so not read before): one line, exit 1, as the serial run', async () => {
    const args = ['replay', 'header-cut.pcap', '--server', '10.77.0.2:80', ...REPLAY];
    const serial = await syndrop([...args, '--jobs', '1'], dir);
    const threaded = await syndrop([...args, '--jobs', '2'], dir);
    expect(serial).toMatchObject({ code: 1, stdout: '', stderr: 'syndrop: header-cut.pcap: truncated pcap header\n' });
    expect(threaded).toMatchObject({ code: 1, stdout: '', stderr: 'syndrop: header-cut.pcap: truncated pcap header\n' });
    expect(threaded.threads[0]).toBeGreaterThan(0); // the first run failed in a worker, and its error is the one told
  });

  it('the second of three runs fails in its worker (6.x has no tcp_tw_recycle, spec §2.5): its one line and exit 2, as the serial run; run 3 is not waited for', async () => {
    const args = ['simulate', '--kernels', '4.10,6.x,3.10', '--sysctl', 'net.ipv4.tcp_tw_recycle=1', '--duration', '2'];
    const serial = await syndrop([...args, '--jobs', '1'], dir);
    const threaded = await syndrop([...args, '--jobs', '2'], dir);
    expect(serial.code).toBe(2);
    expect(serial.stderr).toMatch(/^syndrop: [^\n]*kernel 6\.x has no net\.ipv4\.tcp_tw_recycle[^\n]*\n$/);
    expect(threaded).toMatchObject({ code: 2, stdout: '', stderr: serial.stderr });
    expect(threaded.threads[1]).toBeGreaterThan(0);
  });

  it('--jobs 0 is a usage error: one line, exit 2', async () => {
    const result = await syndrop([...SIMULATE, '--jobs', '0'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('syndrop: --jobs 0: expected a whole number ≥ 1');
  });
});

// Issue 10 over the real lab: hostile frames through the TUN with exact accounting, a short
// bounded SYN flood with memory and queue checks, clean teardown on signals and after SIGKILL,
// the control plane's security, and one clear line with the right exit code for every expected
// failure. The long runs (1 M frames, 60 s flood, 10 k soak) are `make fuzz|soak` and
// `node dist/tools/flood-memory.js`; this file keeps CI short.
//
// "No /dev/net/tun" is simulated for real, without a hook: `run` starts in a private mount
// namespace (`unshare -m`) where a tmpfs hides /dev/net, so open("/dev/net/tun") fails with
// ENOENT exactly as on a machine without the tun module; nothing outside that process changes.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNetns, labStatus } from '../../src/lab/lab.js';
import { runFloodMemory } from '../../src/tools/flood-memory.js';
import {
  CLI,
  CONTROL_PATH,
  EMULATED,
  ROOT,
  TEST_ENV,
  TEST_INSTANCE,
  TEST_PREFIX,
  cli,
  curlFrom,
  integrationPrerequisites,
  ns,
  run,
  runInNetns,
  startSyndrop,
  testLabDown,
  testLabUp,
  type RunningSyndrop,
} from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'curl', 'setpriv', 'unshare']);
const SDGEN = join(ROOT, 'dist', 'bin', 'sdgen');
const NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const OTHER = `${TEST_INSTANCE}-b`;
const OTHER_PATH = `/run/syndrop/${OTHER}.sock`;

/** Runs the CLI with extra env / a prefix command; never throws. */
function syndrop(args: string[], options: { env?: NodeJS.ProcessEnv; prefix?: string[]; timeoutMs?: number } = {}) {
  return run([...(options.prefix ?? []), process.execPath, CLI, ...args], { env: { ...TEST_ENV, ...options.env }, allowFailure: true, timeoutMs: options.timeoutMs ?? 20_000 });
}

/** One line on stderr starting with `syndrop:`, no stack frame, nothing else. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^syndrop: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at |internal error|Error:/);
}

async function counters(): Promise<Record<string, number>> {
  const r = await cli(['stats', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, number>;
}

async function waitExit(child: ReturnType<typeof spawn>, ms = 8000): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function tunCarrier(): Promise<boolean> {
  return (await labStatus({ prefix: TEST_PREFIX })).tun.carrier;
}

/** Frames the kernel handed to the lab's TUN device so far (its TX counter). */
async function tunTxPackets(): Promise<number> {
  const { stdout } = await runInNetns(ns('srv'), ['ip', '-s', '-j', 'link', 'show', 'dev', 'sd0']);
  const [link] = JSON.parse(stdout) as Array<{ stats64: { tx: { packets: number } } }>;
  return link!.stats64.tx.packets;
}

describe.skipIf(skip !== undefined)('reliability (issue 10)', () => {
  let syndropRun: RunningSyndrop | undefined;

  beforeAll(async () => {
    await testLabUp();
    syndropRun = await startSyndrop(['--kernel', '6.x', '--seed', '5']);
  });

  afterAll(async () => {
    await syndropRun?.stop();
    await testLabDown();
  });

  describe('over the TUN', () => {
    it('100,000 random and malformed frames: every frame read is accepted or rejected for one reason; run stays up; curl gets 200', async () => {
      // The kernel's count is read on both sides of each stats call: frames the TUN delivers
      // meanwhile (its own IPv6 neighbour traffic) can fall on either side.
      const tun0 = await tunTxPackets();
      const before = await counters();
      const tun1 = await tunTxPackets();
      const gen = await runInNetns(ns('c3'), [SDGEN, 'garbage', '--dst', EMULATED, '--dport', '80', '--count', '100000', '--seconds', '20', '--seed', '10'], { timeoutMs: 40_000 });
      const report = JSON.parse(gen.stdout.trim().split('\n').pop()!) as { sent: number; kinds: Record<string, number> };
      expect(report.sent).toBe(100_000);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const tun2 = await tunTxPackets();
      const after = await counters();
      const tun3 = await tunTxPackets();
      const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
      const reasons = Object.keys(after).filter((n) => n.startsWith('SyndropRx') && !['SyndropRxFrames', 'SyndropRxAccepted', 'SyndropRxSyn'].includes(n));
      const rejected = reasons.reduce((sum, n) => sum + delta(n), 0);
      // The router namespace drops some garbage itself (bad IP options, UDP …), and on a busy
      // machine the TUN queue overflows (the kernel counts those as the device's tx_dropped):
      // how many arrive depends on load. What the kernel delivered through the TUN (its
      // tx_packets, counted as syndrop reads them) is what syndrop counts, exactly once.
      expect(delta('SyndropRxFrames')).toBeGreaterThanOrEqual(tun2 - tun1);
      expect(delta('SyndropRxFrames')).toBeLessThanOrEqual(tun3 - tun0);
      expect(delta('SyndropRxFrames')).toBeGreaterThan(1_000);
      expect(delta('SyndropRxAccepted') + rejected).toBe(delta('SyndropRxFrames'));
      // The TUN carries IPv6 too (the kernel's own neighbour/router traffic): both families add up.
      expect(delta('IpInReceives') + delta('Ip6InReceives')).toBe(delta('SyndropRxFrames'));
      // Most of the garbage that reaches the TUN is malformed: a good share is rejected.
      expect(rejected).toBeGreaterThan(delta('SyndropRxFrames') / 4);
      expect(syndropRun!.child.exitCode).toBeNull();
      expect((await curlFrom('c3')).httpCode).toBe('200');
    });

    it('malformed control messages are answered with an error; run survives and still serves', async () => {
      const lines = [
        'not json',
        '[]',
        '42',
        '{"id":1}',
        '{"id":2,"cmd":"nope"}',
        '{"id":3,"cmd":"stats","args":[]}',
        '{"id":4,"cmd":"sysctl","args":{"set":["net.ipv4.tcp_syncookies=9"]}}',
        '{"id":5,"cmd":"sysctl","args":{"set":[{"a":1}],"get":[null]}}',
        '{"id":6,"cmd":"app","args":{"action":{"x":1}}}',
        '{"id":7,"cmd":"app","args":{"action":"rate","rate":"-1"}}',
        '{"id":8,"cmd":"metrics","args":{"flush":true,"address":"999.1.1.1"}}',
        '{"id":9,"cmd":"events","args":{"from":"x","last":-5,"reason":7}}',
        `{"id":10,"cmd":"${'x'.repeat(70_000)}"}`,
        '{"id":11,"cmd":"__proto__"}',
        '{"id":12,"cmd":"constructor"}',
      ];
      const replies = await new Promise<string[]>((resolve, reject) => {
        const socket = createConnection({ path: CONTROL_PATH });
        let data = '';
        socket.on('data', (chunk) => {
          data += chunk.toString();
        });
        socket.on('error', reject);
        socket.on('connect', () => {
          socket.write(`${lines.join('\n')}\n\u0000\u00ff\n`);
          setTimeout(() => {
            socket.destroy();
            resolve(data.trim().split('\n'));
          }, 1500);
        });
      });
      const parsed = replies.map((line) => JSON.parse(line) as { id: unknown; ok: boolean; error?: { code: string; message: string } });
      for (const reply of parsed) {
        if (reply.id === 9) continue; // events tolerates odd arguments (defaults); it must just answer
        expect(reply.ok, JSON.stringify(reply)).toBe(false);
        expect(typeof reply.error?.message).toBe('string');
        expect(reply.error?.message).not.toMatch(/\n\s+at /);
      }
      expect(parsed.filter((r) => r.ok === false).length).toBeGreaterThanOrEqual(lines.length - 1);
      expect(syndropRun!.child.exitCode).toBeNull();
      const ping = await cli(['stats', '--json']);
      expect(ping.code).toBe(0);
      expect((await curlFrom('c3')).httpCode).toBe('200');
    });
  });

  describe('clear errors: one line, exit code 0 ok / 1 runtime / 2 usage, no stack trace', () => {
    it('port already listened: a second run on the same instance names the running one (exit 1)', async () => {
      const r = await syndrop(['run', '-q']);
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, new RegExp(`${EMULATED}:80 is already listened on by 'syndrop run' \\(pid ${syndropRun!.child.pid}`));
    });

    it('TUN name taken: a second run on the same device under another instance (exit 1)', async () => {
      const r = await syndrop(['run', '-q', '--instance', OTHER]);
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, /EBUSY attaching TUN device sd0: another process has it open/);
      expect(existsSync(OTHER_PATH)).toBe(false);
    });

    it('--dev naming a device that is not a TUN (a veth) (exit 1)', async () => {
      const r = await syndrop(['run', '-q', '--instance', OTHER, '--dev', 'c3']);
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, /c3 in .* is not a single-queue TUN device/);
    });

    it('no /dev/net/tun (hidden by a tmpfs in a private mount namespace) (exit 1)', async () => {
      const r = await syndrop(['run', '-q', '--instance', OTHER], { prefix: ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /dev/net && exec "$@"', 'sh'] });
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, /ENOENT opening \/dev\/net\/tun: load the tun module/);
    });

    it('lab missing (exit 1)', async () => {
      const env = { SYNDROP_LAB_PREFIX: `${TEST_PREFIX}-none` };
      const r = await syndrop(['run', '-q', '--instance', OTHER], { env });
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, /the lab namespace does not exist, run 'syndrop lab up'/);
      const e = await syndrop(['lab', 'exec', 'c3', '--', 'true'], { env });
      expect(e.code).toBe(1);
      expectOneLine(e.stderr, /lab/);
    });

    it('not root: run, lab up, stats, sysctl as nobody (exit 1)', async () => {
      for (const args of [['run', '-q'], ['lab', 'up'], ['lab', 'down'], ['stats'], ['sysctl', 'net.ipv4.tcp_syncookies=0']]) {
        const r = await syndrop(args, { prefix: NOBODY });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expectOneLine(r.stderr, /root/);
      }
    });

    it('bad sysctl name / value at start and live; bad kernel profile; bad option (exit 2)', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['run', '-q', '--instance', OTHER, '--sysctl', 'net.ipv4.no_such=1'], /kernel 6\.x has no net\.ipv4\.no_such/],
        [['run', '-q', '--instance', OTHER, '--kernel', '5.4', '--sysctl', 'net.ipv4.tcp_tw_recycle=1'], /removed in Linux 4\.12/],
        [['run', '-q', '--instance', OTHER, '--sysctl', 'net.ipv4.tcp_syncookies=7'], /Invalid argument — expected an integer 0\.\.2/],
        [['run', '-q', '--instance', OTHER, '--sysctl', 'garbage'], /must be of the form name=value/],
        [['sysctl', 'net.ipv4.tcp_syncookies=9'], /Invalid argument/],
        [['sysctl', 'net.ipv4.no_such=1'], /has no net\.ipv4\.no_such/],
        [['run', '-q', '--instance', OTHER, '--kernel', '2.6'], /unknown kernel profile '2\.6'/],
        [['run', '-q', '--instance', OTHER, '--app', 'ftp'], /--app ftp/],
        [['run', '-q', '--instance', OTHER, '--port', '70000'], /--port 70000/],
      ];
      for (const [args, pattern] of cases) {
        const r = await syndrop(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expectOneLine(r.stderr, pattern);
      }
      // A refused live sysctl changed nothing, and the instance is still fine.
      const ok = await syndrop(['sysctl', 'net.ipv4.tcp_syncookies']);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/net\.ipv4\.tcp_syncookies = 1/);
    });
  });

  describe('control plane security', () => {
    it('the socket is mode 0600 in a root-only directory', () => {
      const sock = statSync(CONTROL_PATH);
      expect(sock.isSocket()).toBe(true);
      expect(sock.mode & 0o777).toBe(0o600);
      const dir = statSync('/run/syndrop');
      expect(dir.mode & 0o777).toBe(0o700);
      expect(dir.uid).toBe(0);
    });
  });

  describe('teardown and restart', () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`${signal} stops run cleanly: exit 0, TUN released, control socket removed`, async () => {
        await syndropRun?.stop();
        syndropRun = await startSyndrop(['--kernel', '6.x']);
        expect(await tunCarrier()).toBe(true);
        const code = await syndropRun.stop(signal);
        expect(code).toBe(0);
        expect(syndropRun.stderr()).toMatch(new RegExp(`stopped \\(${signal}\\)`));
        expect(existsSync(CONTROL_PATH)).toBe(false);
        expect(await tunCarrier()).toBe(false);
        syndropRun = undefined;
      });
    }

    it('after SIGKILL the next run replaces the stale socket by itself; lab down leaves nothing', async () => {
      const killed = await startSyndrop(['--kernel', '6.x']);
      killed.child.kill('SIGKILL');
      await waitExit(killed.child);
      expect(statSync(CONTROL_PATH).isSocket()).toBe(true); // stale: nobody listens
      syndropRun = await startSyndrop(['--kernel', '4.4']);
      expect((await curlFrom('c3')).httpCode).toBe('200');
      // Crash again, then lab down: no namespace, no process, no TUN, no stale socket.
      syndropRun.child.kill('SIGKILL');
      await waitExit(syndropRun.child);
      syndropRun = undefined;
      const down = await cli(['lab', 'down']);
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toMatch(new RegExp(`removed stale control socket ${CONTROL_PATH}`));
      const ours = ['srv', 'nat', 'c1', 'c2', 'c3'].map((node) => `${TEST_PREFIX}-${node}`);
      expect((await listNetns()).filter((n) => ours.includes(n))).toEqual([]);
      expect(existsSync(CONTROL_PATH)).toBe(false);
    });

    it('lab down removes a lab whose lab up was killed half-way', async () => {
      const up = spawn(process.execPath, [CLI, 'lab', 'up'], { env: TEST_ENV, stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, 120));
      up.kill('SIGKILL');
      await waitExit(up);
      const down = await cli(['lab', 'down']);
      expect(down.code, down.stderr).toBe(0);
      const ours = ['srv', 'nat', 'c1', 'c2', 'c3'].map((node) => `${TEST_PREFIX}-${node}`);
      expect((await listNetns()).filter((n) => ours.includes(n))).toEqual([]);
      // And the lab comes back for what follows.
      await testLabUp();
    });
  });

  describe('bounded memory under a spoofed SYN flood (short; 60 s via dist/tools/flood-memory.js)', () => {
    it('cookies on: RSS flat, SYN queue within its limit, curls connect; cookies off: curls fail, TCPReqQFullDrop rises', async () => {
      await syndropRun?.stop(); // the flood tool runs its own instance on the lab's TUN
      syndropRun = undefined;
      // CI's short run floods at 100k SYN/s: the SYN queue is full all the time (cookies answer
      // every SYN), but the TUN queue is not overrun, where a single curl could lose every SYN
      // and ACK of its handshake to the device queue itself (seen once: 0/1 at the top rate).
      // `make flood-memory` and `make bench` run the 60 s flood at the generator's top rate.
      const report = await runFloodMemory({ seconds: 6, rate: 100_000, prefix: TEST_PREFIX, instance: `${TEST_INSTANCE}-flood`, manageLab: false });
      const [on, off] = report.phases;
      console.log(report.phases.map((p) => `cookies=${p.syncookies}: ${p.sentPerSec}/s, RSS ${p.rssMb.join(' ')} MB, synq max ${p.synQueueMax}/${p.synQueueLimit}, curls ${p.curls.ok}/${p.curls.total}`).join('\n'));
      expect(report.problems).toEqual([]);
      expect(on!.synQueueMax).toBeLessThanOrEqual(on!.synQueueLimit);
      expect(on!.curls.ok).toBeGreaterThan(0);
      expect(off!.counters.TcpExtTCPReqQFullDrop).toBeGreaterThan(0);
      expect(off!.curls.ok).toBeLessThan(off!.curls.total);
    });
  });
});

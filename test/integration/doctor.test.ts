// syndrop doctor on the host's real kernel, never the root namespace: a server namespace with a
// kernel listener (backlog 2, never accepts) and a listen(512) under somaxconn 64, a client
// namespace behind a veth that keeps opening connections to it so the accept queue overflows,
// and a quiet namespace. doctor reads them live (--netns), writes a bundle (--collect) and
// reads it back (--bundle).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../src/doctor/diagnose.js';
import { cli, integrationPrerequisites, run, runInNetns } from '../helpers/lab-fixture.js';

const PREFIX = process.env.SYNDROP_DOCTOR_TEST_PREFIX ?? 'sdd';
const SRV = `${PREFIX}-srv`;
const CLIENT = `${PREFIX}-cli`;
const QUIET = `${PREFIX}-quiet`;
const SERVER_IP = '10.199.7.1';
const CLIENT_IP = '10.199.7.2';

/** listen(backlog) and never accept: the kernel fills the accept queue by itself (spec §1.5). */
const LISTENER = 'import socket,sys,time\ns=socket.socket()\ns.bind((sys.argv[1],int(sys.argv[2])))\ns.listen(int(sys.argv[3]))\nprint("ready",flush=True)\ntime.sleep(120)';
/** A new non-blocking connect every 50 ms: each SYN finds the accept queue full. */
const CLIENTS = 'import socket,sys,time\nkeep=[]\nend=time.time()+float(sys.argv[2])\nwhile time.time()<end:\n  c=socket.socket();c.setblocking(False);c.connect_ex((sys.argv[1],8080));keep.append(c);time.sleep(0.05)';

const children: ChildProcess[] = [];
let skip: string | undefined;
let bundleDir = '';

function startInNetns(ns: string, argv: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}`)));
  });
}

async function listenOverflows(): Promise<number> {
  const { stdout } = await runInNetns(SRV, ['nstat', '-az', 'TcpExtListenOverflows']);
  return Number(/TcpExtListenOverflows\s+(\d+)/.exec(stdout)![1]);
}

async function doctorJson(args: string[]): Promise<{ code: number; report: DoctorReport }> {
  const result = await cli(['doctor', ...args, '--json'], 30_000);
  expect(result.stderr).toBe('');
  return { code: result.code, report: JSON.parse(result.stdout) as DoctorReport };
}

async function removeNamespaces(): Promise<void> {
  for (const ns of [SRV, CLIENT, QUIET]) await run(['ip', 'netns', 'del', ns], { allowFailure: true });
}

beforeAll(async () => {
  skip = await integrationPrerequisites(['ip', 'python3', 'nstat', 'ss', 'sysctl', 'hping3']);
  if (skip) return;
  await removeNamespaces();
  for (const ns of [SRV, CLIENT, QUIET]) await run(['ip', 'netns', 'add', ns]);
  await run(['ip', 'link', 'add', `${PREFIX}v0`, 'netns', SRV, 'type', 'veth', 'peer', 'name', `${PREFIX}v1`, 'netns', CLIENT]);
  for (const [ns, dev, ip] of [[SRV, `${PREFIX}v0`, SERVER_IP], [CLIENT, `${PREFIX}v1`, CLIENT_IP]] as const) {
    await runInNetns(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', dev]);
    await runInNetns(ns, ['ip', 'link', 'set', dev, 'up']);
    await runInNetns(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  await runInNetns(SRV, ['sysctl', '-q', 'net.core.somaxconn=64']);
  await startInNetns(SRV, ['python3', '-c', LISTENER, SERVER_IP, '8080', '2']);
  await startInNetns(SRV, ['python3', '-c', LISTENER, '0.0.0.0', '9090', '512']);
  const clients = spawn('ip', ['netns', 'exec', CLIENT, 'python3', '-c', CLIENTS, SERVER_IP, '60'], { stdio: 'ignore' });
  children.push(clients);
  // Three children fill a backlog-2 queue (it holds backlog + 1); every later SYN overflows.
  for (let i = 0; i < 50 && (await listenOverflows()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
  bundleDir = mkdtempSync(join(tmpdir(), 'sdd-bundle-'));
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (!skip) await removeNamespaces();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

describe('syndrop doctor on a real kernel in namespaces', () => {
  it('--netns --interval 1: accept-queue-overflow names the listener, the counters rose during the reading (spec §1.5, §5.5)', async (context) => {
    if (skip) return context.skip();
    const before = await listenOverflows();
    const { code, report } = await doctorJson(['--netns', SRV, '--interval', '1']);
    const after = await listenOverflows();
    expect(code).toBe(0);
    expect(report.source).toBe(`live, network namespace ${SRV}`);
    expect(report.intervalSeconds).toBeGreaterThanOrEqual(1);
    expect(report.listeners).toContainEqual({ address: SERVER_IP, port: 8080, recvQ: 3, sendQ: 2, synRecv: null });
    const overflow = report.findings.find((f) => f.id === 'accept-queue-overflow');
    expect(overflow, JSON.stringify(report.findings.map((f) => f.id))).toBeDefined();
    expect(overflow!).toMatchObject({ listener: `${SERVER_IP}:8080`, severity: 'drop' });
    // The delta doctor saw lies inside what nstat saw around the whole run, and is > 0.
    const seen = Number(/TcpExtListenOverflows \+(\d+) in/.exec(overflow!.evidence[0]!)![1]);
    expect(seen).toBe(overflow!.count);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(after - before);
    expect(overflow!.evidence).toContain(`${SERVER_IP}:8080: ss -lnt: Recv-Q 3 / Send-Q 2 (accept queue holds Send-Q + 1)`);
    // The host is 6.18: the "full" rule (spec §1.2 D2) and listen(512) cut to somaxconn 64 (spec §5.1).
    expect(overflow!.rule).toMatch(/every SYN is dropped/);
    expect(report.findings.find((f) => f.id === 'backlog-clamped')).toMatchObject({ listener: '0.0.0.0:9090' });
  });

  it('--fail-on-drops exits 3 while the queue overflows; a quiet namespace exits 0 with no findings', async (context) => {
    if (skip) return context.skip();
    const dropping = await cli(['doctor', '--netns', SRV, '--interval', '1', '--fail-on-drops'], 30_000);
    expect(dropping.code).toBe(3);
    expect(dropping.stdout).toMatch(new RegExp(`^1\\. Accept queue overflow.*\\[drop, \\d+\\]$`, 'm'));
    const quiet = await doctorJson(['--netns', QUIET, '--interval', '0', '--fail-on-drops']);
    expect(quiet.code).toBe(0);
    expect(quiet.report.findings).toEqual([]);
  });

  it('--collect writes a bundle that --bundle diagnoses the same way', async (context) => {
    if (skip) return context.skip();
    const collected = await cli(['doctor', '--netns', SRV, '--interval', '1', '--collect', bundleDir], 30_000);
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(/wrote \d+ files/);
    const { code, report } = await doctorJson(['--bundle', bundleDir, '--fail-on-drops']);
    expect(code).toBe(3);
    expect(report.kernel).toBe((await run(['uname', '-r'])).stdout.trim());
    expect(report.findings.filter((f) => f.id !== 'syn-flood-logged').map((f) => [f.id, f.listener])).toEqual([
      ['accept-queue-overflow', `${SERVER_IP}:8080`],
      ['backlog-clamped', '0.0.0.0:9090'],
    ]);
  });

  it('spoofed SYN bursts: syncookies=0 → syn-queue-full, syncookies=1 → syncookies (spec §1.3, §1.4)', async (context) => {
    if (skip) return context.skip();
    // The SYN-ACKs to the spoofed sources leave towards the client namespace, which drops them.
    await runInNetns(SRV, ['ip', 'route', 'replace', 'default', 'via', CLIENT_IP]);
    const burst = (port: string) =>
      runInNetns(CLIENT, ['hping3', '-q', '-S', '-p', port, '-c', '150', '-i', 'u10000', '--rand-source', SERVER_IP], { allowFailure: true, timeoutMs: 10_000 });
    const cases = [
      { syncookies: '0', port: '7070', id: 'syn-queue-full', severity: 'drop', counter: 'TcpExtTCPReqQFullDrop' },
      { syncookies: '1', port: '7171', id: 'syncookies', severity: 'warning', counter: 'TcpExtSyncookiesSent' },
    ];
    for (const { syncookies, port, id, severity, counter } of cases) {
      await runInNetns(SRV, ['sysctl', '-q', `net.ipv4.tcp_syncookies=${syncookies}`]);
      await startInNetns(SRV, ['python3', '-c', LISTENER, SERVER_IP, port, '4']);
      const flooding = burst(port);
      const { report } = await doctorJson(['--netns', SRV, '--interval', '1']);
      await flooding;
      const found = report.findings.find((f) => f.id === id);
      expect(found, JSON.stringify(report.findings.map((f) => f.id))).toMatchObject({ severity });
      expect(found!.evidence[0]).toMatch(new RegExp(`^${counter} \\+[1-9]\\d* in`));
      // The 6.2+ flood line names the listener (once per listener; rate-limited host-wide).
      const logged = report.findings.find((f) => f.id === 'syn-flood-logged' && f.listener === `${SERVER_IP}:${port}`);
      if (logged) expect(found!.listener).toBe(`${SERVER_IP}:${port}`);
    }
  });

  it('an unknown namespace is one usage line, exit 2', async (context) => {
    if (skip) return context.skip();
    const result = await cli(['doctor', '--netns', `${PREFIX}-missing`, '--interval', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`syndrop: --netns ${PREFIX}-missing: no such network namespace (ip netns list)\n`);
  });
});

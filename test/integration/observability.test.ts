// Issue 7 in the lab: a real PAWS drop behind the NAT and a real accept-queue overflow, then
// explain names both with evidence and fix, tshark finds the dropped SYNs by their pcapng
// comment, netstat phrases and Prometheus text come out right.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { CLI, EMULATED, ROOT, TEST_ENV, cli, cliJson, curlFrom, integrationPrerequisites, ns, run, runInNetns, startSyndrop, testLabDown, testLabUp, type RunningSyndrop } from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'curl', 'tshark', '/usr/bin/python3']);
const SEND_SYN = join(ROOT, 'test', 'tools', 'send-syn.py');

interface Problem {
  id: string;
  count: number;
  evidence: string[];
  fix: string[];
  spec: string;
}

describe.skipIf(skip !== undefined)('observability after real drops (issue 7)', () => {
  let syndrop: RunningSyndrop;
  let dir: string;
  let pcap: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'syndrop-obs-'));
    pcap = join(dir, 'capture.pcapng');
    await testLabUp();
    syndrop = await startSyndrop(['--kernel', '3.10', '--sysctl', 'net.ipv4.tcp_tw_recycle=1', '--backlog', '2', '--pcap', pcap, '--seed', '5']);
  });

  afterAll(async () => {
    await syndrop?.stop();
    await testLabDown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client behind the NAT connects; the server closes first and remembers its timestamp (spec §2.2)', async () => {
    expect((await curlFrom('c1')).httpCode).toBe('200');
    const metrics = await cliJson<{ entries: Array<{ address: string; tsval: number | null }> }>(['metrics', '--json']);
    const nat = metrics.entries.find((e) => e.address === '10.77.9.254');
    expect(nat?.tsval).toBeTypeOf('number');
  });

  it('a second host behind the same NAT with an older clock is dropped: PAWSPassive (spec §2.3)', async () => {
    const metrics = await cliJson<{ entries: Array<{ address: string; tsval: number }> }>(['metrics', '--json']);
    const remembered = metrics.entries.find((e) => e.address === '10.77.9.254')!.tsval;
    const older = (remembered - 100_000 + 2 ** 32) % 2 ** 32;
    await runInNetns(ns('c2'), ['/usr/bin/python3', SEND_SYN, EMULATED, '80', '41000', String(older), '2', '0.2'], { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counters = await syndrop.stats();
    expect(counters.TcpExtPAWSPassive).toBe(2);
    expect(counters.TcpExtListenDrops).toBe(2);
  });

  it('the application stops accepting: the accept queue overflows (spec §1.5)', async () => {
    expect((await cli(['app', 'pause'])).code).toBe(0);
    const attempts = await Promise.all([1, 2, 3, 4, 5, 6].map(() => curlFrom('c3', `http://${EMULATED}/`, ['--connect-timeout', '1', '-m', '1.5'])));
    expect(attempts.filter((a) => a.httpCode === '200')).toHaveLength(0);
    const counters = await syndrop.stats();
    expect(counters.TcpExtListenOverflows).toBeGreaterThan(0);
  });

  it('explain --json names both problems with evidence and the fix', async () => {
    const report = await cliJson<{ profile: string; problems: Problem[] }>(['explain', '--json']);
    expect(report.profile).toBe('3.10');
    const paws = report.problems.find((p) => p.id === 'paws-nat');
    expect(paws, JSON.stringify(report.problems.map((p) => p.id))).toBeDefined();
    expect(paws!.count).toBe(2);
    expect(paws!.evidence.join('\n')).toMatch(/one source address 10\.77\.9\.254, 2 unrelated TSval clocks/);
    expect(paws!.fix.join('\n')).toMatch(/net\.ipv4\.tcp_tw_recycle=0/);
    expect(paws!.spec).toMatch(/§2\.3/);
    const overflow = report.problems.find((p) => p.id === 'accept-overflow');
    expect(overflow).toBeDefined();
    expect(overflow!.fix[0]).toMatch(/accept\(\) faster/);
    expect(overflow!.evidence.join('\n')).toMatch(/Send-Q 2/);
  });

  it('stats --netstat uses the netstat -s phrases; --prom parses as Prometheus text', async () => {
    const netstat = await cli(['stats', '--netstat']);
    expect(netstat.stdout).toMatch(/^ {4}2 passive connections rejected because of time stamp$/m);
    expect(netstat.stdout).toMatch(/^ {4}\d+ times the listen queue of a socket overflowed$/m);
    expect(netstat.stdout).toMatch(/^ {4}\d+ SYNs to LISTEN sockets dropped$/m);
    const prom = await cli(['stats', '--prom']);
    const families = parsePrometheusTextFormat(prom.stdout) as Array<{ name: string; type: string; metrics: Array<{ value: string; labels?: Record<string, string> }> }>;
    const paws = families.find((f) => f.name === 'syndrop_tcpext_paws_passive_total');
    expect(paws?.type).toBe('COUNTER');
    expect(paws?.metrics[0]?.value).toBe('2');
    expect(paws?.metrics[0]?.labels?.profile).toBe('3.10');
    const drops = families.find((f) => f.name === 'syndrop_drops_total');
    expect(drops?.metrics.map((m) => m.labels?.reason)).toContain('PAWS_PASSIVE_PER_HOST');
  });

  it('events --follow streams the next decision; events --reason filters', async () => {
    const metrics = await cliJson<{ entries: Array<{ address: string; tsval: number }> }>(['metrics', '--json']);
    const older = (metrics.entries.find((e) => e.address === '10.77.9.254')!.tsval - 200_000 + 2 ** 32) % 2 ** 32;
    const follower = spawn(process.execPath, [CLI, 'events', '--follow', '--json', '-n', '0'], { env: TEST_ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    let streamed = '';
    follower.stdout!.on('data', (chunk: Buffer) => {
      streamed += chunk.toString();
    });
    const pawsEvent = () =>
      streamed
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { verdict: string; src: string; tsval: number; counters: string[]; reason: string })
        .find((e) => e.verdict === 'DROP_PAWS_PASSIVE');
    try {
      // The follower subscribes asynchronously: send until one drop has streamed (bounded).
      for (let attempt = 0; attempt < 5 && pawsEvent() === undefined; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        await runInNetns(ns('c2'), ['/usr/bin/python3', SEND_SYN, EMULATED, '80', String(41001 + attempt * 10), String(older), '1'], { timeoutMs: 20_000 });
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      const event = pawsEvent();
      expect(event).toBeDefined();
      expect(event!.reason).toBe('PAWS_PASSIVE_PER_HOST');
      expect(event!.src).toMatch(/^10\.77\.9\.254:/);
      expect(event!.tsval).toBe(older);
      expect(event!.counters).toEqual(['TcpExtPAWSPassive', 'TcpExtListenDrops']);
    } finally {
      follower.kill('SIGINT');
      await once(follower, 'exit');
    }
    const filtered = await cli(['events', '--json', '--reason', 'PAWS_PASSIVE_PER_HOST']);
    const lines = filtered.stdout.trim().split('\n');
    expect(lines).toHaveLength((await syndrop.stats()).TcpExtPAWSPassive!);
    for (const line of lines) expect(JSON.parse(line).reason).toBe('PAWS_PASSIVE_PER_HOST');
  });

  it('the fix applied live: tcp_tw_recycle=0 makes the same old clock welcome again (issue 5)', async () => {
    const set = await cli(['sysctl', 'net.ipv4.tcp_tw_recycle=0']);
    expect(set.stdout.trim()).toBe('net.ipv4.tcp_tw_recycle = 0');
    const before = await syndrop.stats();
    await runInNetns(ns('c2'), ['/usr/bin/python3', SEND_SYN, EMULATED, '80', '41002', '1', '1'], { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await syndrop.stats();
    expect(after.TcpExtPAWSPassive).toBe(before.TcpExtPAWSPassive);
    expect(after.SyndropTxSynAck! - before.SyndropTxSynAck!).toBeGreaterThanOrEqual(1);
  });

  it('metrics shows the remembered peer like ip tcp_metrics; flush forgets it', async () => {
    const shown = await cli(['metrics']);
    expect(shown.stdout).toMatch(/^10\.77\.9\.254 age [\d.]+sec tw_ts \d+\/\d+sec ago/m);
    const flushed = await cli(['metrics', 'flush', '10.77.9.254']);
    expect(flushed.stdout.trim()).toBe('flushed 1 entry');
    const after = await cliJson<{ entries: Array<{ address: string }> }>(['metrics', '--json']);
    expect(after.entries.map((e) => e.address)).not.toContain('10.77.9.254');
  });

  it('tshark finds the dropped SYNs in the pcapng by their comment', async () => {
    const pawsDrops = (await syndrop.stats()).TcpExtPAWSPassive!;
    expect(pawsDrops).toBeGreaterThanOrEqual(3);
    await syndrop.stop();
    expect(existsSync(pcap)).toBe(true);
    const r = await run(['tshark', '-r', pcap, '-Y', 'frame.comment contains "PAWS_PASSIVE_PER_HOST"', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.flags.syn', '-e', 'tcp.options.timestamp.tsval'], {
      timeoutMs: 30_000,
    });
    const rows = r.stdout.trim().split('\n').filter((l) => l !== '');
    expect(rows).toHaveLength(pawsDrops);
    for (const row of rows) expect(row.split('\t').slice(0, 2)).toEqual(['10.77.9.254', '1']);
    const all = await run(['tshark', '-r', pcap, '-T', 'fields', '-e', 'frame.number'], { timeoutMs: 30_000 });
    expect(all.stdout.trim().split('\n').length).toBeGreaterThan(10);
  });
});

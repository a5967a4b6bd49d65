// `syndrop run --defer-accept` and `--bind` with real clients (issue 15 items 6 and 10):
// TCP_DEFER_ACCEPT holds a connected client that sends nothing in SYN-RECV and its request
// completes the accept (spec §3.3, §8); the listener's bind address is what ss, the 6.2+ flood
// line and events name (spec §1.3, §8).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { EMULATED, cliJson, integrationPrerequisites, ns, runInNetns, startSyndrop, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'python3', 'hping3']);

/** Connects, stays silent for `quietSeconds`, then sends a GET and prints the status line. */
const SILENT_THEN_GET = `
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=5)
print("connected", flush=True)
time.sleep(float(sys.argv[2]))
s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
print(s.recv(200).split(b"\\r\\n")[0].decode(), flush=True)
`;

interface SsJson {
  listeners: Array<{ localAddress: string; localPort: number; acceptQueueLength: number }>;
  sockets: Array<{ state: string }>;
}

describe.skipIf(skip !== undefined)('listener options with real clients (issue 15 items 6, 10)', () => {
  beforeAll(async () => {
    await testLabUp();
  });
  afterAll(async () => {
    await testLabDown();
  });

  it('--defer-accept 5: a silent client stays in SYN-RECV (TCPDeferAcceptDrop+1, nothing accepted); its GET completes the accept and gets 200', async () => {
    const syndrop = await startSyndrop(['--kernel', '6.x', '--defer-accept', '5', '--seed', '5']);
    try {
      expect(syndrop.stderr()).toMatch(/TCP_DEFER_ACCEPT 5 s \(reads back 7 s = 3 SYN-ACK retransmits\)/);
      const client = spawn('ip', ['netns', 'exec', ns('c3'), 'python3', '-c', SILENT_THEN_GET, EMULATED, '1.5'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const killer = setTimeout(() => client.kill('SIGKILL'), 15_000);
      let out = '';
      client.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      try {
        while (!out.includes('connected')) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 500));
        const silent = await syndrop.stats();
        expect(silent.TcpExtTCPDeferAcceptDrop).toBe(1);
        expect(silent.TcpPassiveOpens ?? 0).toBe(0);
        const ss = await cliJson<SsJson>(['ss', '-a', '--json']);
        expect(ss.sockets.filter((s) => s.state === 'SYN-RECV')).toHaveLength(1);
        expect(ss.listeners[0]!.acceptQueueLength).toBe(0);
        await once(client, 'exit');
        expect(out).toContain('HTTP/1.1 200');
        const after = await syndrop.stats();
        expect(after.TcpPassiveOpens).toBe(1);
      } finally {
        clearTimeout(killer);
      }
    } finally {
      await syndrop.stop();
    }
  });

  it('--bind 10.77.0.2: ss shows the listener there; the 6.x flood line names 10.77.0.2:80 once', async () => {
    const syndrop = await startSyndrop(['--kernel', '6.x', '--bind', EMULATED, '--backlog', '2', '--sysctl', 'net.ipv4.tcp_syncookies=0', '--seed', '5']);
    try {
      const ss = await cliJson<SsJson>(['ss', '--json']);
      expect(ss.listeners[0]).toMatchObject({ localAddress: EMULATED, localPort: 80 });
      // 8 spoofed SYNs (one address of the lab's spoofed prefix, routed back into c3 and dropped there).
      await runInNetns(ns('c3'), ['timeout', '-s', 'INT', '3', 'hping3', '-q', '-S', '-p', '80', '-a', '10.77.200.1', '-i', 'u2000', '-c', '8', EMULATED], { allowFailure: true, timeoutMs: 10_000 });
      const counters = await syndrop.stats();
      expect(counters.TcpExtTCPReqQFullDrop).toBe(5);
      const lines = syndrop.stderr().split('\n').filter((l) => l.includes('Possible SYN flooding'));
      expect(lines).toEqual([`TCP: request_sock_TCP: Possible SYN flooding on port ${EMULATED}:80. Dropping request.`]);
    } finally {
      await syndrop.stop();
    }
  });

  it('ECN: a real client with tcp_ecn=1 gets a SYN-ACK with ECE and ECT(0)-marked data (issue 15 item 11)', async () => {
    const pcap = `/tmp/syndrop-ecn-${process.pid}.pcapng`;
    const before = (await runInNetns(ns('c3'), ['sysctl', '-n', 'net.ipv4.tcp_ecn'])).stdout.trim();
    await runInNetns(ns('c3'), ['sysctl', '-qw', 'net.ipv4.tcp_ecn=1']);
    const syndrop = await startSyndrop(['--kernel', '6.x', '--pcap', pcap, '--seed', '5']);
    try {
      const curl = await runInNetns(ns('c3'), ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', `http://${EMULATED}/`], { allowFailure: true });
      expect(curl.stdout).toBe('200');
    } finally {
      await syndrop.stop();
      await runInNetns(ns('c3'), ['sysctl', '-qw', `net.ipv4.tcp_ecn=${before}`]);
    }
    const fields = async (filter: string, field: string) =>
      (await runInNetns(ns('c3'), ['tshark', '-r', pcap, '-Y', filter, '-T', 'fields', '-e', field], { allowFailure: true })).stdout.trim().split('\n');
    expect(await fields('tcp.flags.syn==1 && tcp.flags.ack==1', 'tcp.flags.ece')).toEqual([expect.stringMatching(/^(1|True)$/)]);
    const dataEcn = await fields(`ip.src==${EMULATED} && tcp.len>0`, 'ip.dsfield.ecn');
    expect(dataEcn.length).toBeGreaterThan(0);
    expect(new Set(dataEcn)).toEqual(new Set(['2']));
    rmSync(pcap, { force: true });
  });

  it('--bind with an address the host does not have is refused with one line and exit 2', async () => {
    const { cli } = await import('../helpers/lab-fixture.js');
    const r = await cli(['run', '--bind', '10.77.9.9', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--bind 10\.77\.9\.9/);
  });
});

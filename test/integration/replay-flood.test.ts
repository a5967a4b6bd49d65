// Replay agrees with reality under a spoofed SYN flood (issue 17): a real host-kernel listener
// (listen(8), never accepts) in a namespace of this test's own, a bounded burst of 40 SYNs from
// hping3 with a spoofed source (one address, 40 source ports: 40 connection attempts nobody
// completes), tcpdump on the server's interface, once with tcp_syncookies=0 and once with 1.
// Each capture is replayed through 6.x (the host's era) and 3.10.
//
// The spec's predictions, backlog 8:
// - 6.x, era F (§1.4, §5.3): the SYN queue holds backlog + 1 = 9 requests; 3.10 (§5.2):
//   roundup_pow_of_two(max(min(8, tcp_max_syn_backlog), 8) + 1) = 16.
// - Queue full, syncookies 0: the SYN is dropped, TCPReqQFullDrop + ListenDrops (§1.3, §1.8);
//   syncookies 1: answered with a cookie, TCPReqQFullDoCookies + SyncookiesSent (+ ListenDrops
//   on 3.10 and 4.4, §1.8).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../src/assets.js';
import { runInNetns } from '../../src/lab/exec.js';
import { runReplay } from '../../src/replay/replay.js';
import { detectServer } from '../../src/replay/server-endpoint.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { CaptureLab, stop } from '../helpers/capture-lab.js';
import { integrationPrerequisites } from '../helpers/lab-fixture.js';

const lab = new CaptureLab(process.env.SYNDROP_TEST_OFFLINE2_PREFIX ?? 'sdo2', '10.98.0');
const SERVER_ADDR = lab.serverAddr;
/** Not an address of either namespace: the server's SYN-ACKs go to the client side and die there. */
const SPOOFED = '10.98.1.1';
const BACKLOG = 8;
const SYNS = 40;
const COUNTERS = ['TcpExtListenDrops', 'TcpExtListenOverflows', 'TcpExtTCPReqQFullDrop', 'TcpExtTCPReqQFullDoCookies', 'TcpExtSyncookiesSent'];

const skip = await integrationPrerequisites(['ip', 'tcpdump', 'hping3', 'nstat']);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-flood-'));

const listener = (port: number) => `
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('${SERVER_ADDR}', ${port}))
s.listen(${BACKLOG})
print('listening', flush=True)
time.sleep(60)
`;

async function counters(): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.fromEntries(COUNTERS.map((name) => [name, 0]));
  const nstat = await runInNetns(lab.serverNs, ['nstat', '-asz', ...COUNTERS]);
  for (const match of nstat.stdout.matchAll(/^(\w+)\s+(\d+)/gm)) out[match[1]!] = Number(match[2]);
  return out;
}

interface Burst {
  capture: string;
  port: number;
  /** The real kernel's counter deltas over the burst. */
  real: Record<string, number>;
}

/** One burst against a fresh listener with this syncookies setting, captured on the server side. */
async function burst(syncookies: 0 | 1, port: number): Promise<Burst> {
  const capture = join(dir, `flood-cookies${syncookies}.pcap`);
  await runInNetns(lab.serverNs, ['sysctl', '-qw', `net.ipv4.tcp_syncookies=${syncookies}`]);
  const server = await lab.inServer([PYTHON, '-c', listener(port)]);
  const tcpdump = await lab.capture(capture, ['tcp', 'port', String(port)]);
  const before = await counters();
  // -S SYN, spoofed source, one SYN per ms; hping3 counts source ports up from a random base.
  await runInNetns(lab.clientNs, ['hping3', '-q', '-S', '-a', SPOOFED, '-p', String(port), '-c', String(SYNS), '-i', 'u1000', SERVER_ADDR], { timeoutMs: 15_000, allowFailure: true });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await counters();
  await stop(tcpdump);
  await stop(server);
  return { capture, port, real: Object.fromEntries(COUNTERS.map((name) => [name, after[name]! - before[name]!])) };
}

let cookiesOff: Burst;
let cookiesOn: Burst;

beforeAll(async () => {
  if (skip) return;
  await lab.up();
  // The SYN-ACKs to the spoofed address leave through the client side, which does not
  // forward and owns no such address: they are dropped there, unanswered (no RST).
  await runInNetns(lab.serverNs, ['ip', 'route', 'add', 'default', 'via', lab.clientAddr]);
  cookiesOff = await burst(0, 8080);
  cookiesOn = await burst(1, 8081);
}, 60_000);

afterAll(async () => {
  if (!skip) await lab.down();
  rmSync(dir, { recursive: true, force: true });
});

function replay(b: Burst, kernel: string, syncookies: 0 | 1) {
  const server = detectServer(b.capture);
  expect(server).toEqual({ address: parseIpv4(SERVER_ADDR), port: b.port });
  return runReplay({
    capturePath: b.capture,
    server,
    kernel,
    sysctls: [`net.ipv4.tcp_syncookies=${syncookies}`],
    backlog: BACKLOG,
    acceptRate: 0,
    app: null,
    seed: 1,
    outPath: null,
    bucketMs: 1000,
  });
}

// The decision about each SYN (the flood warning is a note beside the first one the queue refused, §1.3).
const firstVerdicts = (result: ReturnType<typeof replay>) => result.connections.map((c) => c.emulatedVerdicts.find((v) => v !== 'FLOOD_WARNING'));
const repeat = <T>(value: T, n: number): T[] => Array.from({ length: n }, () => value);

describe.skipIf(skip !== undefined)('replay of a real spoofed SYN flood (host kernel listener, backlog 8, hping3 × 40)', () => {
  it('syncookies 0, the real kernel: 9 requests queued (§5.3, 6.13+: backlog + 1), 31 SYNs dropped', () => {
    expect(cookiesOff.real).toMatchObject({ TcpExtTCPReqQFullDrop: SYNS - 9, TcpExtListenDrops: SYNS - 9, TcpExtSyncookiesSent: 0 });
    const result = replay(cookiesOff, '6.x', 0);
    expect(result.summary.connections).toBe(SYNS);
    expect(result.connections.map((c) => c.real)).toEqual([...repeat('half-open', 9), ...repeat('dropped', SYNS - 9)]);
  });

  it('syncookies 0 through 6.x: the same 9 answered and 31 dropped, connection by connection, and the same counters', () => {
    const result = replay(cookiesOff, '6.x', 0);
    expect(result.connections.map((c) => c.emulated)).toEqual(result.connections.map((c) => c.real));
    expect(result.summary.diverged).toBe(0);
    expect(firstVerdicts(result)).toEqual([...repeat('SYN_QUEUED', 9), ...repeat('DROP_REQQ_FULL', SYNS - 9)]);
    for (const name of COUNTERS) expect(result.counters[name] ?? 0, name).toBe(cookiesOff.real[name]);
  });

  it('syncookies 0 through 3.10: a SYN queue of 16 (§5.2) answers 7 SYNs the real kernel dropped, drops the other 24 (§1.8)', () => {
    const result = replay(cookiesOff, '3.10', 0);
    expect(firstVerdicts(result)).toEqual([...repeat('SYN_QUEUED', 16), ...repeat('DROP_REQQ_FULL', SYNS - 16)]);
    expect(result.connections.map((c) => c.emulated)).toEqual([...repeat('half-open', 16), ...repeat('dropped', SYNS - 16)]);
    expect(result.summary.diverged).toBe(16 - 9);
    expect(result.counters).toMatchObject({ TcpExtTCPReqQFullDrop: SYNS - 16, TcpExtListenDrops: SYNS - 16 });
    expect(result.counters.TcpExtSyncookiesSent).toBeUndefined();
  });

  it('syncookies 1, the real kernel: 9 queued, 31 answered with a cookie; every SYN got a SYN-ACK', () => {
    expect(cookiesOn.real).toMatchObject({ TcpExtSyncookiesSent: SYNS - 9, TcpExtTCPReqQFullDoCookies: SYNS - 9, TcpExtTCPReqQFullDrop: 0 });
    const result = replay(cookiesOn, '6.x', 1);
    expect(result.connections.map((c) => c.real)).toEqual(repeat('half-open', SYNS));
  });

  it('syncookies 1 through 6.x: 9 queued and 31 cookies, the same counters, nothing diverged (§1.3)', () => {
    const result = replay(cookiesOn, '6.x', 1);
    expect(firstVerdicts(result)).toEqual([...repeat('SYN_QUEUED', 9), ...repeat('SYN_COOKIE', SYNS - 9)]);
    expect(result.connections.map((c) => c.emulated)).toEqual(repeat('half-open', SYNS));
    expect(result.summary.diverged).toBe(0);
    for (const name of COUNTERS) expect(result.counters[name] ?? 0, name).toBe(cookiesOn.real[name]);
  });

  it('syncookies 1 through 3.10: 16 queued, 24 cookies, each cookie also a ListenDrop on 3.10 (§1.8)', () => {
    const result = replay(cookiesOn, '3.10', 1);
    expect(firstVerdicts(result)).toEqual([...repeat('SYN_QUEUED', 16), ...repeat('SYN_COOKIE_LISTENDROP', SYNS - 16)]);
    expect(result.connections.map((c) => c.emulated)).toEqual(repeat('half-open', SYNS));
    expect(result.counters).toMatchObject({ TcpExtSyncookiesSent: SYNS - 16, TcpExtTCPReqQFullDoCookies: SYNS - 16, TcpExtListenDrops: SYNS - 16 });
    expect(result.summary.diverged).toBe(0);
  });
});

// `syndrop simulate` against the lab (issue 17): the same workload once with real clients and
// `syndrop run`, once in virtual time, must agree on the drop counts within a stated tolerance.
//
// The workload: 100 clients from sd-c3, one every 20 ms (50/s, uniform), each sending one SYN
// (connect() gives up at 0.9 s, before the first retransmit; `simulate --syn-retries 0`); the
// server is 6.x, backlog 8, accepting 10 connections a second, idle for a second before the
// first client (one second of accepts banked, as offline runs assume). The accept queue
// (backlog + 1 = 9) fills at once; from then on each SYN that finds it full is dropped (spec
// §1.2 D2: ListenOverflows and ListenDrops) and each accept() frees one slot, every 100 ms.
// Expected: 10 banked + 9 queued + ~2 s × 10/s ≈ 38 connected, the other ~62 SYNs dropped.
//
// Tolerance, and why: the simulation is exact in virtual time; the lab is not. The client's
// sleeps and the emulator's accept turns run on the wall clock, a few ms late at random, and
// a slot freed 100 ms apart goes to whichever SYN comes next, 20 ms apart. Lateness can move a
// slot only at the ends of the run (the first and the last accept turn while SYNs arrive) and
// one more where the accept loop's catch-up after a late turn lands past a SYN: ±1 each, so
// connected within ±4 of the simulation. Every client sends one SYN, so SYN drops are clients
// minus connected: the same ±4, written as ≤ 10 % of ~62. (Measured here: equal, 38 and 62.)
// Retransmits are left out on purpose: each one doubles the wall-clock lateness the tolerance
// has to cover. The client schedule itself is checked against this machine's kernel by
// client-syn-schedule.test.ts.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../src/assets.js';
import { EMULATED, cli, integrationPrerequisites, ns, runInNetns, startSyndrop, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', PYTHON]);

const CLIENTS = 100;
const GAP_MS = 20;
const BACKLOG = 8;
const ACCEPT_RATE = 10;

/**
 * One thread per client, started at its fixed time; connect() with a 0.9 s timeout, shorter
 * than the first SYN retransmit (1 s), so each client sends exactly one SYN and a dropped
 * client closes in SYN_SENT (which sends nothing). Prints "connected failed"; connected
 * sockets (ghosts included: they think they are connected) close with a RST at the end.
 */
const CLIENT_PROGRAM = `
import socket, struct, threading, time
start = time.monotonic()
results, held = [], []
def client(i):
    time.sleep(max(0, start + i * ${GAP_MS / 1000} - time.monotonic()))
    s = socket.socket()
    s.settimeout(0.9)
    try:
        s.connect(('${EMULATED}', 80))
        held.append(s)
        results.append(True)
    except OSError:
        s.close()
        results.append(False)
threads = [threading.Thread(target=client, args=(i,)) for i in range(${CLIENTS})]
for t in threads: t.start()
for t in threads: t.join()
print(results.count(True), results.count(False), flush=True)
for s in held:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
`;

interface SimulateJson {
  summary: { clients: number; connected: number; timedOut: number };
  counters: Record<string, number>;
}

let lab: { connected: number; failed: number; counters: Record<string, number> };
let simulated: SimulateJson;

beforeAll(async () => {
  if (skip) return;
  await testLabUp();
  const syndrop = await startSyndrop(['--kernel', '6.x', '--backlog', String(BACKLOG), '--accept-rate', String(ACCEPT_RATE), '--seed', '3']);
  try {
    // Offline runs assume an application idle in accept() for a second before the first client
    // (a full second of accepts banked, src/replay/offline-host.ts): give the live one that second.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const clients = await runInNetns(ns('c3'), [PYTHON, '-c', CLIENT_PROGRAM], { timeoutMs: 30_000 });
    const [connected, failed] = clients.stdout.trim().split(' ').map(Number);
    lab = { connected: connected!, failed: failed!, counters: await syndrop.stats() };
  } finally {
    await syndrop.stop();
  }
  const result = await cli([
    'simulate', '--kernel', '6.x', '--backlog', String(BACKLOG), '--accept-rate', String(ACCEPT_RATE),
    '--syn-rate', String(1000 / GAP_MS), '--clients', String(CLIENTS), '--arrivals', 'uniform', '--rtt', '1',
    '--syn-retries', '0', '--duration', '10', '--json',
  ], 60_000);
  if (result.code !== 0) throw new Error(`simulate exited ${result.code}: ${result.stderr}`);
  simulated = JSON.parse(result.stdout) as SimulateJson;
  console.info(`lab: ${lab.connected} connected, ListenDrops ${lab.counters.TcpExtListenDrops}; simulate: ${simulated.summary.connected} connected, ListenDrops ${simulated.counters.TcpExtListenDrops}`);
}, 90_000);

afterAll(async () => {
  if (!skip) await testLabDown();
});

describe.skipIf(skip !== undefined)(`simulate vs the lab: ${CLIENTS} clients at ${1000 / GAP_MS}/s, 6.x, backlog ${BACKLOG}, accept ${ACCEPT_RATE}/s`, () => {
  it('the lab run overflowed the accept queue: clients failed and SYNs were dropped (spec §1.2 D2)', () => {
    expect(lab.connected + lab.failed).toBe(CLIENTS);
    expect(lab.failed).toBeGreaterThan(20);
    expect(lab.counters.TcpExtListenOverflows).toBe(lab.counters.TcpExtListenDrops);
  });

  it('connected clients agree within ±4 (the ends of the run, see the header)', () => {
    expect(simulated.summary.clients).toBe(CLIENTS);
    expect(Math.abs(simulated.summary.connected - lab.connected), `lab ${lab.connected}, simulate ${simulated.summary.connected}`).toBeLessThanOrEqual(4);
  });

  it('SYN drops (TcpExtListenDrops) agree within 10 %', () => {
    const real = lab.counters.TcpExtListenDrops!;
    const virtual = simulated.counters.TcpExtListenDrops!;
    expect(Math.abs(virtual - real), `lab ${real}, simulate ${virtual}`).toBeLessThanOrEqual(Math.ceil(real * 0.1));
  });
});

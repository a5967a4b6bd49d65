// Replay of syndrop's own `run --pcap` output (issue 17): `syndrop run --kernel K --backlog 2
// --accept-rate 0 --pcap F` in the lab answers six real clients (the accept-overflow story,
// spec §1.1 C3 on 3.10, §1.2 D2 on 4.10+) and a bounded burst of spoofed SYNs; then
// `syndrop replay F` with the same profile and listener settings must decide every connection
// as the running emulator did (real == emulated, nothing diverged) and move the same counters
// `syndrop stats` showed. The capture holds the emulator's own replies, so "real" here is what
// the emulator did live, on the wall clock, and "emulated" what it does on the capture's clock.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_DIR, PYTHON } from '../../src/assets.js';
import { SPOOFED_PREFIX } from '../../src/lab/topology.js';
import { EMULATED, cli, integrationPrerequisites, ns, runInNetns, startSyndrop, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', PYTHON, join(BIN_DIR, 'sdgen')]);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-own-'));
const SEED = '7';
const SPOOFED_SYNS = 40;

/**
 * Six clients one after another, 0.5 s connect timeout each (shorter than the first SYN
 * retransmit: a dropped client sends one SYN and is closed, so no retransmit races the
 * server's timers). The connections stay open 1.5 s (past the ghosts' first SYN-ACK
 * retransmit, the capture's evidence of a ghost), then close with a RST (SO_LINGER 0), so no
 * FIN retransmits reach the next run.
 */
const CLIENTS = `
import socket, struct, time
held, results = [], []
for i in range(6):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(('${EMULATED}', 80))
        held.append(s)
        results.append('connected')
    except Exception as e:
        s.close()
        results.append(type(e).__name__)
print(' '.join(results), flush=True)
time.sleep(1.5)
for s in held:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
`;

interface ReplayJson {
  kernel: string;
  connections: Array<{ client: string; real: string; emulated: string; diverged: boolean }>;
  counters: Record<string, number>;
  summary: { connections: number; diverged: number; real: Record<string, number> };
  input: { midstream: number; malformed: number; stoppedAt: number | null };
}

interface LiveRun {
  pcap: string;
  clients: string[];
  stats: Record<string, number>;
}

/** The story against `syndrop run --kernel K`, recorded with --pcap; `stats` read at the end. */
async function liveRun(kernel: string): Promise<LiveRun> {
  const pcap = join(dir, `run-${kernel}.pcapng`);
  const syndrop = await startSyndrop(['--kernel', kernel, '--backlog', '2', '--accept-rate', '0', '--pcap', pcap, '--seed', SEED]);
  try {
    const clients = await runInNetns(ns('c3'), [PYTHON, '-c', CLIENTS], { timeoutMs: 20_000 });
    // Spoofed sources inside the lab's prefix: the SYN-ACKs are routed back into c3 and die there.
    await runInNetns(ns('c3'), [join(BIN_DIR, 'sdgen'), 'syn', '--dst', EMULATED, '--dport', '80', '--src-net', SPOOFED_PREFIX, '--count', String(SPOOFED_SYNS), '--seconds', '2', '--rate', '20000', '--rx', 'none'], { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { pcap, clients: clients.stdout.trim().split(' '), stats: await syndrop.stats() };
  } finally {
    await syndrop.stop(); // SIGTERM: the pcapng is flushed and closed
  }
}

async function replay(run: LiveRun, kernel: string): Promise<ReplayJson> {
  const result = await cli(['replay', run.pcap, '--kernel', kernel, '--backlog', '2', '--accept-rate', '0', '--seed', SEED, '--json'], 60_000);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ReplayJson;
}

/** The counters of the listen path, as both sides name them (nstat names). */
function listenCounters(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([name, value]) => value !== 0 && /^Tcp(Ext)?/.test(name)));
}

const runs: Record<string, LiveRun> = {};

beforeAll(async () => {
  if (skip) return;
  await testLabUp();
  for (const kernel of ['3.10', '6.x']) runs[kernel] = await liveRun(kernel);
}, 90_000);

afterAll(async () => {
  if (!skip) await testLabDown();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)('replay of syndrop run --pcap with the same profile reproduces the decisions', () => {
  it('3.10 live: 5 of 6 clients connected (two of them ghosts), one dropped (spec §1.1 C3)', () => {
    expect(runs['3.10']!.clients).toEqual(['connected', 'connected', 'connected', 'connected', 'connected', 'TimeoutError']);
  });

  it('6.x live: 3 connected, 3 dropped once the accept queue held 3 (spec §1.2 D2)', () => {
    expect(runs['6.x']!.clients).toEqual(['connected', 'connected', 'connected', 'TimeoutError', 'TimeoutError', 'TimeoutError']);
  });

  for (const kernel of ['3.10', '6.x']) {
    it(`--kernel ${kernel}: every connection real == emulated, none diverged; the counters are those syndrop stats showed`, async () => {
      const run = runs[kernel]!;
      const result = await replay(run, kernel);
      expect(result.input).toMatchObject({ midstream: 0, malformed: 0, stoppedAt: null });
      expect(result.summary.connections).toBe(6 + SPOOFED_SYNS);
      expect(result.connections.filter((c) => c.real !== c.emulated || c.diverged)).toEqual([]);
      expect(result.summary.diverged).toBe(0);
      expect(listenCounters(result.counters)).toEqual(listenCounters(run.stats));
      // The story is in the capture, not only the agreement: the six clients' outcomes.
      const clients = result.connections.filter((c) => c.client.startsWith('10.77.3.')).map((c) => c.real);
      expect(clients).toEqual(kernel === '3.10' ? ['established', 'established', 'established', 'ghost', 'ghost', 'dropped'] : ['established', 'established', 'established', 'dropped', 'dropped', 'dropped']);
    });
  }
});

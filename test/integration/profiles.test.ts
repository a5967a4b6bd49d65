// Issue 4 in the lab: the accept-queue SYN rule of 3.10 (young > 1) against 4.10+ (full
// alone), with real client kernels, asserting what the clients experienced, the SYN-ACKs
// sent and the counters (spec §1.1 C3, §1.2 D2, §1.5, §8a).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { EMULATED, ROOT, cliJson, integrationPrerequisites, ns, startSyndrop, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'python3']);
const OPEN = join(ROOT, 'test', 'tools', 'open-connections.py');

interface ClientState {
  state: string;
  error: string | null;
}

async function eightClients(kernel: string): Promise<{ clients: ClientState[]; counters: Record<string, number>; ss: { listeners: Array<{ acceptQueueLength: number; acceptQueueMax: number }> } }> {
  const syndrop = await startSyndrop(['--kernel', kernel, '--backlog', '4', '--accept-rate', '0', '--seed', '3']);
  try {
    // 8 connects 20 ms apart; observe at ~0.8 s, before the first retransmissions (1 s),
    // while the clients still hold their sockets open.
    const client = spawn('ip', ['netns', 'exec', ns('c3'), 'python3', OPEN, EMULATED, '80', '8', '20', '0.6'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const killer = setTimeout(() => client.kill('SIGKILL'), 15_000);
    try {
      const [line] = (await once(client.stdout!, 'data')) as [Buffer];
      const clients = JSON.parse(line.toString()) as ClientState[];
      const counters = await syndrop.stats();
      const ss = await cliJson<{ listeners: Array<{ acceptQueueLength: number; acceptQueueMax: number }> }>(['ss', '--json']);
      return { clients, counters, ss };
    } finally {
      client.stdin!.end();
      await once(client, 'exit');
      clearTimeout(killer);
    }
  } finally {
    await syndrop.stop();
  }
}

describe.skipIf(skip !== undefined)('accept-queue SYN rule with real clients (issue 4)', () => {
  beforeAll(async () => {
    await testLabUp();
  });
  afterAll(async () => {
    await testLabDown();
  });

  it('3.10: SYN-ACKs still go out while at most one young request waits; 7 of 8 clients think they are connected (spec §1.1 C3, §8a)', async () => {
    const { clients, counters, ss } = await eightClients('3.10');
    expect(clients.filter((c) => c.state === 'ESTAB')).toHaveLength(7);
    expect(clients.filter((c) => c.state === 'SYN_SENT')).toHaveLength(1);
    expect(ss.listeners[0]).toMatchObject({ acceptQueueLength: 5, acceptQueueMax: 4 });
    expect(counters.TcpPassiveOpens).toBe(5);
    expect(counters.SyndropTxSynAck).toBe(7);
    // Two third ACKs overflowed (ghost connections) and the 8th SYN met young = 2 > 1.
    expect(counters.TcpExtListenOverflows).toBe(3);
    expect(counters.TcpExtListenDrops).toBe(3);
  });

  it('4.10: every SYN is dropped once the accept queue holds backlog + 1 (spec §1.2 D2, note A)', async () => {
    const { clients, counters, ss } = await eightClients('4.10');
    expect(clients.filter((c) => c.state === 'ESTAB')).toHaveLength(5);
    expect(clients.filter((c) => c.state === 'SYN_SENT')).toHaveLength(3);
    expect(ss.listeners[0]).toMatchObject({ acceptQueueLength: 5, acceptQueueMax: 4 });
    expect(counters.TcpPassiveOpens).toBe(5);
    expect(counters.SyndropTxSynAck).toBe(5);
    expect(counters.TcpExtListenOverflows).toBe(3);
    expect(counters.TcpExtListenDrops).toBe(3);
  });
});

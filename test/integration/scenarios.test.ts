// Issue 6: every scenario end to end with real clients, against two kernels whose outcomes
// differ, through the CLI (`syndrop scenario run NAME --kernel K --json`). The verdict table
// must be all ✓ and the clients must have experienced what the spec says for that kernel.
// The runner brings the lab up itself and must take it down again (it was not up before).

import { afterAll, describe, expect, it } from 'vitest';
import { listNetns } from '../../src/lab/lab.js';
import { LAB_NODE_NAMES } from '../../src/lab/topology.js';
import { CLI, TEST_ENV, TEST_PREFIX, integrationPrerequisites, ns, run, runInNetns, testLabDown, testLabUp } from '../helpers/lab-fixture.js';
import { scenario } from '../helpers/scenario-cli.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'nft', 'curl']);

async function labNamespaces(): Promise<string[]> {
  const present = new Set(await listNetns());
  return LAB_NODE_NAMES.map((n) => `${TEST_PREFIX}-${n}`).filter((n) => present.has(n));
}

describe.skipIf(skip !== undefined)('scenarios end to end (issue 6)', () => {
  afterAll(async () => {
    await testLabDown();
  });

  it('scenario list names every scenario', async () => {
    const r = await run([process.execPath, CLI, 'scenario', 'list', '--json'], { env: TEST_ENV });
    const names = (JSON.parse(r.stdout) as Array<{ name: string }>).map((s) => s.name);
    expect(names).toEqual(['nat-paws', 'accept-overflow', 'abort-on-overflow', 'syn-flood', 'unproven-peer']);
  });

  it('accept-overflow: 3.10 lets 5 of 6 connect (2 ghosts in SYN-RECV), 6.x 3 of 6 (spec §8a, §1.1 C3 vs §1.2 D2)', async () => {
    const old = await scenario('accept-overflow', '3.10');
    expect(old.outcome.facts).toMatchObject({ connected: 5, ghosts: 2, recvQ: 3, sendQ: 2 });
    expect(old.outcome.facts.clients).toEqual(['connected', 'connected', 'connected', 'connected', 'connected', 'dropped']);
    const now = await scenario('accept-overflow', '6.x');
    expect(now.outcome.facts).toMatchObject({ connected: 3, ghosts: 0, recvQ: 3, sendQ: 2 });
    expect(now.outcome.facts.clients).toEqual(['connected', 'connected', 'connected', 'dropped', 'dropped', 'dropped']);
  });

  it('abort-on-overflow: 3.10 resets the clients after the queue filled, 6.x drops their SYNs; a held third ACK is reset on both (spec §3.1)', async () => {
    const old = await scenario('abort-on-overflow', '3.10');
    expect(old.outcome.facts).toMatchObject({ resets: 3, dropped: 0 });
    // 3.10 retransmits the held clients' SYN-ACKs in its prune walk's order, which follows the
    // SYN table's randomly keyed hash (spec §4.2): which one connects first varies by run.
    expect([...(old.outcome.facts.heldClients as string[])].sort()).toEqual(['connected', 'reset']);
    const now = await scenario('abort-on-overflow', '6.x');
    expect(now.outcome.facts).toMatchObject({ resets: 0, dropped: 3, heldClients: ['connected', 'reset'] });
  });

  it('nat-paws: 3.10 with tw_recycle=1 drops the NATed client with the older TS clock until tw_recycle=0; 6.x has no tw_recycle (spec §2.3, §2.5)', async () => {
    const old = await scenario('nat-paws', '3.10');
    expect(old.outcome.facts).toMatchObject({ twRecycle: true, c1: 'connected', c2: 'dropped', c2AfterRecycleOff: 'connected' });
    expect(old.outcome.facts.pawsDrops as number).toBeGreaterThanOrEqual(2); // the SYN and its retransmits
    const now = await scenario('nat-paws', '6.x');
    expect(now.outcome.facts).toMatchObject({ twRecycle: false, clients: ['connected', 'connected', 'connected'] });
  });

  it('syn-flood: syncookies 0 drops, 1 connects via cookie; 2 uses cookies on 6.x but acts as 1 on 3.10 (spec §1.3, §9b #118/#119)', async () => {
    const old = await scenario('syn-flood', '3.10');
    expect(old.outcome.facts).toMatchObject({ syncookies0: 'dropped', syncookies1: 'connected', syncookies2: 'connected', syncookies2ViaCookie: false, synQueueCapacity: 32 });
    const now = await scenario('syn-flood', '6.x');
    expect(now.outcome.facts).toMatchObject({ syncookies0: 'dropped', syncookies1: 'connected', syncookies2: 'connected', syncookies2ViaCookie: true, synQueueCapacity: 17 });
  });

  it('unproven-peer: a new peer is dropped everywhere; a peer with an RTT metric is proven on 6.x, not on 3.10 (spec §1.1 C8b, §1.2 D5\')', async () => {
    const old = await scenario('unproven-peer', '3.10');
    expect(old.outcome.facts).toMatchObject({ newPeer: 'dropped', knownPeer: 'dropped', halfOpen: 13 });
    const now = await scenario('unproven-peer', '6.x');
    expect(now.outcome.facts).toMatchObject({ newPeer: 'dropped', knownPeer: 'connected', halfOpen: 13 });
  });

  it('the lab the scenarios brought up is gone afterwards', async () => {
    expect(await labNamespaces()).toEqual([]);
  });

  it('a lab that was already up stays up, with the clients\' sysctls restored', async () => {
    await testLabUp();
    const before = (await runInNetns(ns('c3'), ['sysctl', '-n', 'net.ipv4.tcp_syn_retries'])).stdout.trim();
    await scenario('accept-overflow', '4.10');
    expect(await labNamespaces()).toHaveLength(LAB_NODE_NAMES.length);
    expect((await runInNetns(ns('c3'), ['sysctl', '-n', 'net.ipv4.tcp_syn_retries'])).stdout.trim()).toBe(before);
    await testLabDown();
    expect(await labNamespaces()).toEqual([]);
  });
});

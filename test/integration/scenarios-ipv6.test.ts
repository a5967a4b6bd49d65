// Issue 20: the scenarios over IPv6 (`syndrop scenario run NAME --family 6`): curl -6, IPv6
// sockets, a spoofed IPv6 SYN burst from c3, NAT66 for c1/c2. The listen-path rules are the same
// code for both families (spec §1), so accept-overflow and syn-flood must give the same verdicts
// as on IPv4 for 3.10 and 6.x — run here on both families, side by side.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationPrerequisites, testLabDown, testLabUp } from '../helpers/lab-fixture.js';
import { scenario } from '../helpers/scenario-cli.js';

const skip = await integrationPrerequisites(['ip', 'iptables', 'ip6tables', 'nft', 'curl', '/usr/bin/python3']);

describe.skipIf(skip !== undefined)('scenarios over IPv6 (issue 20)', () => {
  beforeAll(async () => {
    await testLabUp();
  }, 120_000);

  afterAll(async () => {
    await testLabDown();
  }, 120_000);

  it('accept-overflow: IPv6 gives the IPv4 verdicts — 3.10 5 of 6 (2 ghosts), 6.x 3 of 6 (spec §1.1 C3 vs §1.2 D2, §8a)', async () => {
    for (const [kernel, facts] of [
      ['3.10', { connected: 5, ghosts: 2, recvQ: 3, sendQ: 2, clients: ['connected', 'connected', 'connected', 'connected', 'connected', 'dropped'] }],
      ['6.x', { connected: 3, ghosts: 0, recvQ: 3, sendQ: 2, clients: ['connected', 'connected', 'connected', 'dropped', 'dropped', 'dropped'] }],
    ] as const) {
      const v4 = await scenario('accept-overflow', kernel, ['--family', '4']);
      const v6 = await scenario('accept-overflow', kernel, ['--family', '6']);
      expect([v4.family, v6.family]).toEqual([4, 6]);
      expect(v6.outcome.facts, kernel).toEqual(facts);
      expect(v6.outcome.facts, kernel).toEqual(v4.outcome.facts);
      expect(v6.rows.map((r) => r.expected)).toEqual(v4.rows.map((r) => r.expected));
    }
  }, 150_000);

  it('syn-flood: IPv6 gives the IPv4 verdicts — syncookies 0 drops, 1 connects via cookie, 2 uses cookies on 6.x only (spec §1.3, §9b #118/#119)', async () => {
    for (const [kernel, facts] of [
      ['3.10', { syncookies0: 'dropped', syncookies1: 'connected', syncookies2: 'connected', syncookies2ViaCookie: false, synQueueCapacity: 32 }],
      ['6.x', { syncookies0: 'dropped', syncookies1: 'connected', syncookies2: 'connected', syncookies2ViaCookie: true, synQueueCapacity: 17 }],
    ] as const) {
      const v4 = await scenario('syn-flood', kernel, ['--family', '4']);
      const v6 = await scenario('syn-flood', kernel, ['--family', '6']);
      expect(v6.outcome.facts, kernel).toEqual(facts);
      expect(v6.outcome.facts, kernel).toEqual(v4.outcome.facts);
      // The flood and the dropped client really were IPv6: the spoofed burst came from the
      // Python raw socket, the NATed client's SYNs from fd77:9::254 (NAT66).
      const observed = v6.rows.map((r) => `${r.step} ${r.observed}`).join('\n');
      expect(observed).toContain('spoofed_syn6.py');
      expect(observed).toMatch(/\d+ SYNs from fd77:9::254, \d+ dropped/);
      expect(v4.rows.map((r) => r.observed).join('\n')).toMatch(/\d+ SYNs from 10\.77\.9\.254, \d+ dropped/);
    }
  }, 150_000);

  it('the other scenarios run over IPv6 too: nat-paws (NAT66), abort-on-overflow (ip6tables ACK hold), unproven-peer (IPv6 tcp_metrics)', async () => {
    const paws = await scenario('nat-paws', '3.10', ['--family', '6']);
    expect(paws.outcome.facts).toMatchObject({ twRecycle: true, c1: 'connected', c2: 'dropped', c2AfterRecycleOff: 'connected' });
    expect(paws.rows[0]!.observed).toContain('tcp_metrics fd77:9::254: ts ');
    const abort = await scenario('abort-on-overflow', '6.x', ['--family', '6']);
    expect(abort.outcome.facts).toMatchObject({ resets: 0, dropped: 3, heldClients: ['connected', 'reset'] });
    const old = await scenario('unproven-peer', '3.10', ['--family', '6']);
    expect(old.outcome.facts).toMatchObject({ newPeer: 'dropped', knownPeer: 'dropped', halfOpen: 13 });
    const now = await scenario('unproven-peer', '6.x', ['--family', '6']);
    expect(now.outcome.facts).toMatchObject({ newPeer: 'dropped', knownPeer: 'connected', halfOpen: 13 });
    expect(now.rows[0]!.expected).toContain('fd77:3::2');
  }, 150_000);
});

// unproven-peer: tcp_syncookies=0, tcp_max_syn_backlog=16, listen(64). Spoofed half-open
// requests push the SYN queue into the last quarter of tcp_max_syn_backlog (16 − 13 = 3 < 4);
// from then on a SYN from a peer that is not "proven" is dropped — ListenDrops only, no
// TCPReqQFullDrop (the SYN queue itself is far from full). Which peers count as proven differs:
// 3.10 and 4.4–4.13 never prove anyone here (dst is NULL at the check), 4.14+ prove a peer that
// has an RTT in tcp_metrics, i.e. one that completed a connection before.
// Spec §1.1 C8b (and its notes), §1.2 D5/D5', §2.3, §9b #132, #133, §9a #23–#26.

import type { Profile } from '../../profiles/profile.js';
import { synQueueCapacity } from './accept-model.js';
import { listenSysctls } from './accept-overflow.js';
import type { CurlResult, ScenarioContext } from './context.js';
import { curlText, deltas } from './syn-flood.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const BACKLOG = 64;
const MAX_SYN_BACKLOG = 16;

export const unprovenPeer: Scenario = {
  name: 'unproven-peer',
  summary: 'syncookies off, SYN queue in the last quarter of tcp_max_syn_backlog: new peers dropped (ListenDrops only)',
  spec: '§1.1 C8b, §1.2 D5, §2.3, §9b #132–#133',
  async run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome> {
    const sw = profile.switches;
    await ctx.prepareClients(['c1', 'c3']);
    const connectTimeout = Math.min(ctx.timing.connectTimeout, 3);
    ctx.step(`starting the emulator: kernel ${profile.name}, backlog ${BACKLOG}, tcp_syncookies=0, tcp_max_syn_backlog=${MAX_SYN_BACKLOG}`);
    await ctx.startEmulator({
      kernel: profile.name,
      backlog: BACKLOG,
      sysctls: ['net.ipv4.tcp_syncookies=0', `net.ipv4.tcp_max_syn_backlog=${MAX_SYN_BACKLOG}`],
    });
    const sysctls = await listenSysctls(ctx);
    const cap = synQueueCapacity(sw, BACKLOG, sysctls);
    const quarter = MAX_SYN_BACKLOG >> 2;
    // The first qlen at which (max_syn_backlog − qlen) < max_syn_backlog/4: 13 for 16.
    const halfOpen = MAX_SYN_BACKLOG - quarter + 1;

    // 1. sd-c3 completes a connection: afterwards tcp_metrics holds its RTT.
    ctx.step('sd-c3 connects once (becomes a peer with an RTT metric)');
    const first = await ctx.curl('c3', { connectTimeout });
    const c3Address = ctx.clientAddress('c3');
    const metric = (await ctx.metrics()).find((m) => m.address === c3Address);
    ctx.check(
      'sd-c3 connects while the SYN queue is empty',
      `connects; the closed connection leaves an RTT in tcp_metrics for ${c3Address}`,
      `${curlText(first)}; tcp_metrics: ${metric ? metric.line : 'no entry'}`,
      first.outcome === 'connected' && metric !== undefined && metric.rttMs !== null,
      '§2.1, §2.3',
    );

    // 2. Half-open requests from spoofed sources, never completed.
    ctx.step(`${halfOpen} spoofed half-open SYNs from sd-c3`);
    let before = await ctx.counters();
    const flood = await ctx.spoofedSyns(halfOpen);
    let after = await ctx.counters();
    let d = deltas(before, after);
    const ss = await ctx.ss();
    ctx.check(
      `${halfOpen} spoofed SYNs (${flood.tool}) that never complete`,
      `all queued (the ${halfOpen}th arrives with qlen ${halfOpen - 1}: ${MAX_SYN_BACKLOG}−${halfOpen - 1} = ${MAX_SYN_BACKLOG - halfOpen + 1}, not < ${quarter}); SYN queue ${halfOpen}/${cap}`,
      `SYN queue ${ss.listeners[0]!.synQueueLength}/${ss.listeners[0]!.synQueueMax}; ListenDrops +${d('ListenDrops')}`,
      ss.listeners[0]!.synQueueLength === halfOpen && ss.listeners[0]!.synQueueMax === cap && d('ListenDrops') === 0,
      '§1.1 C8b, §5.2, §5.3, §9b #133',
    );

    // 3. A peer never seen before.
    ctx.step('sd-c1 (never seen) connects');
    before = await ctx.counters();
    const fresh = await ctx.curl('c1', { connectTimeout });
    after = await ctx.counters();
    d = deltas(before, after);
    ctx.check(
      `sd-c1 (a new peer) connects with qlen ${halfOpen}`,
      `dropped: ${MAX_SYN_BACKLOG}−${halfOpen} = ${MAX_SYN_BACKLOG - halfOpen} < ${quarter} and the peer is unproven; ListenDrops +1 per SYN, TCPReqQFullDrop +0`,
      `${curlText(fresh)}; ListenDrops +${d('ListenDrops')}, TCPReqQFullDrop +${d('TCPReqQFullDrop')}`,
      fresh.outcome === 'dropped' && d('ListenDrops') >= 1 && d('TCPReqQFullDrop') === 0,
      '§1.1 C8b, §1.2 D5, §9b #132',
    );

    // 4. The peer that connected in step 1.
    ctx.step('sd-c3 (has an RTT metric) connects again');
    before = await ctx.counters();
    const known = await ctx.curl('c3', { connectTimeout });
    after = await ctx.counters();
    d = deltas(before, after);
    const knownExpected = sw.unprovenPeerRule === 'rttMetric' ? 'connected' : 'dropped';
    ctx.check(
      'sd-c3 (connected before) connects again',
      sw.unprovenPeerRule === 'rttMetric'
        ? 'connects: tcp_peer_is_proven finds its RTT metric (4.14+)'
        : 'dropped too: the route (dst) is not looked up before the check, so no peer is proven; ListenDrops +1 per SYN',
      `${curlText(known)}; ListenDrops +${d('ListenDrops')}, TCPReqQFullDrop +${d('TCPReqQFullDrop')}`,
      known.outcome === knownExpected && d('TCPReqQFullDrop') === 0 && (knownExpected === 'connected' ? d('ListenDrops') === 0 : d('ListenDrops') >= 1),
      sw.unprovenPeerRule === 'rttMetric' ? '§1.2 D5\', §9a #25' : '§1.1 C8b notes, §9a #23',
    );
    await ctx.stopEmulator();

    const view = (r: CurlResult) => r.outcome;
    return {
      cell: `new peer ${view(fresh)}; known peer ${view(known)}`,
      facts: { newPeer: fresh.outcome, knownPeer: known.outcome, halfOpen },
    };
  },
};

// nat-paws: net.ipv4.tcp_tw_recycle=1 with two clients behind one NAT (sd-c1, sd-c2 appear as
// 10.77.9.254). The server closes first, so c1's connection ends in TIME_WAIT and leaves c1's
// last TSval in the per-host tcp_metrics entry; c2's SYN carries an older TS clock and is
// dropped by the per-host PAWS check until 60 s pass or tw_recycle is set to 0 live. 4.12+ have
// no tw_recycle: every client connects.
//
// Deterministic TS clocks (lab-feasibility §3): the clients use tcp_timestamps=2 (no random
// offset: TSval = the host's shared ms clock), and the NAT rewrites c2's SYN TSval to 1000 with
// nftables — zeroing the TSecr of the SYN-ACK going back, or c2's kernel would reject it.
// Spec §1.1 C8a, §1.2 D5, §2.2, §2.3, §2.5, §9b #122–#129, §8a.

import type { Profile } from '../../profiles/profile.js';
import type { CurlResult, ScenarioContext } from './context.js';
import { curlText, deltas } from './syn-flood.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const C2_TSVAL = 1000;
const NFT_TABLE = 'syndrop_scenario_ts';
/** TCP_PAWS_WINDOW and TCP_PAWS_MSL (spec §2.3). */
const PAWS_WINDOW = 1;
const PAWS_MSL_S = 60;

/** nft's table family and address match for the scenario's family (`ip` or `ip6`). */
function nftFamily(ctx: ScenarioContext): 'ip' | 'ip6' {
  return ctx.family === 4 ? 'ip' : 'ip6';
}

function nftRules(c2Address: string, family: 'ip' | 'ip6'): string {
  return `table ${family} ${NFT_TABLE} {
  chain fw {
    type filter hook forward priority mangle; policy accept;
    ${family} saddr ${c2Address} tcp flags & (syn|ack) == syn tcp option timestamp tsval set ${C2_TSVAL}
    ${family} daddr ${c2Address} tcp flags & (syn|ack) == (syn|ack) tcp option timestamp tsecr set 0
  }
}
`;
}

/** (s32)(a − b), as the kernel compares TS values. */
function s32diff(a: number, b: number): number {
  return ((a - b) | 0);
}

export const natPaws: Scenario = {
  name: 'nat-paws',
  summary: 'tcp_tw_recycle=1, two clients behind one NAT: the one with the older TS clock is dropped until tw_recycle=0 (≤ 4.11)',
  spec: '§1.1 C8a, §2.2, §2.3, §2.5, §9b #122–#129',
  async run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome> {
    const sw = profile.switches;
    const nat = ctx.natPublicAddress;
    const c2Address = ctx.clientAddress('c2');
    const family = nftFamily(ctx);
    await ctx.prepareClients(['c1', 'c2']);
    ctx.step('clients: tcp_timestamps=2 (shared ms clock); NAT rewrites c2\'s SYN TSval to 1000');
    await ctx.setNetnsSysctl('c1', 'net.ipv4.tcp_timestamps', '2');
    await ctx.setNetnsSysctl('c2', 'net.ipv4.tcp_timestamps', '2');
    await ctx.tryExec('nat', ['nft', 'delete', 'table', family, NFT_TABLE]);
    await ctx.exec('nat', ['nft', '-f', '-'], nftRules(c2Address, family));
    ctx.onCleanup(`remove nft table ${NFT_TABLE} in the NAT`, async () => {
      await ctx.tryExec('nat', ['nft', 'delete', 'table', family, NFT_TABLE]);
    });

    if (!sw.hasTwRecycle) {
      ctx.step(`starting the emulator: kernel ${profile.name} (no tcp_tw_recycle)`);
      await ctx.startEmulator({ kernel: profile.name });
      const recycle = await ctx.readSysctl('net.ipv4.tcp_tw_recycle');
      ctx.check(
        'net.ipv4.tcp_tw_recycle',
        'does not exist on this kernel (removed in 4.12): setting it is refused',
        recycle === undefined ? 'no such sysctl' : `exists (= ${recycle})`,
        recycle === undefined,
        '§2.5, §9b #129',
      );
      const results: CurlResult[] = [];
      for (const client of ['c1', 'c2', 'c1'] as const) {
        ctx.step(`curl from sd-${client}`);
        results.push(await ctx.curl(client));
      }
      const counters = await ctx.counters();
      ctx.check(
        'c1, c2 (TSval 1000, older clock), c1 again — same NAT address',
        'every curl connects: no per-host PAWS check on this kernel',
        `${results.map((r) => `${r.client}: ${r.outcome}`).join(', ')}; ListenDrops ${counters.TcpExtListenDrops ?? 0}`,
        results.every((r) => r.outcome === 'connected') && (counters.TcpExtListenDrops ?? 0) === 0,
        '§2.5, §9b #122 vs #126',
      );
      await ctx.stopEmulator();
      return {
        cell: 'all connect (no tw_recycle on this kernel)',
        facts: { twRecycle: false, clients: results.map((r) => r.outcome) },
      };
    }

    ctx.step(`starting the emulator: kernel ${profile.name}, tcp_tw_recycle=1`);
    await ctx.startEmulator({ kernel: profile.name, sysctls: ['net.ipv4.tcp_tw_recycle=1'] });

    // 1. c1 connects; the server closes first → TIME_WAIT → per-host TS entry.
    ctx.step('curl from sd-c1');
    let mark = (await ctx.events(Number.MAX_SAFE_INTEGER)).next;
    const c1 = await ctx.curl('c1');
    const c1Syn = (await ctx.events(mark)).events.find((e) => e.src.startsWith(ctx.endpointPrefix(nat)) && e.flags === 'S');
    const entry = (await ctx.metrics()).find((m) => m.address === nat);
    ctx.check(
      'sd-c1 connects (HTTP: the server closes first)',
      `connects; TIME_WAIT with tw_recycle writes ${nat}'s last TSval into tcp_metrics`,
      `${curlText(c1)}; c1's SYN TSval ${c1Syn?.tsval ?? '?'}; tcp_metrics ${nat}: ${entry?.tsval !== null && entry?.tsval !== undefined ? `ts ${entry.tsval}` : 'no TS entry'}`,
      c1.outcome === 'connected' && entry?.tsval !== null && entry?.tsval !== undefined,
      '§2.2, §9b #130',
    );

    // 2. c2, whose SYN carries TSval 1000, within 60 s.
    const cachedTs = entry?.tsval ?? 0;
    const diff = s32diff(cachedTs, C2_TSVAL);
    const fresh = (entry?.tsAgeSeconds ?? Infinity) < PAWS_MSL_S;
    const reject = fresh && diff > PAWS_WINDOW;
    ctx.step('curl from sd-c2 (SYN TSval 1000)');
    let before = await ctx.counters();
    mark = (await ctx.events(Number.MAX_SAFE_INTEGER)).next;
    const c2 = await ctx.curl('c2');
    let after = await ctx.counters();
    let d = deltas(before, after);
    const c2Syns = (await ctx.events(mark)).events.filter((e) => e.src.startsWith(ctx.endpointPrefix(nat)) && e.flags === 'S' && e.action !== 'note');
    const pawsDrops = c2Syns.filter((e) => e.verdict === 'DROP_PAWS_PASSIVE').length;
    ctx.check(
      `sd-c2 connects, SYN TSval ${C2_TSVAL}, same NAT address`,
      reject
        ? `dropped: (s32)(${cachedTs} − ${C2_TSVAL}) = ${diff} > ${PAWS_WINDOW} within ${PAWS_MSL_S} s; each SYN (and its retransmits) PAWSPassive +1, ListenDrops +1`
        : `connects: (s32)(${cachedTs} − ${C2_TSVAL}) = ${diff} ≤ ${PAWS_WINDOW} or entry older than ${PAWS_MSL_S} s`,
      `${curlText(c2)}; ${c2Syns.length} SYNs (TSval ${[...new Set(c2Syns.map((e) => e.tsval))].join(', ')}), ${pawsDrops} dropped by per-host PAWS; PAWSPassive +${d('PAWSPassive')}, ListenDrops +${d('ListenDrops')}`,
      reject
        ? c2.outcome === 'dropped' && c2Syns.length >= 2 && pawsDrops === c2Syns.length && d('PAWSPassive') === c2Syns.length && d('ListenDrops') === c2Syns.length
        : c2.outcome === 'connected',
      '§1.1 C8a, §1.2 D5, §2.3, §9b #122',
    );

    // 3. tw_recycle=0, live.
    ctx.step('syndrop sysctl net.ipv4.tcp_tw_recycle=0; curl from sd-c2');
    await ctx.setSysctl('net.ipv4.tcp_tw_recycle=0');
    before = await ctx.counters();
    const c2Again = await ctx.curl('c2');
    after = await ctx.counters();
    d = deltas(before, after);
    ctx.check(
      'syndrop sysctl net.ipv4.tcp_tw_recycle=0, then sd-c2 again',
      'connects: without tw_recycle the per-host PAWS check is not made',
      `${curlText(c2Again)}; PAWSPassive +${d('PAWSPassive')}`,
      c2Again.outcome === 'connected' && d('PAWSPassive') === 0,
      '§1.1 C8a, §9b #126',
    );
    await ctx.stopEmulator();

    return {
      cell: c2.outcome === 'dropped' && c2Again.outcome === 'connected' ? 'c2 dropped (PAWS) until tw_recycle=0' : `c1 ${c1.outcome}, c2 ${c2.outcome}, after recycle=0 ${c2Again.outcome}`,
      facts: { twRecycle: true, c1: c1.outcome, c2: c2.outcome, c2AfterRecycleOff: c2Again.outcome, pawsDrops },
    };
  },
};

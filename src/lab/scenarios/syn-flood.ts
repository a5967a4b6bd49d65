// syn-flood: a bounded burst of spoofed SYNs from sd-c3 (sources in the lab's spoofed prefix,
// routed back into sd-c3 and dropped there) fills the SYN queue; a legitimate curl from sd-c1
// (behind the NAT) then fails with tcp_syncookies=0 and connects through a cookie with 1.
// tcp_syncookies=2 sends cookies even without a flood — except on vanilla 3.10, where 2 acts
// as 1. Spec §1.1 C2/C10, §1.2 D1/D7, §1.3, §1.4, §5.2, §5.3, §9b #113–#119b.

import type { Profile } from '../../profiles/profile.js';
import { synQueueCapacity } from './accept-model.js';
import { listenSysctls } from './accept-overflow.js';
import type { CurlResult, ScenarioContext } from './context.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const BACKLOG = 16;
const FLOOD = 400;

export function curlText(r: CurlResult): string {
  switch (r.outcome) {
    case 'connected':
      return `HTTP ${r.httpCode} in ${r.totalMs} ms`;
    case 'dropped':
      return `no SYN-ACK: curl timed out after ${(r.totalMs / 1000).toFixed(1)} s (exit ${r.exitCode})`;
    case 'reset':
      return `connection reset (curl exit ${r.exitCode})`;
    case 'refused':
      return `connection refused (curl exit ${r.exitCode})`;
    default:
      return `curl exit ${r.exitCode}`;
  }
}

export function deltas(before: Record<string, number>, after: Record<string, number>) {
  return (name: string): number => (after[`TcpExt${name}`] ?? after[name] ?? 0) - (before[`TcpExt${name}`] ?? before[name] ?? 0);
}

export const synFlood: Scenario = {
  name: 'syn-flood',
  summary: 'spoofed SYN burst fills the SYN queue: syncookies 0 → a real client is dropped, 1 → it connects via a cookie, 2 → cookies always',
  spec: '§1.3, §1.4, §5.2, §9b #113–#119b',
  async run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome> {
    const sw = profile.switches;
    await ctx.prepareClients(['c1']);
    // The flood's requests live until the SYN-ACK retries run out (pruned from ~7 s): keep the
    // dropped client's wait shorter than that even with --real-timing.
    const connectTimeout = Math.min(ctx.timing.connectTimeout, 3);
    ctx.step(`starting the emulator: kernel ${profile.name}, backlog ${BACKLOG}, tcp_syncookies=2`);
    await ctx.startEmulator({ kernel: profile.name, backlog: BACKLOG, sysctls: ['net.ipv4.tcp_syncookies=2'] });
    const sysctls = await listenSysctls(ctx);
    const cap = synQueueCapacity(sw, BACKLOG, sysctls);

    // 1. tcp_syncookies=2, no flood.
    ctx.step('tcp_syncookies=2, no flood: curl from sd-c1');
    let before = await ctx.counters();
    const always = await ctx.curl('c1', { connectTimeout });
    let after = await ctx.counters();
    let d = deltas(before, after);
    ctx.check(
      'tcp_syncookies=2, empty queue: curl from sd-c1',
      sw.syncookiesAlwaysMode
        ? 'connects through a cookie: TCPReqQFullDoCookies +1, SyncookiesSent +1, SyncookiesRecv +1'
        : '2 acts as 1 on this kernel: normal SYN-ACK, no cookie (SyncookiesSent +0)',
      `${curlText(always)}; TCPReqQFullDoCookies +${d('TCPReqQFullDoCookies')}, SyncookiesSent +${d('SyncookiesSent')}, SyncookiesRecv +${d('SyncookiesRecv')}`,
      always.outcome === 'connected' &&
        (sw.syncookiesAlwaysMode
          ? d('TCPReqQFullDoCookies') === 1 && d('SyncookiesSent') === 1 && d('SyncookiesRecv') === 1
          : d('SyncookiesSent') === 0 && d('SyncookiesRecv') === 0),
      '§1.1 notes, §1.2 D1, §9b #118, #119',
    );
    const alwaysViaCookie = d('SyncookiesRecv') === 1;

    // 2. tcp_syncookies=0 and a flood.
    ctx.step(`tcp_syncookies=0; ${FLOOD} spoofed SYNs from sd-c3`);
    await ctx.setSysctl('net.ipv4.tcp_syncookies=0');
    before = await ctx.counters();
    const flood = await ctx.spoofedSyns(FLOOD);
    after = await ctx.counters();
    d = deltas(before, after);
    let ss = await ctx.ss();
    ctx.check(
      `tcp_syncookies=0: ${FLOOD} spoofed SYNs (${flood.tool}), never completed`,
      `SYN queue fills to ${cap} (${sw.synQueueSizing === 'pow2' ? '§5.2 power of two' : sw.synQueueFullCmp === '>' ? 'backlog + 1, §1.4' : 'backlog, §5.3'}); the other ${FLOOD - cap} dropped: TCPReqQFullDrop +${FLOOD - cap}`,
      `SYN queue ${ss.listeners[0]!.synQueueLength}/${ss.listeners[0]!.synQueueMax}; TCPReqQFullDrop +${d('TCPReqQFullDrop')}, ListenDrops +${d('ListenDrops')}`,
      ss.listeners[0]!.synQueueLength === cap && d('TCPReqQFullDrop') === FLOOD - cap && d('ListenDrops') === FLOOD - cap,
      '§1.3, §1.4, §5.2, §5.3',
    );

    ctx.step('tcp_syncookies=0, SYN queue full: curl from sd-c1');
    before = await ctx.counters();
    const mark = (await ctx.events(Number.MAX_SAFE_INTEGER)).next;
    const dropped = await ctx.curl('c1', { connectTimeout });
    after = await ctx.counters();
    d = deltas(before, after);
    const natSyns = (await ctx.events(mark)).events.filter((e) => e.src.startsWith(ctx.endpointPrefix(ctx.natPublicAddress)) && e.flags.includes('S') && !e.flags.includes('.') && e.action !== 'note');
    const droppedSyns = natSyns.filter((e) => e.reason === 'TCP_REQQFULLDROP').length;
    ctx.check(
      'tcp_syncookies=0, SYN queue full: curl from sd-c1',
      'no SYN-ACK, the client retransmits its SYN until it gives up; each SYN: TCPReqQFullDrop +1, ListenDrops +1',
      `${curlText(dropped)}; ${natSyns.length} SYNs from ${ctx.natPublicAddress}, ${droppedSyns} dropped (TCP_REQQFULLDROP); TCPReqQFullDrop +${d('TCPReqQFullDrop')}`,
      dropped.outcome === 'dropped' && natSyns.length >= 2 && droppedSyns === natSyns.length && d('TCPReqQFullDrop') === natSyns.length,
      '§1.3, §9b #113',
    );

    // 3. tcp_syncookies=1, live; refill the queue first (the requests age out from ~7 s).
    ctx.step('tcp_syncookies=1 (live); queue refilled; curl from sd-c1');
    await ctx.setSysctl('net.ipv4.tcp_syncookies=1');
    await ctx.spoofedSyns(cap + 50);
    before = await ctx.counters();
    const cookie = await ctx.curl('c1', { connectTimeout });
    after = await ctx.counters();
    d = deltas(before, after);
    ss = await ctx.ss();
    ctx.check(
      'syndrop sysctl net.ipv4.tcp_syncookies=1, SYN queue full: curl from sd-c1',
      `connects through a cookie: TCPReqQFullDoCookies +1, SyncookiesSent +1, SyncookiesRecv +1${sw.cookieCountsListenDrop ? ', ListenDrops +1 (this kernel counts each cookie as a listen drop)' : ', ListenDrops +0'}`,
      `${curlText(cookie)}; TCPReqQFullDoCookies +${d('TCPReqQFullDoCookies')}, SyncookiesSent +${d('SyncookiesSent')}, SyncookiesRecv +${d('SyncookiesRecv')}, ListenDrops +${d('ListenDrops')}; SYN queue ${ss.listeners[0]!.synQueueLength}/${ss.listeners[0]!.synQueueMax}`,
      cookie.outcome === 'connected' &&
        d('TCPReqQFullDoCookies') === 1 &&
        d('SyncookiesSent') === 1 &&
        d('SyncookiesRecv') === 1 &&
        d('ListenDrops') === (sw.cookieCountsListenDrop ? 1 : 0),
      '§1.1 C10, §1.2 D7, §3.4, §9b #114, #117',
    );
    await ctx.stopEmulator();

    const view = (r: CurlResult, viaCookie: boolean) => (r.outcome === 'connected' ? (viaCookie ? 'via cookie' : 'connected') : r.outcome);
    const cell = `0: ${view(dropped, false)} · 1: ${view(cookie, true)} · 2: ${view(always, alwaysViaCookie)}`;
    return {
      cell,
      facts: {
        syncookies0: dropped.outcome,
        syncookies1: cookie.outcome,
        syncookies2: always.outcome,
        syncookies2ViaCookie: alwaysViaCookie,
        synQueueCapacity: cap,
      },
    };
  },
};

// accept-overflow: listen(fd, 2), the application never calls accept(), six clients connect
// one after another from sd-c3. 3.10 (and 4.4/4.9 as released) still answers SYNs while at most
// one young request is pending, so two more clients complete their handshake into a full accept
// queue and become "ghosts"; 4.10+ drops every SYN once the accept queue holds 3.
// Spec §1.1 C3, §1.2 D2 (note A), §1.5, §3.1 R10, §3.2, §5.5; measured in §8 and §8a.

import type { Profile } from '../../profiles/profile.js';
import { clientView, describeFates, predictSequentialConnects, type ListenSysctls, type SequentialPrediction } from './accept-model.js';
import { sleep, type ScenarioContext, type SocketClientResult } from './context.js';
import type { Scenario, ScenarioOutcome } from './types.js';

export const BACKLOG = 2;
export const CLIENTS = 6;
/** Shorter than the first SYN retransmit (1 s): each dropped client sends exactly one SYN. */
export const CONNECT_TIMEOUT_S = 0.5;

export async function listenSysctls(ctx: ScenarioContext): Promise<ListenSysctls> {
  return {
    syncookies: (await ctx.readSysctl('net.ipv4.tcp_syncookies')) ?? 1,
    somaxconn: (await ctx.readSysctl('net.core.somaxconn')) ?? 128,
    maxSynBacklog: (await ctx.readSysctl('net.ipv4.tcp_max_syn_backlog')) ?? 1024,
    abortOnOverflow: (await ctx.readSysctl('net.ipv4.tcp_abort_on_overflow')) ?? 0,
  };
}

export function ruleText(profile: Profile): string {
  return profile.switches.synDropRule === 'young'
    ? 'SYN dropped on a full accept queue only while young > 1 (§1.1 C3)'
    : 'SYN dropped whenever the accept queue is full (§1.2 D2)';
}

/** Observed client view per client, from the socket client's connect + probe. */
export function observedViews(results: readonly SocketClientResult[]): string[] {
  return results.map((r) => (r.connect === 'connected' ? (r.probe === 'reset' ? 'reset' : 'connected') : r.connect));
}

export function summarizeViews(views: readonly string[]): string {
  const count = (v: string) => views.filter((x) => x === v).length;
  const parts = [`${count('connected')}/${views.length} connected`];
  if (count('reset') > 0) parts.push(`${count('reset')} reset`);
  if (count('dropped') > 0) parts.push(`${count('dropped')} dropped`);
  const other = views.length - count('connected') - count('reset') - count('dropped');
  if (other > 0) parts.push(`${other} other`);
  return parts.join(', ');
}

/** Clients 1..n: connect, then probe whether each open connection was reset. */
export async function connectSequentially(ctx: ScenarioContext, n: number, holdSeconds = 0): Promise<{ results: SocketClientResult[]; finished: Promise<void> }> {
  return ctx.holdingSocketClient(
    'c3',
    [
      { op: 'connect', count: n, timeout: CONNECT_TIMEOUT_S },
      { op: 'sleep', seconds: 0.05 },
      { op: 'probe' },
    ],
    holdSeconds,
  );
}

/** The server-side picture: which client ports sit in SYN-RECV, the listener's queues. */
export async function serverPicture(ctx: ScenarioContext): Promise<{ recvQ: number; sendQ: number; synRecvPorts: number[] }> {
  const ss = await ctx.ss();
  const listener = ss.listeners[0]!;
  return {
    recvQ: listener.acceptQueueLength,
    sendQ: listener.acceptQueueMax,
    synRecvPorts: ss.sockets.filter((s) => s.state === 'SYN-RECV').map((s) => s.peerPort),
  };
}

export function expectedViewsText(prediction: SequentialPrediction): string {
  return summarizeViews(prediction.fates.map(clientView));
}

export const acceptOverflow: Scenario = {
  name: 'accept-overflow',
  summary: 'listen(2), app never accepts, 6 clients: 3.10 answers 2 more SYNs ("ghosts"), 4.10+ drops them',
  spec: '§1.1 C3, §1.2 D2, §1.5, §3.2, §8a',
  async run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome> {
    await ctx.prepareClients(['c3']);
    ctx.step(`starting the emulator: kernel ${profile.name}, backlog ${BACKLOG}, accept-rate 0`);
    await ctx.startEmulator({ kernel: profile.name, backlog: BACKLOG, acceptRate: 0 });
    const sysctls = await listenSysctls(ctx);
    const prediction = predictSequentialConnects(profile.switches, BACKLOG, sysctls, CLIENTS);
    const before = await ctx.counters();

    ctx.step(`${CLIENTS} clients connect one after another from sd-c3 (${CONNECT_TIMEOUT_S} s timeout each)`);
    // The clients keep their connections open while the server is observed.
    const { results, finished } = await connectSequentially(ctx, CLIENTS, 2.5);
    const views = observedViews(results);
    const expectedViews = prediction.fates.map(clientView);
    ctx.check(
      `${CLIENTS} clients connect, app never accepts (${ruleText(profile)})`,
      `${expectedViewsText(prediction)} [${describeFates(prediction.fates)}]`,
      `${summarizeViews(views)} [${views.map((v, i) => `${i + 1} ${v}`).join(', ')}]`,
      views.every((v, i) => v === expectedViews[i]),
      '§1.1 C3, §1.2 D2, §1.5',
    );

    const after = await ctx.counters();
    const picture = await serverPicture(ctx);
    const ghostPorts = results.filter((_, i) => prediction.fates[i] === 'ghost').map((r) => r.port).sort();
    ctx.check(
      'server queues (ss -lnt, ss state syn-recv)',
      `Recv-Q ${prediction.acceptQueue}, Send-Q ${prediction.maxAckBacklog}; SYN-RECV ${prediction.synRecv}${prediction.synRecv > 0 ? ' (the ghosts: clients think they are connected)' : ''}`,
      `Recv-Q ${picture.recvQ}, Send-Q ${picture.sendQ}; SYN-RECV ${picture.synRecvPorts.length}`,
      picture.recvQ === prediction.acceptQueue &&
        picture.sendQ === prediction.maxAckBacklog &&
        JSON.stringify([...picture.synRecvPorts].sort()) === JSON.stringify(ghostPorts),
      '§5.5, §3.2',
    );

    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    ctx.check(
      'counters after the connects (one SYN per client)',
      `ListenOverflows +${prediction.listenOverflows}, ListenDrops +${prediction.listenDrops}, TCPReqQFullDoCookies +${prediction.reqQFullDoCookies}`,
      `ListenOverflows +${delta('TcpExtListenOverflows')}, ListenDrops +${delta('TcpExtListenDrops')}, TCPReqQFullDoCookies +${delta('TcpExtTCPReqQFullDoCookies')}`,
      delta('TcpExtListenOverflows') === prediction.listenOverflows &&
        delta('TcpExtListenDrops') === prediction.listenDrops &&
        delta('TcpExtTCPReqQFullDoCookies') === prediction.reqQFullDoCookies,
      '§1.8, §3.1 R10',
    );

    ctx.step('waiting for the first SYN-ACK retransmit (1 s)');
    await sleep(1700);
    const later = await ctx.counters();
    const ghosts = prediction.fates.filter((f) => f === 'ghost').length;
    const moreOverflows = (later.TcpExtListenOverflows ?? 0) - (after.TcpExtListenOverflows ?? 0);
    ctx.check(
      '1.7 s later: SYN-ACK retransmits for SYN-RECV requests',
      ghosts > 0
        ? `${ghosts} SYN-ACKs retransmitted, each client re-ACKs, each ACK overflows again: ListenOverflows +${ghosts}`
        : 'nothing pending: ListenOverflows +0',
      `ListenOverflows +${moreOverflows}, TcpRetransSegs +${(later.TcpRetransSegs ?? 0) - (after.TcpRetransSegs ?? 0)}`,
      moreOverflows === ghosts,
      '§3.2, §4.1, §8a',
    );
    await ctx.stopEmulator();
    await finished;

    const connected = views.filter((v) => v === 'connected').length;
    return {
      cell: `${connected}/${CLIENTS} connected${ghosts > 0 ? ` (${ghosts} ghost${ghosts > 1 ? 's' : ''})` : ''}, ${views.filter((v) => v === 'dropped').length} dropped`,
      facts: { clients: views, connected, ghosts: picture.synRecvPorts.length, recvQ: picture.recvQ, sendQ: picture.sendQ },
    };
  },
};

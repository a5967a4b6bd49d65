// abort-on-overflow: accept-overflow with net.ipv4.tcp_abort_on_overflow=1. A third ACK that
// finds the accept queue full is answered with a RST ("connection reset by peer") instead of
// being dropped. Where the third ACK overflows depends on the kernel: on 3.10 (young rule) the
// clients after the queue filled still get a SYN-ACK, so their ACKs overflow and they are reset;
// on 4.10+ their SYNs are dropped first (they hang), so part two produces third-ACK overflows on
// every kernel with the ACK-hold technique (lab-feasibility §4b): hold the clients' ACKs while
// two handshakes start, release them, and let the SYN-ACK retransmit bring them in together.
// Spec §3.1 (listen_overflow, embryonic_reset), §9b #110, §8 "Third ACK with the accept queue full".

import type { Profile } from '../../profiles/profile.js';
import { clientView, describeFates, predictSequentialConnects } from './accept-model.js';
import { BACKLOG, CLIENTS, connectSequentially, listenSysctls, observedViews, ruleText, summarizeViews } from './accept-overflow.js';
import type { ScenarioContext } from './context.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const ABORT = 'net.ipv4.tcp_abort_on_overflow=1';
const HELD = 2;

function ackHoldRule(ctx: ScenarioContext, verb: '-I' | '-D'): string[] {
  return [
    ctx.iptables, '-w', '5', verb, 'OUTPUT', '-p', 'tcp', '-d', ctx.emulatedHost, '--dport', '80',
    '--tcp-flags', 'SYN,ACK,FIN,RST,PSH', 'ACK', '-m', 'comment', '--comment', 'syndrop-scenario-ack-hold', '-j', 'DROP',
  ];
}

export const abortOnOverflow: Scenario = {
  name: 'abort-on-overflow',
  summary: 'as accept-overflow with tcp_abort_on_overflow=1: an overflowing third ACK gets a RST ("connection reset")',
  spec: '§3.1 listen_overflow, §9b #110, §8',
  async run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome> {
    await ctx.prepareClients(['c3']);

    // Part one: clients one after another, as in accept-overflow.
    ctx.step(`starting the emulator: kernel ${profile.name}, backlog ${BACKLOG}, accept-rate 0, ${ABORT}`);
    await ctx.startEmulator({ kernel: profile.name, backlog: BACKLOG, acceptRate: 0, sysctls: [ABORT] });
    const sysctls = await listenSysctls(ctx);
    const prediction = predictSequentialConnects(profile.switches, BACKLOG, sysctls, CLIENTS);
    let before = await ctx.counters();
    ctx.step(`${CLIENTS} clients connect one after another from sd-c3`);
    const { results, finished } = await connectSequentially(ctx, CLIENTS, 0.3);
    const views = observedViews(results);
    const expected = prediction.fates.map(clientView);
    ctx.check(
      `${CLIENTS} clients connect, app never accepts (${ruleText(profile)})`,
      `${summarizeViews(expected)} [${describeFates(prediction.fates)}]`,
      `${summarizeViews(views)} [${views.map((v, i) => `${i + 1} ${v}`).join(', ')}]`,
      views.every((v, i) => v === expected[i]),
      '§1.1 C3, §1.2 D2, §3.1',
    );
    let after = await ctx.counters();
    let delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    ctx.check(
      'counters after the connects',
      `EmbryonicRsts +${prediction.embryonicRsts}, ListenOverflows +${prediction.listenOverflows}, ListenDrops +${prediction.listenDrops}`,
      `EmbryonicRsts +${delta('TcpExtEmbryonicRsts')}, ListenOverflows +${delta('TcpExtListenOverflows')}, ListenDrops +${delta('TcpExtListenDrops')} (TcpOutRsts +${delta('TcpOutRsts')})`,
      delta('TcpExtEmbryonicRsts') === prediction.embryonicRsts &&
        delta('TcpExtListenOverflows') === prediction.listenOverflows &&
        delta('TcpExtListenDrops') === prediction.listenDrops &&
        delta('TcpOutRsts') >= prediction.embryonicRsts,
      '§3.1, §1.8',
    );
    await ctx.stopEmulator();
    await finished;

    // Part two: the ACK-hold technique, so the third ACK overflows on every kernel.
    ctx.step('restarting the emulator; ACK-hold: prefill, hold the clients\' ACKs, release them');
    await ctx.startEmulator({ kernel: profile.name, backlog: BACKLOG, acceptRate: 0, sysctls: [ABORT] });
    ctx.onCleanup('remove the ACK-hold rule in sd-c3', async () => {
      for (let i = 0; i < 5 && (await ctx.tryExec('c3', ackHoldRule(ctx, '-D'))) === 0; i++);
    });
    before = await ctx.counters();
    const max = prediction.maxAckBacklog;
    const holding = await ctx.holdingSocketClient('c3', [
      { op: 'connect', count: max, timeout: 0.5 },
      { op: 'cmd', argv: ackHoldRule(ctx, '-I') },
      { op: 'connect', count: HELD, timeout: 0.5 },
      { op: 'sleep', seconds: 0.3 },
      { op: 'cmd', argv: ackHoldRule(ctx, '-D') },
      // The first SYN-ACK retransmit comes ~1 s after the SYN (3.10: on the next 200 ms tick).
      { op: 'sleep', seconds: 1.8 },
      { op: 'probe' },
    ], 0.3);
    const held = holding.results;
    after = await ctx.counters();
    delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    const heldViews = observedViews(held.slice(max));
    // acc = backlog after the prefill (not full: §1.5 is `>`); the released ACKs arrive together:
    // the first makes acc = backlog + 1, every later one overflows → RST (§3.1 listen_overflow).
    const heldExpected = Array.from({ length: HELD }, (_, i) => (i === 0 ? 'connected' : 'reset'));
    // 3.10 retransmits on its prune walk's ticks, bucket by bucket (§4.2): which held client's
    // SYN-ACK comes back first follows the SYN table's hash, not the connect order, so only
    // how many connect is the kernel's rule there. 4.4+ retransmit 1 s after each SYN, in order.
    const walkOrder = profile.switches.synackTimer === 'listener200ms';
    const asSeen = walkOrder ? [...heldViews].sort() : heldViews;
    const asExpected = walkOrder ? [...heldExpected].sort() : heldExpected;
    ctx.check(
      `prefill ${max}, ${HELD} handshakes with their third ACK held, then released`,
      `${walkOrder ? `one connected, ${HELD - 1} reset (in the prune walk's order)` : heldExpected.join(', ')}: the first ACK fills the queue (${max + 1}), the next overflows → RST`,
      `${heldViews.join(', ')} (prefill: ${summarizeViews(observedViews(held.slice(0, max)))})`,
      asSeen.length === asExpected.length && asSeen.every((v, i) => v === asExpected[i]),
      '§3.1 R10, listen_overflow, §4.2, §8',
    );
    ctx.check(
      'counters for the released ACKs',
      `EmbryonicRsts +${HELD - 1}, ListenOverflows +${HELD - 1}, TcpOutRsts ≥ +${HELD - 1}`,
      `EmbryonicRsts +${delta('TcpExtEmbryonicRsts')}, ListenOverflows +${delta('TcpExtListenOverflows')}, TcpOutRsts +${delta('TcpOutRsts')}`,
      delta('TcpExtEmbryonicRsts') === HELD - 1 && delta('TcpExtListenOverflows') === HELD - 1 && delta('TcpOutRsts') >= HELD - 1,
      '§3.1, §9b #110',
    );
    await ctx.stopEmulator();
    await holding.finished;

    const resets = views.filter((v) => v === 'reset').length;
    const dropped = views.filter((v) => v === 'dropped').length;
    const first = [resets > 0 ? `${resets} reset` : '', dropped > 0 ? `${dropped} dropped` : ''].filter(Boolean).join(', ') || 'none refused';
    return {
      cell: `after 3 queued: ${first}; held ACK: ${heldViews.filter((v) => v === 'reset').length} reset`,
      facts: { clients: views, resets, dropped, heldClients: heldViews },
    };
  },
};

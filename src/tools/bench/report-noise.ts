// The parts of the bench report that say how far to trust a number: per-round ratios with
// their spread, the CPU-time ratio, the latency section, and what the machine was doing.

import { renderTable } from '../../observe/table.js';
import { LATENCY_SERVERS, type LatencySection } from './latency.js';
import type { MachineWindow } from './machine.js';
import type { Spread, TunSection } from './tun.js';

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
const ratio = (s: Spread | null) => (s === null ? '-' : `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)}, spread ${pct(s.spread)})`);

export function renderMachine(what: string, m: MachineWindow): string {
  return (
    `machine during ${what}: ${m.busyPercent}% of all CPUs busy (the bench included), steal ${m.stealPercent}%, ` +
    `load ${m.loadAvgStart[0]!.toFixed(2)} → ${m.loadAvgEnd[0]!.toFixed(2)} over ${m.seconds.toFixed(0)} s`
  );
}

function trust(noisy: string | null): string {
  return noisy === null ? 'spread within bounds' : `NOISY (${noisy}): treat these ratios as a range, not a figure`;
}

export function renderTunRatios(tun: TunSection): string[] {
  const r = tun.ratios;
  const cpu = tun.cpuNsPerSynAck;
  const ns = (v: number | null) => (v === null ? '-' : v.toFixed(0));
  return [
    `per-round ratios to the reflector, median (min–max, spread): throughput cookie ${ratio(r.throughput)}, queued ${ratio(r.queuedThroughput)}; ` +
      `CPU per SYN-ACK cookie ${ratio(r.cpu)}, queued ${ratio(r.queuedCpu)}, Node reflector (addon + loop, no stack) ${ratio(r.nodeCpu)}`,
    `CPU ns per SYN-ACK (median): reflector ${ns(cpu.reflector)}, Node reflector ${ns(cpu.nodeReflector)}, syndrop cookie ${ns(cpu.syndrop)}, queued ${ns(cpu.syndropQueued)} — ` +
      'process CPU ÷ SYN-ACKs, less sensitive to a neighbour than throughput',
    `${renderMachine('the TUN section', tun.machine)}; throughput: ${trust(tun.noisy.throughput)}; CPU: ${trust(tun.noisy.cpu)}`,
  ];
}

export function renderLatency(section: LatencySection | { skipped: true; reason: string }): string[] {
  const out = ['6. latency at low load (single probes, round trip from kernel timestamps at the client)'];
  if (section.skipped) return [...out, `skipped: ${section.reason}`];
  const rows: string[][] = [['server', 'probe', ...Array.from({ length: section.rounds }, (_, i) => `p50 r${i + 1}`), 'p10 µs', 'p50 µs', 'p99 µs', 'max µs', 'lost', 'CPU µs/probe']];
  for (const server of LATENCY_SERVERS) {
    for (const probe of ['syn', 'ping'] as const) {
      const figure = probe === 'syn' ? section.syn[server] : section.ping[server];
      if (figure === undefined) continue;
      const runs = section.runs.filter((r) => r.server === server && r.probe === probe);
      const cpu = runs.map((r) => r.cpuUsPerProbe).filter((c): c is number => c !== null);
      rows.push([
        server,
        probe,
        ...runs.map((r) => r.stats.p50_us.toFixed(1)),
        figure.p10_us.toFixed(1),
        figure.p50_us.toFixed(1),
        figure.p99_us.toFixed(1),
        figure.max_us.toFixed(0),
        String(figure.lost),
        cpu.length > 0 ? cpu.map((c) => c.toFixed(0)).join('/') : '-',
      ]);
    }
  }
  const r = section.ratios;
  return [
    ...out,
    renderTable(rows, { align: rows[0]!.map((_, i) => (i < 2 ? 'left' : 'right')) }),
    `syndrop ÷ reflector per round, median (min–max, spread): cookie p10 ${ratio(r.p10)}, p50 ${ratio(r.p50)}, p99 ${ratio(r.p99)}; queued p50 ${ratio(r.queuedP50)}, p99 ${ratio(r.queuedP99)}; Node reflector p50 ${ratio(r.nodeP50)}`,
    `${section.rounds} interleaved rounds, ${section.countPerRun} probes per run at ${section.rate}/s. ${section.method}`,
    `${renderMachine('the latency section', section.machine)}; ${trust(section.noisy)}`,
  ];
}

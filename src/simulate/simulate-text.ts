// `syndrop simulate` for people and spreadsheets: one run's summary and series, the grid
// of several runs (kernels × a swept setting) as one table, and CSV of the series.

import { renderTable } from '../observe/table.js';
import { ms } from '../replay/replay-text.js';
import type { SimulateResult } from './simulate-result.js';
import { clientClockPerConnection } from './workload.js';


const LISTEN_COUNTERS = ['TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPReqQFullDrop', 'TcpExtTCPReqQFullDoCookies', 'TcpExtSyncookiesSent', 'TcpExtSyncookiesRecv', 'TcpExtEmbryonicRsts', 'TcpExtPAWSPassive', 'TcpPassiveOpens'];

export function renderSimulation(result: SimulateResult): string {
  const s = result.summary;
  const set = result.settings;
  const drops = Object.entries(result.dropsByReason).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
  const counters = LISTEN_COUNTERS.filter((name) => result.counters[name] !== undefined).map((name) => `${name} ${result.counters[name]}`).join(', ') || 'none';
  const rows = result.series.buckets.map((b) => [
    `${b.t / 1000}`,
    String(b.synsIn),
    String(b.synAcks),
    String(b.cookies),
    String(b.established),
    Object.entries(b.drops).map(([reason, n]) => `${reason} ${n}`).join(', ') || '0',
    `${b.synQueueMax}/${b.synQueueEnd}`,
    `${b.acceptQueueMax}/${b.acceptQueueEnd}`,
  ]);
  return [
    `kernel ${result.kernel} (${result.kernelDescription})`,
    `workload: ${set.synRate} SYN/s ${set.arrivals} for ${set.durationMs / 1000} s, RTT ${set.rttMs} ms, client ${set.clientKernel} (tcp_syn_retries ${set.synRetries})${set.floodRate > 0 ? `, spoofed flood ${set.floodRate} SYN/s` : ''}${set.nat === null ? '' : `, behind NAT ${natWords(set.nat, set.clientKernel)}`}; backlog ${set.backlog}, accept ${set.acceptRate}; seed ${set.seed}`,
    '',
    renderTable(rows, { head: ['t (s)', 'SYNs in', 'SYN-ACKs', 'cookies', 'established', 'drops', 'SYN queue max/end', 'accept queue max/end'], rule: true }),
    '',
    `clients ${s.clients}: ${s.connected} connected (${s.ghosts} of them ghosts), ${s.reset} reset, ${s.timedOut} timed out → ${s.failedPercent}% failed`,
    `connect latency (retransmits included): p50 ${ms(s.connectMs.p50)}, p99 ${ms(s.connectMs.p99)}, max ${ms(s.connectMs.max)}`,
    `SYNs: ${s.syns.legitimate} legitimate (with retransmits), ${s.syns.flood} spoofed; drops by reason: ${drops}`,
    `counters: ${counters}`,
    `last client answered at ${ms(result.endMs)} (virtual)`,
    '',
  ].join('\n');
}

/** One row per run: `label` names the grid cell (kernel, swept value). */
export function renderGrid(runs: Array<{ label: string; result: SimulateResult }>): string {
  const rows = runs.map(({ label, result }) => {
    const s = result.summary;
    return [
      label,
      String(s.clients),
      `${s.failedPercent}%`,
      String(s.ghosts),
      ms(s.connectMs.p50),
      ms(s.connectMs.p99),
      ms(s.connectMs.max),
      String(result.counters.TcpExtListenOverflows ?? 0),
      String(result.counters.TcpExtListenDrops ?? 0),
      String(result.counters.TcpExtSyncookiesSent ?? 0),
    ];
  });
  return `${renderTable(rows, { head: ['run', 'clients', 'failed', 'ghosts', 'p50', 'p99', 'max', 'ListenOverflows', 'ListenDrops', 'SyncookiesSent'], rule: true, align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] })}\n`;
}

/** The series as CSV, one line per bucket and run (drop reasons as columns). */
export function seriesCsv(runs: Array<{ label: string; result: SimulateResult }>): string {
  const reasons = [...new Set(runs.flatMap(({ result }) => result.series.buckets.flatMap((b) => Object.keys(b.drops))))].sort();
  const lines = [['run', 't_ms', 'syns_in', 'synacks', 'cookies', 'established', ...reasons.map((r) => `drop_${r}`), 'synq_max', 'synq_end', 'acceptq_max', 'acceptq_end'].join(',')];
  for (const { label, result } of runs) {
    for (const b of result.series.buckets) {
      lines.push([label, b.t, b.synsIn, b.synAcks, b.cookies, b.established, ...reasons.map((r) => b.drops[r] ?? 0), b.synQueueMax, b.synQueueEnd, b.acceptQueueMax, b.acceptQueueEnd].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "2:4" → "2 addresses × 4 hosts, each host its own timestamp clock" (4.10 clients: each connection). */
function natWords(nat: string, clientKernel: string): string {
  const [groups, hosts] = nat.split(':').map(Number) as [number, number];
  const clock = clientClockPerConnection(clientKernel) ? 'each connection' : 'each host';
  return `${groups} address${groups === 1 ? '' : 'es'} × ${hosts} host${hosts === 1 ? '' : 's'}, ${clock} its own timestamp clock; the server closes first`;
}

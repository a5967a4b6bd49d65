// `syndrop replay` for people: the input accounting, one row per connection (real vs
// emulated), the summary, the counters that moved and explain's findings; with several
// kernels, one summary table side by side.

import { renderExplain } from '../observe/explain.js';
import { renderTable } from '../observe/table.js';
import { OUTCOMES } from './outcome.js';
import type { LatencySummary, ReplayResult } from './replay-result.js';

/** Names of the link types link-layer.ts reads (tcpdump.org registry numbers). */
const LINK_NAMES: Record<number, string> = { 0: 'null', 1: 'Ethernet', 12: 'raw', 101: 'raw', 108: 'loop', 113: 'Linux cooked', 228: 'IPv4', 229: 'IPv6', 276: 'Linux cooked v2' };

/** Milliseconds for people: `12 ms`, `1.50 s`, `42 s`; — for none. */
export function ms(value: number | null): string {
  if (value === null) return '—';
  return value >= 1000 ? `${(value / 1000).toFixed(value >= 10_000 ? 0 : 2)} s` : `${value} ms`;
}

function latencyText(l: LatencySummary): string {
  return l.count === 0 ? 'none' : `p50 ${ms(l.p50)}, p99 ${ms(l.p99)}, max ${ms(l.max)} (${l.count})`;
}

export function renderInput(result: ReplayResult): string {
  const i = result.input;
  const links = i.linkTypes.map((t) => LINK_NAMES[t] ?? `link type ${t}`).join(', ');
  const skipped = [
    i.ipv6Skipped > 0 ? `${i.ipv6Skipped} IPv6 with extension headers skipped` : '',
    i.fragments > 0 ? `${i.fragments} fragments skipped` : '',
    i.otherSkipped > 0 ? `${i.otherSkipped} non-IP skipped` : '',
    i.malformed > 0 ? `${i.malformed} malformed` : '',
    i.midstream > 0 ? `${i.midstream} segments of connections begun before the capture` : '',
    i.snapped > 0 ? `${i.snapped} cut by the snap length` : '',
  ].filter((s) => s !== '');
  const lines = [
    `capture: ${i.format}, ${links || 'no interfaces'}, ${i.packets} packets over ${ms(i.durationMs)}: ${i.clientSegments} client segments fed, ${i.serverSegments} server segments read${skipped.length > 0 ? `; ${skipped.join(', ')}` : ''}`,
  ];
  if (i.synthesized !== undefined) lines.push(`--complete-handshakes: ${i.synthesized} client ACKs synthesized for SYN-ACKs the real server never sent`);
  if (i.stoppedAt !== null) lines.push(`capture: stopped at byte ${i.stoppedAt}: ${i.stopReason} — everything before it was replayed`);
  return `${lines.join('\n')}\n`;
}

/** The per-connection rows, at most `limit` (the rest summarised in one line). */
export function renderConnections(result: ReplayResult, limit: number): string {
  const rows = result.connections.slice(0, limit).map((c) => [
    c.client,
    String(c.syns),
    c.real,
    ms(c.realConnectMs),
    c.emulated,
    ms(c.emulatedConnectMs),
    c.diverged ? 'diverged' : '',
  ]);
  const table = renderTable(rows, { head: ['client', 'SYNs', 'real server', 'connect', `kernel ${result.kernel}`, 'connect', ''], rule: true });
  const more = result.connections.length > limit ? `… ${result.connections.length - limit} more connections (--all or --json)\n` : '';
  return `${table}\n${more}${detailNote(result)}`;
}

/** The memory bound, said where the rows stop (connection-table.ts). */
export function detailNote(result: ReplayResult): string {
  return result.detail.note === null ? '' : `${result.detail.note} (--detail N)\n`;
}

export function renderSummary(result: ReplayResult): string {
  const s = result.summary;
  const counts = (record: Record<string, number>) => OUTCOMES.filter((o) => record[o]! > 0).map((o) => `${record[o]} ${o}`).join(', ') || 'none';
  const drops = Object.entries(s.emulatedDropsByReason).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none';
  const counters = Object.entries(result.counters)
    .filter(([name]) => name.startsWith('TcpExt') || /^Tcp(PassiveOpens|AttemptFails|OutRsts|RetransSegs)$/.test(name))
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  return [
    `server ${result.server}, kernel ${result.kernel} (${result.kernelDescription}); backlog ${result.settings.backlog}, accept ${result.settings.acceptRate}, app ${result.settings.app}`,
    `connections: ${s.connections}; real server: ${counts(s.real)}; kernel ${result.kernel}: ${counts(s.emulated)}; ${s.diverged} diverged (open loop: see --help)`,
    `time to establish (first SYN → handshake done, retransmits included): real ${latencyText(s.realConnectMs)}; kernel ${result.kernel} ${latencyText(s.emulatedConnectMs)}`,
    `segments dropped or reset by kernel ${result.kernel}: ${drops}`,
    `counters that would move: ${counters || 'none'}`,
    '',
  ].join('\n');
}

export function renderReplay(result: ReplayResult, limit: number): string {
  return [renderInput(result), renderConnections(result, limit), renderSummary(result), renderExplain(result.findings, result.kernel)].join('\n');
}

/** `--kernels a,b,c`: the same capture, one column per kernel. */
export function renderSideBySide(results: ReplayResult[]): string {
  const first = results[0]!;
  const row = (label: string, value: (r: ReplayResult) => string) => [label, ...results.map(value)];
  const listenCounter = (name: string) => (r: ReplayResult) => String(r.counters[name] ?? 0);
  const rows = [
    row('real server (capture)', () => OUTCOMES.filter((o) => first.summary.real[o] > 0).map((o) => `${first.summary.real[o]} ${o}`).join(', ')),
    ...OUTCOMES.map((o) => row(o, (r) => String(r.summary.emulated[o]))),
    row('diverged from the capture', (r) => String(r.summary.diverged)),
    row('connect p50 / max', (r) => `${ms(r.summary.emulatedConnectMs.p50)} / ${ms(r.summary.emulatedConnectMs.max)}`),
    row('ListenOverflows', listenCounter('TcpExtListenOverflows')),
    row('ListenDrops', listenCounter('TcpExtListenDrops')),
    row('TCPReqQFullDrop', listenCounter('TcpExtTCPReqQFullDrop')),
    row('SyncookiesSent', listenCounter('TcpExtSyncookiesSent')),
    row('findings', (r) => r.findings.map((f) => f.id).join(', ') || 'none'),
  ];
  return `${renderInput(first)}${detailNote(first)}server ${first.server}, ${first.summary.connections} connections; backlog ${first.settings.backlog}, accept ${first.settings.acceptRate}\n\n${renderTable(rows, { head: ['', ...results.map((r) => `kernel ${r.kernel}`)], rule: true })}\n`;
}

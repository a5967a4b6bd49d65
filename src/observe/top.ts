// `syndrop top`: one screen of live rates, redrawn every second from two samples. Pure:
// (previous sample, current sample, terminal width) in, screen text out; the CLI clears
// the screen and prints it.

import { endpointText } from './endpoint-text.js';
import { formatFixed1 } from './format.js';
import type { ListenerSnapshot } from './ss.js';

export interface TopSample {
  /** Monotonic time of the sample, ms. */
  timeMs: number;
  /** Cumulative counters, nstat names. */
  counters: Record<string, number>;
  /** Cumulative drops per kernel drop reason. */
  dropsByReason: Record<string, number>;
  listeners: ListenerSnapshot[];
  /** Cumulative SYNs per peer address (bounded by the producer: top N). */
  peers: { peer: string; syns: number }[];
  /**
   * Cumulative SYNs received and SYN-ACKs sent, when the producer counts them. The nstat
   * catalogue has neither (Linux has no such MIB); without them SYN/s falls back to the sum
   * over `peers` and SYN-ACK/s shows "-".
   */
  synIn?: number;
  synAckOut?: number;
}

const TOP_PEERS = 10;

function perSecond(now: number | undefined, before: number | undefined, seconds: number): number | null {
  if (now === undefined || seconds <= 0) return null;
  const delta = now - (before ?? 0);
  return delta < 0 ? now / seconds : delta / seconds; // a restart: count from zero
}

function rateText(rate: number | null): string {
  return rate === null ? '-' : formatFixed1(rate);
}

/** `[#####     ] 5/10`: fill rounded to the nearest cell, a non-empty queue shows at least one. */
export function fillBar(length: number, max: number, cells = 10): string {
  let filled = max > 0 ? Math.round((Math.min(length, max) / max) * cells) : 0;
  if (length > 0 && filled === 0) filled = 1;
  return `[${'#'.repeat(filled)}${' '.repeat(cells - filled)}] ${length}/${max}`;
}

function fit(line: string, width: number): string {
  return width > 0 && line.length > width ? line.slice(0, width) : line;
}

export function renderTop(prev: TopSample, cur: TopSample, width: number): string {
  const seconds = (cur.timeMs - prev.timeMs) / 1000;
  const sumPeers = (s: TopSample) => s.peers.reduce((acc, p) => acc + p.syns, 0);
  const synRate = cur.synIn !== undefined ? perSecond(cur.synIn, prev.synIn, seconds) : perSecond(sumPeers(cur), sumPeers(prev), seconds);
  const synAckRate = perSecond(cur.synAckOut, prev.synAckOut, seconds);
  const counterRate = (name: string) => perSecond(cur.counters[name], prev.counters[name], seconds);

  const lines: string[] = [];
  lines.push(`syndrop top  interval ${seconds > 0 ? seconds.toFixed(1) : '-'}s`);
  lines.push('');
  lines.push(
    `SYN in ${rateText(synRate).padStart(9)}/s   SYN-ACK out ${rateText(synAckRate).padStart(9)}/s   cookies ${rateText(counterRate('TcpExtSyncookiesSent')).padStart(7)}/s`,
  );
  lines.push(
    `ListenOverflows ${rateText(counterRate('TcpExtListenOverflows')).padStart(7)}/s   ListenDrops ${rateText(counterRate('TcpExtListenDrops')).padStart(7)}/s`,
  );

  lines.push('');
  lines.push('Drops/s by reason');
  const reasons = Object.keys(cur.dropsByReason)
    .map((reason) => ({ reason, rate: perSecond(cur.dropsByReason[reason], prev.dropsByReason[reason], seconds) ?? 0 }))
    .filter((r) => r.rate > 0)
    .sort((a, b) => b.rate - a.rate || (a.reason < b.reason ? -1 : 1));
  if (reasons.length === 0) lines.push('  (none)');
  const reasonWidth = Math.max(24, ...reasons.map((r) => r.reason.length + 2));
  for (const r of reasons) lines.push(`  ${r.reason.padEnd(reasonWidth)}${formatFixed1(r.rate).padStart(9)}`);

  lines.push('');
  lines.push('Listeners');
  if (cur.listeners.length === 0) lines.push('  (none)');
  const cells = width >= 100 ? 20 : 10;
  const names = cur.listeners.map((l) => endpointText(l.localAddress, l.localPort));
  const nameWidth = Math.max(0, ...names.map((n) => n.length));
  const acceptBars = cur.listeners.map((l) => fillBar(l.acceptQueueLength, l.acceptQueueMax, cells));
  const barWidth = Math.max(0, ...acceptBars.map((b) => b.length));
  cur.listeners.forEach((l, i) => {
    lines.push(
      `  ${names[i]!.padEnd(nameWidth)}  accept ${acceptBars[i]!.padEnd(barWidth)}   syn ${fillBar(l.synQueueLength, l.synQueueMax, cells)}`,
    );
  });

  lines.push('');
  lines.push('Top talkers (SYN/s)');
  const before = new Map(prev.peers.map((p) => [p.peer, p.syns]));
  const talkers = cur.peers
    .map((p) => ({ peer: p.peer, rate: perSecond(p.syns, before.get(p.peer), seconds) ?? 0 }))
    .filter((p) => p.rate > 0)
    .sort((a, b) => b.rate - a.rate || (a.peer < b.peer ? -1 : 1))
    .slice(0, TOP_PEERS);
  if (talkers.length === 0) lines.push('  (none)');
  const peerWidth = Math.max(24, ...talkers.map((t) => t.peer.length + 2));
  for (const t of talkers) lines.push(`  ${t.peer.padEnd(peerWidth)}${formatFixed1(t.rate).padStart(9)}`);

  return lines.map((l) => fit(l, width)).join('\n') + '\n';
}

// The counters a diagnosis judges: the change between two readings (what the kernel is doing
// now, with a rate) or, from one reading, the totals since boot (what it has done).

import type { CounterValues } from './parse-counters.js';
import type { HostReading } from './reading.js';

export interface CounterWindow {
  /** Deltas over the interval, or totals when read once. */
  counts: CounterValues;
  totals: CounterValues;
  intervalSeconds: number | null;
  /** True when `counts` are deltas: a finding is a current drop only if its counter moved. */
  isDelta: boolean;
}

export function counterWindow(reading: HostReading): CounterWindow | null {
  const latest = reading.second ?? reading.first;
  if (latest === null) return null;
  if (reading.first === null || reading.second === null) return { counts: latest, totals: latest, intervalSeconds: null, isDelta: false };
  const counts: CounterValues = {};
  for (const [name, value] of Object.entries(reading.second)) counts[name] = value - (reading.first[name] ?? 0);
  return { counts, totals: reading.second, intervalSeconds: reading.intervalSeconds, isDelta: true };
}

export const count = (window: CounterWindow, name: string): number => window.counts[name] ?? 0;
export const total = (window: CounterWindow, name: string): number => window.totals[name] ?? 0;

/**
 * What a finding reports: the change when the counter moved during the interval, else the
 * total (drops that happened earlier, reported as info).
 */
export function observed(window: CounterWindow, name: string): number {
  const moved = count(window, name);
  return moved > 0 ? moved : total(window, name);
}

function perSecond(window: CounterWindow, value: number): string {
  return window.intervalSeconds ? `${(value / window.intervalSeconds).toFixed(1)}/s` : '';
}

/** `TcpExtListenOverflows +6 in 1 s (6.0/s), 9 in all` or `TcpExtListenOverflows = 9 since boot`. */
export function counterEvidence(window: CounterWindow, names: string[]): string {
  return names
    .map((name) =>
      window.isDelta
        ? `${name} +${count(window, name)}${window.intervalSeconds ? ` in ${window.intervalSeconds} s (${perSecond(window, count(window, name))})` : ' between the readings'}, ${total(window, name)} in all`
        : `${name} = ${total(window, name)} since boot`,
    )
    .join(', ');
}

/** The finding's rate line: only a two-reading window where the counter moved has one. */
export function rateOf(window: CounterWindow, name: string): string | null {
  if (!window.isDelta || !window.intervalSeconds || count(window, name) === 0) return null;
  return `${name} ${perSecond(window, count(window, name))} over ${window.intervalSeconds} s`;
}

/** The counter values a finding about `name` quotes: the interval's when it moved, else the totals. */
export function valuesFor(window: CounterWindow, name: string): CounterValues {
  return window.isDelta && count(window, name) > 0 ? window.counts : window.totals;
}

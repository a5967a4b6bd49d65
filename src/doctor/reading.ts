// What doctor read from a host (live) or a bundle, before any judgement. Every part may be
// missing: `notes` says, one line each, what could not be read and why.

import type { CounterValues } from './parse-counters.js';
import type { FloodLine } from './parse-kernel-log.js';
import type { ListenerLine } from './parse-ss.js';
import type { TcpMetricEntry } from './parse-tcp-metrics.js';
import type { OsRelease } from './host-profile.js';

export interface HostReading {
  /** 'live', 'live (netns NAME)' or 'bundle DIR'. */
  source: string;
  kernelRelease: string | null;
  osRelease: OsRelease | null;
  /** Counter totals (nstat names) at the first reading. */
  first: CounterValues | null;
  /** The second reading, `intervalSeconds` later; null when counters were read once. */
  second: CounterValues | null;
  intervalSeconds: number | null;
  listeners: ListenerLine[] | null;
  sysctls: Record<string, number> | null;
  floodLines: FloodLine[] | null;
  tcpMetrics: TcpMetricEntry[] | null;
  notes: string[];
}

export function emptyReading(source: string): HostReading {
  return {
    source,
    kernelRelease: null,
    osRelease: null,
    first: null,
    second: null,
    intervalSeconds: null,
    listeners: null,
    sysctls: null,
    floodLines: null,
    tcpMetrics: null,
    notes: [],
  };
}

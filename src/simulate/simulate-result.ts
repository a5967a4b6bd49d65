// The result of one simulation as plain data: what the clients experienced (connected,
// ghost, reset, timed out, connect latency with retransmit delays), what the server counted,
// and the time series. Text, CSV and grid tables render from this; so will the report.

import { counterSnapshot, dropsByReason } from '../observe/snapshot.js';
import type { OfflineHost } from '../replay/offline-host.js';
import type { RunRecording } from '../report/recording.js';
import { latency, type LatencySummary } from '../replay/connection-table.js';
import type { Series } from '../replay/series.js';
import type { SimulateOptions } from './simulate.js';

/** Per-client arrays, by arrival order (outcome: 0 pending, 1 connected, 2 reset, 3 timed out). */
export interface ClientOutcomes {
  outcome: number[];
  connectMs: Array<number | null>;
  serverEstablished: boolean[];
}

export interface SimulateSummary {
  clients: number;
  /** The client's connect() returned: it got a SYN-ACK. */
  connected: number;
  /** Connected in the client's eyes, but the server never created the connection (spec §3.2). */
  ghosts: number;
  reset: number;
  timedOut: number;
  /** Clients whose connect() failed (reset or timed out), in % of all clients. */
  failedPercent: number;
  connectMs: LatencySummary;
  syns: { legitimate: number; flood: number };
}

export interface SimulateResult {
  kernel: string;
  kernelDescription: string;
  settings: {
    backlog: number;
    acceptRate: number | 'at once';
    synRate: number;
    floodRate: number;
    durationMs: number;
    rttMs: string;
    clientKernel: string;
    synRetries: number;
    arrivals: string;
    seed: number;
    sysctls: readonly string[];
    /** `ADDRESSES:HOSTS` behind NAT (--nat), or null. */
    nat: string | null;
  };
  summary: SimulateSummary;
  dropsByReason: Record<string, number>;
  counters: Record<string, number>;
  /** Virtual ms when the last client had its answer. */
  endMs: number;
  series: Series;
  /** Queues and decisions in virtual time for the HTML report, when asked for (not in --json). */
  recording: RunRecording | null;
}

export function buildSimulateResult(
  offline: OfflineHost,
  options: SimulateOptions,
  clients: ClientOutcomes,
  syns: { legitimate: number; flood: number },
  series: Series,
  endMs: number,
): SimulateResult {
  const host = offline.host;
  const count = (code: number) => clients.outcome.filter((o) => o === code).length;
  const connected = count(1);
  const reset = count(2);
  const timedOut = count(3);
  const ghosts = clients.outcome.filter((o, i) => o === 1 && !clients.serverEstablished[i]).length;
  return {
    kernel: host.profile.name,
    kernelDescription: host.profile.description,
    settings: {
      backlog: options.backlog,
      acceptRate: options.acceptRate === Infinity ? 'at once' : options.acceptRate,
      synRate: options.synRate,
      floodRate: options.floodRate,
      durationMs: options.durationMs,
      rttMs: options.rttMinMs === options.rttMaxMs ? `${options.rttMinMs}` : `${options.rttMinMs}-${options.rttMaxMs}`,
      clientKernel: options.clientKernel,
      synRetries: options.synRetries,
      arrivals: options.arrivals,
      seed: options.seed,
      sysctls: options.sysctls,
      nat: options.nat === undefined || options.nat === null ? null : `${options.nat.groups}:${options.nat.hosts}`,
    },
    summary: {
      clients: clients.outcome.length,
      connected,
      ghosts,
      reset,
      timedOut,
      failedPercent: clients.outcome.length === 0 ? 0 : Math.round(((reset + timedOut) / clients.outcome.length) * 10000) / 100,
      connectMs: latency(clients.connectMs.map((v) => (v === null ? null : Math.round(v * 10) / 10))),
      syns,
    },
    dropsByReason: dropsByReason(host),
    counters: Object.fromEntries(Object.entries(counterSnapshot(host)).filter(([, value]) => value !== 0)),
    endMs: Math.round(endMs),
    series,
    recording: null,
  };
}

/** The `--json` shape: everything but the report's recording. */
export function simulateJson(result: SimulateResult): Omit<SimulateResult, 'recording'> {
  const { recording: _recording, ...json } = result;
  return json;
}

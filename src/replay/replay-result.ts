// The result of one replay as plain data: per connection what the real server did and
// what the emulated kernel did, a summary, the counters that moved, `explain`'s findings,
// and the time series. `replayJson` gives the issue's `--json` shape.

import { explain, type Problem } from '../observe/explain.js';
import { counterSnapshot, dropsByReason, hostExplainInput } from '../observe/snapshot.js';
import type { RunRecording } from '../report/recording.js';
import type { ConnectionTable, LatencySummary, ReplayConnection } from './connection-table.js';
import type { OfflineHost } from './offline-host.js';
import type { Outcome } from './outcome.js';
import type { ReplayInput, ReplayOptions } from './replay.js';
import type { Series } from './series.js';
import { endpointToString } from './server-endpoint.js';

export interface ReplaySummary {
  connections: number;
  real: Record<Outcome, number>;
  emulated: Record<Outcome, number>;
  diverged: number;
  /** Emulated decisions that dropped or reset a segment, by reason (every segment, not per connection). */
  emulatedDropsByReason: Record<string, number>;
  realConnectMs: LatencySummary;
  emulatedConnectMs: LatencySummary;
}

export type { LatencySummary, ReplayConnection } from './connection-table.js';

/** How many connections have a row; the rest are only in the summary (issue 17's memory bound). */
export interface ReplayDetail {
  limit: number;
  kept: number;
  counted: number;
  /** Followed connections concluded before their end because the table of live ones was full. */
  concludedEarly: number;
  /** Said in the output and the JSON when any connection has no row. */
  note: string | null;
}

export interface ReplayResult {
  server: string;
  kernel: string;
  kernelDescription: string;
  settings: { backlog: number; acceptRate: number | 'at once'; app: string; sysctls: readonly string[] };
  input: ReplayInput;
  /** The first `detail.limit` connections (in first-SYN order); `summary` counts all of them. */
  connections: ReplayConnection[];
  detail: ReplayDetail;
  summary: ReplaySummary;
  /** Counters that moved, nstat names (only those this kernel has). */
  counters: Record<string, number>;
  findings: Problem[];
  series: Series;
  /** Queues and decisions on the capture's clock for the HTML report, when asked for (not in --json). */
  recording: RunRecording | null;
}

export function buildReplayResult(
  offline: OfflineHost,
  options: ReplayOptions,
  input: ReplayInput,
  table: ConnectionTable,
  series: Series,
  startWallMs: number,
): ReplayResult {
  const host = offline.host;
  const connections = table.finish();
  const tally = table.tally;
  const counters = Object.fromEntries(Object.entries(counterSnapshot(host)).filter(([, value]) => value !== 0));
  const findings = explain(hostExplainInput(host, startWallMs));
  return {
    server: endpointToString(options.server),
    kernel: host.profile.name,
    kernelDescription: host.profile.description,
    settings: {
      backlog: options.backlog,
      acceptRate: options.acceptRate === Infinity ? 'at once' : options.acceptRate,
      app: options.app ?? 'none (accept and hold)',
      sysctls: options.sysctls,
    },
    input,
    connections,
    detail: detailOf(table, connections.length),
    summary: {
      connections: tally.connections,
      real: tally.real,
      emulated: tally.emulated,
      diverged: tally.diverged,
      emulatedDropsByReason: dropsByReason(host),
      realConnectMs: tally.realConnectMs.summary(),
      emulatedConnectMs: tally.emulatedConnectMs.summary(),
    },
    counters,
    findings,
    series,
    recording: null,
  };
}

function detailOf(table: ConnectionTable, kept: number): ReplayDetail {
  const counted = table.tally.connections - kept;
  const notes = [
    counted > 0 ? `detail kept for the first ${table.detailLimit} connections; the rest are counted` : '',
    table.concludedEarly > 0 ? `${table.concludedEarly} connections were concluded early: ${table.liveLimit} were being followed at once and their client had been silent the longest` : '',
  ].filter((n) => n !== '');
  return { limit: table.detailLimit, kept, counted, concludedEarly: table.concludedEarly, note: notes.length === 0 ? null : notes.join('; ') };
}

/** The `--json` shape of issue 17, with the summary, findings and input accounting beside it. */
export function replayJson(result: ReplayResult): object {
  return {
    server: result.server,
    kernel: result.kernel,
    // `synthesized` only with --complete-handshakes: without it the replay is open loop and says nothing of it.
    connections: result.connections.map((c) => ({ client: c.client, real: c.real, emulated: c.emulated, diverged: c.diverged, ...(result.input.synthesized === undefined ? {} : { synthesized: c.synthesized }) })),
    detail: result.detail,
    counters: result.counters,
    summary: result.summary,
    findings: result.findings,
    input: result.input,
  };
}

// The result of one replay as plain data: per connection what the real server did and
// what the emulated kernel did, a summary, the counters that moved, `explain`'s findings,
// and the time series. `replayJson` gives the issue's `--json` shape.

import { explain, type Problem } from '../observe/explain.js';
import { counterSnapshot, dropsByReason, hostExplainInput } from '../observe/snapshot.js';
import type { RunRecording } from '../report/recording.js';
import { ipv4ToString } from '../wire/addr.js';
import type { OfflineHost } from './offline-host.js';
import { OUTCOMES, diverged, emulatedConnectMs, emulatedOutcome, realConnectMs, realOutcome, type ConnectionTrack, type Outcome } from './outcome.js';
import type { ReplayInput, ReplayOptions } from './replay.js';
import type { Series } from './series.js';
import { endpointToString } from './server-endpoint.js';

export interface ReplayConnection {
  client: string;
  real: Outcome;
  emulated: Outcome;
  diverged: boolean;
  /** Virtual ms (since the capture's first packet) of the first SYN; SYNs the client sent. */
  firstSynMs: number;
  syns: number;
  /** First SYN → handshake complete, ms (client retransmits included), null when it never was. */
  realConnectMs: number | null;
  emulatedConnectMs: number | null;
  /** The emulated kernel's decisions for this 4-tuple, first occurrence order. */
  emulatedVerdicts: string[];
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

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

export interface ReplayResult {
  server: string;
  kernel: string;
  kernelDescription: string;
  settings: { backlog: number; acceptRate: number | 'at once'; app: string; sysctls: readonly string[] };
  input: ReplayInput;
  connections: ReplayConnection[];
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
  tracks: ConnectionTrack[],
  series: Series,
  startWallMs: number,
): ReplayResult {
  const host = offline.host;
  const connections = tracks.map((track): ReplayConnection => {
    const real = realOutcome(track);
    const emulated = emulatedOutcome(track);
    return {
      client: `${ipv4ToString(track.clientAddr)}:${track.clientPort}`,
      real,
      emulated,
      diverged: diverged(track, real, emulated),
      firstSynMs: track.firstSynAt,
      syns: track.syns,
      realConnectMs: realConnectMs(track),
      emulatedConnectMs: emulatedConnectMs(track),
      emulatedVerdicts: track.emulated.verdicts,
    };
  });
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
    summary: {
      connections: connections.length,
      real: countOutcomes(connections.map((c) => c.real)),
      emulated: countOutcomes(connections.map((c) => c.emulated)),
      diverged: connections.filter((c) => c.diverged).length,
      emulatedDropsByReason: dropsByReason(host),
      realConnectMs: latency(connections.map((c) => c.realConnectMs)),
      emulatedConnectMs: latency(connections.map((c) => c.emulatedConnectMs)),
    },
    counters,
    findings,
    series,
    recording: null,
  };
}

export function countOutcomes(outcomes: Outcome[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const outcome of outcomes) counts[outcome]++;
  return counts;
}

/** Nearest-rank percentiles over the values that exist. */
export function latency(values: Array<number | null>): LatencySummary {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const rank = (p: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted.at(-1) ?? null };
}

/** The `--json` shape of issue 17, with the summary, findings and input accounting beside it. */
export function replayJson(result: ReplayResult): object {
  return {
    server: result.server,
    kernel: result.kernel,
    connections: result.connections.map((c) => ({ client: c.client, real: c.real, emulated: c.emulated, diverged: c.diverged })),
    counters: result.counters,
    summary: result.summary,
    findings: result.findings,
    input: result.input,
  };
}

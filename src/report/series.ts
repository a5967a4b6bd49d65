// Recordings → the bucketed series the charts draw. One bucket width per group, so kernels side
// by side share their time axis; bounded (at most MAX_BUCKETS buckets whatever the run's length,
// so a 60 s flood and a 3 s scenario make files of similar size).
//
// Counts per bucket come from the events when the ring kept every decision (exact to the ms),
// else from the sampled verdict totals (exact totals, placed at the sample that saw them).
// Queue lengths are gauges: a bucket shows the highest sampled value in it, so a queue that
// touched its limit is drawn at its limit.

import { classifyVerdict, TRAFFIC_SERIES, type LaneMark, type TrafficSeries } from './classify.js';
import type { RunRecording } from './recording.js';

export const MAX_BUCKETS = 300;
/** Per-client lanes are drawn only for a handful of clients (a flood has thousands). */
export const MAX_LANES = 24;
/** Cap on lane marks: one client retransmitting for an hour must not grow the file. */
export const MAX_LANE_MARKS = 3000;

export interface SectionSeries {
  /** Seconds: every `t` below is the start of a bucket (or, for lanes, the event's time). */
  bucketSeconds: number;
  traffic: Array<{ t: number; part: number; series: TrafficSeries; n: number }>;
  drops: Array<{ t: number; reason: string; n: number }>;
  queues: Array<{ t: number; part: number; queue: QueueName; length: number }>;
  established: Array<{ t: number; part: number; n: number }>;
  /** One limit per recording and queue, spanning the recording's time. */
  limits: Array<{ from: number; to: number; queue: QueueName; limit: number }>;
  /** null when there are more than MAX_LANES clients. */
  lanes: Array<{ t: number; client: string; mark: LaneMark }> | null;
  clients: number;
  totals: { traffic: Record<TrafficSeries, number>; drops: Record<string, number> };
  /** Seconds the section spans (end of its last recording). */
  spanSeconds: number;
}

export type QueueName = 'SYN queue' | 'accept queue';

/** 1, 2, 5 × 10^k ms, at least `floorMs`: the smallest nice width giving ≤ MAX_BUCKETS buckets. */
export function bucketWidthMs(spanMs: number, floorMs: number): number {
  const wanted = Math.max(floorMs, spanMs / MAX_BUCKETS, 1);
  for (let decade = 1; ; decade *= 10) {
    for (const step of [1, 2, 5]) if (step * decade >= wanted) return step * decade;
  }
}

/** Each recording's offset (ms) from the first one's start: parts of one section on one axis. */
export function recordingOffsets(recordings: readonly RunRecording[]): number[] {
  const first = recordings.length > 0 ? Date.parse(recordings[0]!.startedAt) : 0;
  return recordings.map((r) => Math.max(0, Date.parse(r.startedAt) - first));
}

export function sectionSpanMs(recordings: readonly RunRecording[]): number {
  const offsets = recordingOffsets(recordings);
  return recordings.reduce((span, r, i) => Math.max(span, offsets[i]! + r.durationMs), 0);
}

/** Counts that happened at one time: one event, or the delta between two samples. */
interface Increment {
  t: number;
  verdict: string;
  n: number;
}

function increments(recording: RunRecording): Increment[] {
  if (recording.eventsLost === 0) return recording.events.map((e) => ({ t: e.t, verdict: e.verdict, n: 1 }));
  const out: Increment[] = [];
  let previous: Record<string, number> = {};
  for (const sample of recording.samples) {
    for (const [verdict, total] of Object.entries(sample.verdicts)) {
      const n = total - (previous[verdict] ?? 0);
      if (n > 0) out.push({ t: sample.t, verdict, n });
    }
    previous = sample.verdicts;
  }
  return out;
}

export function buildSectionSeries(recordings: readonly RunRecording[], bucketMs: number): SectionSeries {
  const offsets = recordingOffsets(recordings);
  const bucketOf = (ms: number): number => Math.floor(ms / bucketMs);
  const seconds = (bucket: number): number => round((bucket * bucketMs) / 1000);
  const traffic: SectionSeries['traffic'] = [];
  const drops: SectionSeries['drops'] = [];
  const queues: SectionSeries['queues'] = [];
  const established: SectionSeries['established'] = [];
  const limits: SectionSeries['limits'] = [];
  const totals = { traffic: Object.fromEntries(TRAFFIC_SERIES.map((s) => [s, 0])) as Record<TrafficSeries, number>, drops: {} as Record<string, number> };

  recordings.forEach((recording, part) => {
    const offset = offsets[part]!;
    const first = bucketOf(offset);
    const last = bucketOf(offset + recording.durationMs);
    // Traffic lines are zero-filled over the recording, so a quiet second reads as 0, not a gap.
    const counts = new Map<TrafficSeries, Float64Array>(TRAFFIC_SERIES.map((s) => [s, new Float64Array(last - first + 1)]));
    const dropCounts = new Map<string, number>();
    for (const { t, verdict, n } of increments(recording)) {
      const bucket = Math.min(last, bucketOf(offset + t));
      const what = classifyVerdict(verdict);
      for (const series of what.traffic) {
        counts.get(series)![bucket - first]! += n;
        totals.traffic[series] += n;
      }
      if (what.dropReason !== null) {
        const key = `${bucket}\u0000${what.dropReason}`;
        dropCounts.set(key, (dropCounts.get(key) ?? 0) + n);
        totals.drops[what.dropReason] = (totals.drops[what.dropReason] ?? 0) + n;
      }
    }
    for (const [series, perBucket] of counts) {
      perBucket.forEach((n, i) => traffic.push({ t: seconds(first + i), part, series, n }));
    }
    for (const [key, n] of dropCounts) {
      const [bucket, reason] = key.split('\u0000') as [string, string];
      drops.push({ t: seconds(Number(bucket)), reason, n });
    }
    const peaks = new Map<number, { syn: number; accept: number; established: number }>();
    for (const sample of recording.samples) {
      const bucket = bucketOf(offset + sample.t);
      const peak = peaks.get(bucket) ?? { syn: 0, accept: 0, established: 0 };
      peak.syn = Math.max(peak.syn, sample.synQueue);
      peak.accept = Math.max(peak.accept, sample.acceptQueue);
      peak.established = Math.max(peak.established, sample.established);
      peaks.set(bucket, peak);
    }
    for (const [bucket, peak] of [...peaks].sort((a, b) => a[0] - b[0])) {
      const t = seconds(bucket);
      queues.push({ t, part, queue: 'SYN queue', length: peak.syn }, { t, part, queue: 'accept queue', length: peak.accept });
      established.push({ t, part, n: peak.established });
    }
    const from = round(offset / 1000);
    const to = round((offset + recording.durationMs) / 1000);
    limits.push({ from, to, queue: 'SYN queue', limit: recording.limits.synQueue }, { from, to, queue: 'accept queue', limit: recording.limits.acceptQueue });
  });

  drops.sort((a, b) => a.t - b.t || a.reason.localeCompare(b.reason));
  const { lanes, clients } = buildLanes(recordings, offsets);
  return { bucketSeconds: bucketMs / 1000, traffic, drops, queues, established, limits, lanes, clients, totals, spanSeconds: round(sectionSpanMs(recordings) / 1000) };
}

/** Each client's decisions at their own time (not bucketed: a handful of clients, a few marks each). */
function buildLanes(recordings: readonly RunRecording[], offsets: number[]): { lanes: SectionSeries['lanes']; clients: number } {
  const clients = new Set<string>();
  const marks: Array<{ t: number; client: string; mark: LaneMark }> = [];
  recordings.forEach((recording, part) => {
    for (const event of recording.events) {
      const lane = classifyVerdict(event.verdict).lane;
      if (lane.length === 0) continue;
      clients.add(event.peer);
      for (const mark of lane) marks.push({ t: round((offsets[part]! + event.t) / 1000), client: event.peer, mark });
    }
  });
  if (clients.size > MAX_LANES) return { lanes: null, clients: clients.size };
  return { lanes: marks.slice(0, MAX_LANE_MARKS), clients: clients.size };
}

/** Milliseconds precision in seconds, without float noise in the file (0.30000000000000004). */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

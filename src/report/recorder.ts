// Records a Host for the report: its queues and verdict totals every `intervalMs` of the host's
// own clock, and at the end the decisions still in the event ring. The caller drives it —
// `syndrop run` from a timer, replay/simulate from their virtual clock — so it needs no io.
//
// Bounded: when MAX_SAMPLES samples are held, every other one is dropped and the interval
// doubles. Verdict totals are cumulative, so no decision is lost by thinning; only the queue
// gauges lose resolution, and the report buckets them coarser than that anyway.

import type { Problem } from '../observe/explain.js';
import { eventsSince, listenerSnapshots } from '../observe/snapshot.js';
import type { Host } from '../stack/host.js';
import { Counter } from '../stack/mib.js';
import { VERDICTS } from '../stack/verdict.js';
import { ipv4ToString } from '../wire/addr.js';
import type { RecordedSample, RunRecording } from './recording.js';

export const MAX_SAMPLES = 4096;
export const DEFAULT_SAMPLE_INTERVAL_MS = 50;

export class RunRecorder {
  private readonly host: Host;
  private readonly startWallMs: number;
  private intervalMs: number;
  private readonly samples: RecordedSample[] = [];
  private nextAt = 0;

  constructor(host: Host, startWallMs: number, intervalMs = DEFAULT_SAMPLE_INTERVAL_MS) {
    this.host = host;
    this.startWallMs = startWallMs;
    this.intervalMs = intervalMs;
  }

  get sampleIntervalMs(): number {
    return this.intervalMs;
  }

  /** When the next sample is due (ms since start): a virtual-clock caller samples quiet spans too. */
  get nextSampleAt(): number {
    return this.nextAt;
  }

  /** Takes a sample if one is due at `now` (ms since start); cheap to call more often. */
  tick(now: number): void {
    if (now < this.nextAt) return;
    this.sample(now);
    this.nextAt = now + this.intervalMs;
  }

  sample(now: number): void {
    const host = this.host;
    const verdicts: Record<string, number> = {};
    const counts = host.verdictCounts;
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) verdicts[VERDICTS[i]!.name] = counts[i]!;
    const listener = host.listeners[0];
    this.samples.push({
      t: now,
      verdicts,
      synQueue: listener?.qlen ?? 0,
      acceptQueue: listener?.acceptQueueLength ?? 0,
      established: host.counters[Counter.CurrEstab]!,
    });
    if (this.samples.length >= MAX_SAMPLES) this.thin();
  }

  private thin(): void {
    // Keep the first and every second one after it: the interval doubles.
    let kept = 0;
    for (let i = 0; i < this.samples.length; i += 2) this.samples[kept++] = this.samples[i]!;
    this.samples.length = kept;
    this.intervalMs *= 2;
  }

  /** The recording so far, with a last sample at `now`; the settings and findings come from the caller. */
  recording(now: number, settings: Record<string, string>, findings: Problem[]): RunRecording {
    const host = this.host;
    if (this.samples.at(-1)?.t !== now) this.sample(now);
    const ring = host.events;
    const listener = listenerSnapshots(host)[0];
    return {
      startedAt: new Date(this.startWallMs).toISOString(),
      durationMs: now,
      kernel: { name: host.profile.name, description: host.profile.description },
      // sk_acceptq_is_full is `sk_ack_backlog > sk_max_ack_backlog` (spec §1.5): the queue holds one more.
      limits: { synQueue: listener?.synQueueMax ?? 0, acceptQueue: listener === undefined ? 0 : listener.acceptQueueMax + 1 },
      settings: { address: ipv4ToString(host.address), ...settings },
      sysctls: host.sysctls.entries().map(({ name, value }) => ({ name, value: typeof value === 'number' ? value : value.join(' ') })),
      sampleIntervalMs: this.intervalMs,
      samples: [...this.samples],
      events: eventsSince(host, 0, this.startWallMs).map((e) => ({ t: e.t, verdict: e.verdict, peer: e.src })),
      eventsLost: ring.oldest,
      findings,
    };
  }
}

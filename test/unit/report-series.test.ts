// The report's series builder on a recorded decision sequence: counts per bucket, drops by
// reason, queue peaks per bucket and the limits, against values worked out by hand below.

import { describe, expect, it } from 'vitest';
import type { RecordedEvent, RecordedSample, RunRecording } from '../../src/report/recording.js';
import { renderReport } from '../../src/report/report.js';
import { bucketWidthMs, buildSectionSeries, MAX_LANES } from '../../src/report/series.js';

const A = '10.77.3.2:40001';
const B = '10.77.3.2:40002';
const C = '10.77.3.2:40003';

// Listen backlog 2 on 6.x: A connects, B's handshake completes into a full queue later, C's SYN
// is dropped twice (its retransmit too), B's SYN-ACK is retransmitted by the timer at 1.12 s.
const EVENTS: RecordedEvent[] = [
  { t: 5, verdict: 'SYN_QUEUED', peer: A }, //            bucket 0: SYN in, SYN-ACK
  { t: 40, verdict: 'REQ_ESTABLISHED', peer: A }, //      bucket 0: established
  { t: 120, verdict: 'SYN_QUEUED', peer: B }, //          bucket 1: SYN in, SYN-ACK
  { t: 130, verdict: 'DROP_ACCEPTQ_FULL', peer: C }, //   bucket 1: SYN in, drop ACCEPTQ_FULL
  { t: 199, verdict: 'DROP_ACCEPTQ_FULL', peer: C }, //   bucket 1: SYN in, drop ACCEPTQ_FULL
  { t: 250, verdict: 'REQ_ACCEPTQ_OVERFLOW', peer: B }, // bucket 2: drop TCP_LISTEN_OVERFLOW (third ACK)
  { t: 1120, verdict: 'REQ_TIMEOUT_RETRANSMIT', peer: B }, // bucket 11: SYN-ACK retransmitted
  { t: 1150, verdict: 'TW_ENTER', peer: A }, //           a note: counted nowhere
];

function sample(t: number, synQueue: number, acceptQueue: number, established: number, verdicts: Record<string, number> = {}): RecordedSample {
  return { t, verdicts, synQueue, acceptQueue, established };
}

// Queue peaks per 100 ms bucket: b0 = max(0, 1) accept; b1 SYN queue max(1, 1) = 1, accept 1;
// b2 accept max(3, 3) = 3 and SYN queue 1; b11 accept 3, SYN queue 0.
const SAMPLES = [sample(0, 0, 0, 0), sample(50, 0, 1, 1), sample(100, 1, 1, 1), sample(150, 1, 1, 1), sample(200, 1, 3, 3), sample(250, 1, 3, 3), sample(1150, 0, 3, 3)];

function recording(overrides: Partial<RunRecording> = {}): RunRecording {
  return {
    startedAt: '2026-11-01T10:00:00.000Z',
    durationMs: 1200,
    kernel: { name: '6.x', description: 'test' },
    limits: { synQueue: 256, acceptQueue: 3 },
    settings: { port: '80' },
    sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: 1 }],
    sampleIntervalMs: 50,
    samples: SAMPLES,
    events: EVENTS,
    eventsLost: 0,
    findings: [],
    ...overrides,
  };
}

function seriesOf(points: Array<{ t: number; series: string; n: number }>, name: string): number[] {
  return points.filter((p) => p.series === name).map((p) => p.n);
}

describe('report series builder', () => {
  it('counts each decision in the bucket of its time, zero-filled over the recording (100 ms buckets)', () => {
    const s = buildSectionSeries([recording()], 100);
    expect(s.bucketSeconds).toBe(0.1);
    // 1200 ms → buckets 0..12 (the stop instant opens bucket 12).
    const zeros = new Array(13).fill(0);
    expect(seriesOf(s.traffic, 'SYNs in')).toEqual(Object.assign([...zeros], { 0: 1, 1: 3 }));
    expect(seriesOf(s.traffic, 'SYN-ACKs out (first)')).toEqual(Object.assign([...zeros], { 0: 1, 1: 1 }));
    expect(seriesOf(s.traffic, 'SYN-ACKs retransmitted')).toEqual(Object.assign([...zeros], { 11: 1 }));
    expect(seriesOf(s.traffic, 'cookies sent')).toEqual(zeros);
    expect(s.traffic.filter((p) => p.series === 'SYNs in').map((p) => p.t).slice(0, 4)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(s.drops).toEqual([
      { t: 0.1, reason: 'ACCEPTQ_FULL', n: 2 },
      { t: 0.2, reason: 'TCP_LISTEN_OVERFLOW', n: 1 },
    ]);
    expect(s.totals.traffic['SYNs in']).toBe(4);
    expect(s.totals.drops).toEqual({ ACCEPTQ_FULL: 2, TCP_LISTEN_OVERFLOW: 1 });
  });

  it('queues are the highest sample in each bucket, and each recording carries its limits', () => {
    const s = buildSectionSeries([recording()], 100);
    const accept = s.queues.filter((q) => q.queue === 'accept queue').map((q) => [q.t, q.length]);
    const syn = s.queues.filter((q) => q.queue === 'SYN queue').map((q) => [q.t, q.length]);
    expect(accept).toEqual([[0, 1], [0.1, 1], [0.2, 3], [1.1, 3]]);
    expect(syn).toEqual([[0, 0], [0.1, 1], [0.2, 1], [1.1, 0]]);
    expect(s.established.map((p) => p.n)).toEqual([1, 1, 3, 3]);
    expect(s.limits).toEqual([
      { from: 0, to: 1.2, queue: 'SYN queue', limit: 256 },
      { from: 0, to: 1.2, queue: 'accept queue', limit: 3 },
    ]);
  });

  it('per-client lanes: each decision a client sees, at its exact time, one lane per address:port', () => {
    const s = buildSectionSeries([recording()], 100);
    expect(s.clients).toBe(3);
    expect(s.lanes!.filter((l) => l.client === C)).toEqual([
      { t: 0.13, client: C, mark: 'SYN in' },
      { t: 0.13, client: C, mark: 'dropped' },
      { t: 0.199, client: C, mark: 'SYN in' },
      { t: 0.199, client: C, mark: 'dropped' },
    ]);
    expect(s.lanes!.filter((l) => l.client === B).map((l) => l.mark)).toEqual(['SYN in', 'SYN-ACK out', 'dropped', 'SYN-ACK out']);
  });

  it('too many clients (a flood): no lanes, only their number', () => {
    const events = Array.from({ length: MAX_LANES + 1 }, (_, i) => ({ t: i, verdict: 'SYN_QUEUED', peer: `10.77.200.${i}:1000` }));
    const s = buildSectionSeries([recording({ events })], 100);
    expect(s.lanes).toBeNull();
    expect(s.clients).toBe(MAX_LANES + 1);
  });

  it('when the ring overflowed, counts come from the sampled verdict totals (deltas at the sample that saw them)', () => {
    const samples = [
      sample(0, 0, 0, 0),
      sample(100, 0, 0, 0, { SYN_COOKIE: 400 }),
      sample(200, 0, 0, 0, { SYN_COOKIE: 1000, COOKIE_ACCEPTED: 1 }),
      sample(300, 0, 0, 0, { SYN_COOKIE: 1000, COOKIE_ACCEPTED: 1, DROP_REQQ_FULL: 7 }),
    ];
    // The ring kept only the last events: they must not be counted on top of the samples.
    const s = buildSectionSeries([recording({ durationMs: 300, samples, events: [{ t: 290, verdict: 'DROP_REQQ_FULL', peer: A }], eventsLost: 1006 })], 100);
    expect(seriesOf(s.traffic, 'cookies sent')).toEqual([0, 400, 600, 0]);
    expect(seriesOf(s.traffic, 'SYNs in')).toEqual([0, 400, 600, 7]);
    expect(seriesOf(s.traffic, 'cookies validated')).toEqual([0, 0, 1, 0]);
    expect(s.drops).toEqual([{ t: 0.3, reason: 'TCP_REQQFULLDROP', n: 7 }]);
  });

  it('a second recording (the emulator restarted) is placed by its start time on the same axis', () => {
    const later = recording({ startedAt: '2026-11-01T10:00:02.000Z', durationMs: 300, events: [{ t: 50, verdict: 'DROP_PAWS_PASSIVE', peer: A }], samples: [sample(0, 0, 0, 0)], limits: { synQueue: 16, acceptQueue: 129 } });
    const s = buildSectionSeries([recording(), later], 100);
    expect(s.spanSeconds).toBe(2.3);
    expect(s.drops.at(-1)).toEqual({ t: 2, reason: 'PAWS_PASSIVE_PER_HOST', n: 1 });
    expect(s.traffic.filter((p) => p.part === 1 && p.series === 'SYNs in').map((p) => [p.t, p.n])).toEqual([[2, 1], [2.1, 0], [2.2, 0], [2.3, 0]]);
    expect(s.limits.filter((l) => l.queue === 'accept queue')).toEqual([
      { from: 0, to: 1.2, queue: 'accept queue', limit: 3 },
      { from: 2, to: 2.3, queue: 'accept queue', limit: 129 },
    ]);
  });

  it('bucket width: 1-2-5 steps, never below the sample interval, at most 300 buckets', () => {
    expect(bucketWidthMs(3_300, 50)).toBe(50); // a scenario: the sample interval
    expect(bucketWidthMs(60_000, 50)).toBe(200); // a 60 s flood: 300 buckets
    expect(bucketWidthMs(3_600_000, 50)).toBe(20_000); // an hour: 180 buckets
    expect(bucketWidthMs(100, 1)).toBe(1);
  });

  it('the page is self-contained: inline SVG, no script, nothing loaded from elsewhere', async () => {
    const html = await renderReport({ title: 't', command: 'syndrop test', generatedAt: 'now', groups: [{ heading: 'g', sections: [{ heading: '6.x', recordings: [recording()] }] }] });
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    const addresses = [...html.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((m) => m[1]);
    expect(addresses).toEqual([]);
    expect((html.match(/<svg/g) ?? []).length).toBe(6);
    // 1.2 s at the 50 ms sample interval: the drops at 130 and 199 ms fall in two buckets.
    const bars = [...html.matchAll(/aria-label="([^"]*; reason: [^"]*)"/g)].map((m) => m[1]);
    expect(bars).toEqual([
      'seconds since start: 0.1; drops: 1; until: 0.15; reason: ACCEPTQ_FULL',
      'seconds since start: 0.15; drops: 1; until: 0.2; reason: ACCEPTQ_FULL',
      'seconds since start: 0.25; drops: 1; until: 0.3; reason: TCP_LISTEN_OVERFLOW',
    ]);
  });
});

// RunRecorder on a real Host driven by crafted frames on a virtual clock: what it samples (queues,
// per-verdict totals) and what it hands the report (events from the ring, limits, settings).

import { describe, expect, it } from 'vitest';
import { MAX_SAMPLES, RunRecorder } from '../../src/report/recorder.js';
import { StackHarness } from '../helpers/stack-harness.js';

const START = Date.parse('2026-11-01T10:00:00.000Z');

describe('RunRecorder', () => {
  it('6.x, backlog 1, no accept(): two handshakes fill the accept queue (holds backlog + 1, spec §1.5), the third SYN is dropped (§1.2 D2)', () => {
    const h = new StackHarness('6.x');
    h.app.listen(80, 1, { ratePerSecond: 0 });
    const recorder = new RunRecorder(h.host, START, 10);
    recorder.tick(0);
    h.handshake(5001);
    h.advanceTo(10);
    recorder.tick(10);
    recorder.tick(15); // not due: the next sample is at 20
    h.handshake(5002);
    h.advanceTo(20);
    expect(h.segment({ srcPort: 5003 }).verdict).toBe('DROP_ACCEPTQ_FULL');
    h.advanceTo(25);
    const recording = recorder.recording(25, { port: '80' }, []);

    expect(recording.startedAt).toBe('2026-11-01T10:00:00.000Z');
    expect(recording.durationMs).toBe(25);
    expect(recording.kernel.name).toBe('6.x');
    expect(recording.limits.acceptQueue).toBe(2);
    expect(recording.settings).toEqual({ address: '10.0.0.1', port: '80' });
    expect(recording.samples.map((s) => [s.t, s.acceptQueue, s.synQueue, s.established])).toEqual([
      [0, 0, 0, 0],
      [10, 1, 0, 1],
      [25, 2, 0, 2],
    ]);
    expect(recording.samples.at(-1)!.verdicts).toEqual({ SYN_QUEUED: 2, REQ_ESTABLISHED: 2, DROP_ACCEPTQ_FULL: 1 });
    expect(recording.events.map((e) => [e.t, e.verdict, e.peer])).toEqual([
      [0, 'SYN_QUEUED', '10.0.0.2:5001'],
      [0, 'REQ_ESTABLISHED', '10.0.0.2:5001'],
      [10, 'SYN_QUEUED', '10.0.0.2:5002'],
      [10, 'REQ_ESTABLISHED', '10.0.0.2:5002'],
      [20, 'DROP_ACCEPTQ_FULL', '10.0.0.2:5003'],
    ]);
    expect(recording.eventsLost).toBe(0);
  });

  it(`bounded: at ${MAX_SAMPLES} samples every other one goes and the interval doubles`, () => {
    const h = new StackHarness('6.x');
    h.app.listen(80, 1, { ratePerSecond: 0 });
    const recorder = new RunRecorder(h.host, START, 1);
    for (let t = 0; t < MAX_SAMPLES; t++) recorder.tick(t);
    expect(recorder.sampleIntervalMs).toBe(2);
    const samples = recorder.recording(MAX_SAMPLES, {}, []).samples;
    expect(samples).toHaveLength(MAX_SAMPLES / 2 + 1);
    expect(samples.slice(0, 3).map((s) => s.t)).toEqual([0, 2, 4]);
    expect(samples.at(-1)!.t).toBe(MAX_SAMPLES);
  });
});

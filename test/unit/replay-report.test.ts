// `replay --report` and `simulate --report` through the one report module (issue 19 × issue 17):
// a replay of a crafted capture records the emulated host on the capture's clock, and the
// report's series (what the charts draw) count what the replay's counters counted.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runReplay, type ReplayOptions } from '../../src/replay/replay.js';
import { conversationReplay } from '../helpers/replay-options.js';
import { replayReportInput } from '../../src/replay/replay-report.js';
import { writeReport } from '../../src/report/report.js';
import { bucketWidthMs, buildSectionSeries, sectionSpanMs } from '../../src/report/series.js';
import type { RunRecording } from '../../src/report/recording.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import { simulateReportInput } from '../../src/simulate/simulate-report.js';
import { simulateJson } from '../../src/simulate/simulate-result.js';
import { CAPTURE_EPOCH_MICROS, recordConversation } from '../helpers/recorded-conversation.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The accept-overflow story of test/unit/replay.test.ts: backlog 2 (the accept queue holds 3,
// spec §1.5), never accept, 6 clients 10 ms apart, a client retransmits its SYN after 1 s.
const story = { backlog: 2, acceptRate: 0, clients: 6, spacingMs: 10, untilMs: 2500 };
const capture6x = join(dir, 'overflow-6x.pcap');
const capture310 = join(dir, 'overflow-310.pcap');
recordConversation(capture6x, { kernel: '6.x', ...story });
recordConversation(capture310, { kernel: '3.10', ...story });

function replay(capturePath: string, kernel: string, extra: Partial<ReplayOptions> = {}) {
  // The recording host's key (the harness seed): 3.10's prune walk hashes buckets (spec §4.2).
  return runReplay(conversationReplay(capturePath, kernel, { seed: 42, record: true, ...extra }));
}

function seriesOf(recording: RunRecording) {
  const span = sectionSpanMs([recording]);
  return buildSectionSeries([recording], bucketWidthMs(span, recording.sampleIntervalMs));
}

describe('replay --report: the recording and its series', () => {
  it('6.x: SYNs in, SYN-ACKs and drops in the series equal the replay counters; the accept queue reaches its limit 3 (spec §1.2 D2, §1.5)', () => {
    const result = replay(capture6x, '6.x');
    const recording = result.recording!;
    expect(recording.kernel.name).toBe('6.x');
    expect(recording.startedAt).toBe(new Date(CAPTURE_EPOCH_MICROS / 1000).toISOString());
    expect(recording.limits).toEqual({ synQueue: expect.any(Number), acceptQueue: 3 });
    expect(recording.eventsLost).toBe(0);
    const series = seriesOf(recording);
    // 6 first SYNs + the 1 s retransmits of the 3 dropped clients; 3 answered; each of the
    // 6 dropped SYNs is a ListenOverflow.
    const synsFed = result.connections.reduce((n, c) => n + c.syns, 0);
    expect(synsFed).toBe(9);
    expect(series.totals.traffic['SYNs in']).toBe(synsFed);
    expect(series.totals.traffic['SYN-ACKs out (first)']).toBe(3);
    expect(series.totals.drops).toEqual({ ACCEPTQ_FULL: result.counters.TcpExtListenOverflows });
    expect(result.counters.TcpExtListenOverflows).toBe(6);
    expect(Math.max(...series.queues.filter((q) => q.queue === 'accept queue').map((q) => q.length))).toBe(3);
    expect(Math.max(...series.established.map((e) => e.n))).toBe(3);
    // Drops at the first SYNs (t < 0.1 s) and at the retransmits one second later.
    expect([...new Set(series.drops.map((d) => Math.floor(d.t)))]).toEqual([0, 1]);
    expect(recording.findings.map((f) => f.id)).toEqual(['accept-overflow']);
  });

  it('3.10: the young rule and the ghosts\' overflowing ACKs, each a ListenOverflow in the counters (spec §1.1 C3, §3.2)', () => {
    const result = replay(capture310, '3.10');
    const series = seriesOf(result.recording!);
    expect(series.totals.drops.ACCEPTQ_FULL_YOUNG).toBeGreaterThanOrEqual(1);
    expect(series.totals.drops.TCP_LISTEN_OVERFLOW).toBeGreaterThanOrEqual(2);
    expect(series.totals.drops.ACCEPTQ_FULL_YOUNG! + series.totals.drops.TCP_LISTEN_OVERFLOW!).toBe(result.counters.TcpExtListenOverflows);
    expect(series.totals.traffic['SYN-ACKs out (first)']).toBe(5);
    expect(series.totals.traffic['SYN-ACKs retransmitted']).toBe(result.counters.TcpRetransSegs);
  });

  it('recording changes nothing the replay decides', () => {
    const recorded = replay(capture310, '3.10');
    const plain = replay(capture310, '3.10', { record: false });
    expect(plain.recording).toBeNull();
    expect(recorded.connections).toEqual(plain.connections);
    expect(recorded.counters).toEqual(plain.counters);
  });

  it('--kernels 3.10,6.x: one group, one section per kernel on shared axes, with each kernel\'s outcome line', async () => {
    const results = ['3.10', '6.x'].map((kernel) => replay(capture6x, kernel));
    const input = replayReportInput(results, capture6x, 'syndrop replay overflow-6x.pcap --kernels 3.10,6.x --report r.html');
    expect(input.groups).toHaveLength(1);
    expect(input.groups[0]!.sections.map((s) => s.heading)).toEqual(['kernel 3.10', 'kernel 6.x']);
    expect(input.groups[0]!.sections[1]!.summary).toBe('6 connections: 3 established, 3 dropped (the real server: 3 established, 3 dropped); 0 diverged');
    const file = join(dir, 'replay.html');
    await writeReport(file, input);
    const html = readFileSync(file, 'utf8');
    expect([...html.matchAll(/<article class="section" data-kernel="([^"]+)"/g)].map((m) => m[1])).toEqual(['3.10', '6.x']);
    expect(html).toContain('<b>SYNs in</b> 9 · <b>SYN-ACKs</b> 3 (+0 retransmitted) · <b>cookies</b> 0 sent, 0 validated · <b>drops</b> ACCEPTQ_FULL 6');
    expect(html.match(/data-chart="/g)).toHaveLength(2 * 6); // five charts and the client lanes, per kernel
  });
});

describe('simulate --report', () => {
  const options = {
    sysctls: [],
    backlog: 16,
    acceptRate: 100,
    seed: 3,
    bucketMs: 1000,
    synRate: 200,
    maxClients: Infinity,
    arrivals: 'poisson' as const,
    rttMinMs: 1,
    rttMaxMs: 20,
    clientKernel: '6.8',
    synRetries: 2,
    floodRate: 500,
    durationMs: 3000,
    recordStartWallMs: Date.UTC(2026, 0, 1),
  };

  it('a flood with cookies: the series counts the cookies and drops the counters counted; the queues stay within their limits (spec §1.3)', () => {
    const result = runSimulation({ kernel: '6.x', ...options });
    const recording = result.recording!;
    expect(recording.startedAt).toBe('2026-01-01T00:00:00.000Z');
    const series = seriesOf(recording);
    expect(series.totals.traffic['cookies sent']).toBe(result.counters.TcpExtSyncookiesSent);
    expect(series.totals.traffic['cookies validated']).toBe(result.counters.TcpExtSyncookiesRecv);
    expect(result.counters.TcpExtSyncookiesSent).toBeGreaterThan(0);
    expect(series.totals.drops).toEqual(result.dropsByReason);
    expect(series.totals.traffic['SYNs in']).toBe(result.summary.syns.legitimate + result.summary.syns.flood);
    const peak = (queue: string) => Math.max(...series.queues.filter((q) => q.queue === queue).map((q) => q.length));
    expect(peak('SYN queue')).toBe(recording.limits.synQueue);
    expect(peak('accept queue')).toBeLessThanOrEqual(recording.limits.acceptQueue);
    expect(recording.findings.map((f) => f.id)).toContain('cookies');
  });

  it('the JSON leaves the recording out; a run without --report records nothing', () => {
    const recorded = runSimulation({ kernel: '3.10', ...options });
    expect(Object.keys(simulateJson(recorded))).not.toContain('recording');
    const { recordStartWallMs: _, ...plain } = options;
    const unrecorded = runSimulation({ kernel: '3.10', ...plain });
    expect(unrecorded.recording).toBeNull();
    expect(simulateJson(unrecorded)).toEqual(simulateJson(recorded));
  });

  it('a grid: one section per run, labelled as the grid labels them', () => {
    const runs = ['3.10', '6.x'].map((kernel) => ({ label: `kernel ${kernel}`, result: runSimulation({ kernel, ...options }) }));
    const input = simulateReportInput(runs, 'syndrop simulate --kernels 3.10,6.x');
    expect(input.groups[0]!.heading).toBe('200 SYN/s for 3 s under a 500 SYN/s spoofed flood');
    expect(input.groups[0]!.sections.map((s) => [s.heading, s.recordings[0]!.kernel.name])).toEqual([
      ['kernel 3.10', '3.10'],
      ['kernel 6.x', '6.x'],
    ]);
  });
});

// Replay in bounded memory (issue 17: "a 1 GB capture streams in constant memory"): rows for
// the first N connections, every connection counted, and at most a fixed number followed at
// once — a spoofed flood of fresh sources is concluded as it goes, with the same outcomes
// and counters as when every source is followed to the end.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LatencyTally, latency } from '../../src/replay/connection-table.js';
import { LinkType } from '../../src/replay/link-layer.js';
import { runReplay, type ReplayOptions } from '../../src/replay/replay.js';
import { conversationReplay } from '../helpers/replay-options.js';
import { replayJson } from '../../src/replay/replay-result.js';
import { renderReplay } from '../../src/replay/replay-text.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { pcapFile, type CapturedFrame } from '../helpers/capture-files.js';
import { CAPTURE_EPOCH_MICROS, firstClientPort, recordConversation } from '../helpers/recorded-conversation.js';
import { StackHarness } from '../helpers/stack-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-bounded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const overflow = join(dir, 'overflow.pcap');
recordConversation(overflow, { kernel: '6.x', backlog: 2, acceptRate: 0, clients: 6, spacingMs: 10, untilMs: 2500 });

// 20 000 spoofed SYNs in one second, each from its own source in 100.64.0.0/10, without
// options (as hping3 -S --rand-source sends them), never answered by anyone.
const FLOOD_SYNS = 20_000;
const flood = join(dir, 'flood.pcap');
{
  const builder = new StackHarness('6.x');
  const frames: CapturedFrame[] = [];
  const spoofedBase = parseIpv4('100.64.0.0');
  for (let i = 0; i < FLOOD_SYNS; i++) {
    const bytes = builder.frame({ src: spoofedBase + 7 * i + 1, srcPort: 1024 + (i % 60_000), seq: (i * 2654435761) >>> 0, mss: null, windowScale: null, sack: false, tsVal: null, window: 512 });
    frames.push({ timeMicros: CAPTURE_EPOCH_MICROS + i * 50, bytes });
  }
  writeFileSync(flood, pcapFile('le', LinkType.RAW, frames));
}

function replay(capturePath: string, extra: Partial<ReplayOptions> = {}) {
  return runReplay(conversationReplay(capturePath, '6.x', extra));
}

describe('rows for the first N connections, every connection in the summary', () => {
  it('--detail 2 on the accept-overflow story: two rows (the first two SYNs), the summary of all six unchanged', () => {
    const all = replay(overflow);
    const bounded = replay(overflow, { detailLimit: 2 });
    expect(bounded.connections.map((c) => c.client)).toEqual([`10.0.0.2:${firstClientPort}`, `10.0.0.2:${firstClientPort + 1}`]);
    expect(bounded.connections).toEqual(all.connections.slice(0, 2));
    expect(bounded.summary).toEqual(all.summary);
    expect(bounded.summary.connections).toBe(6);
    expect(bounded.counters).toEqual(all.counters);
    expect(bounded.detail).toEqual({ limit: 2, kept: 2, counted: 4, concludedEarly: 0, note: 'detail kept for the first 2 connections; the rest are counted' });
    expect(all.detail.note).toBeNull();
  });

  it('the JSON and the text say so', () => {
    const bounded = replay(overflow, { detailLimit: 2 });
    expect((replayJson(bounded) as { detail: { note: string } }).detail.note).toBe('detail kept for the first 2 connections; the rest are counted');
    expect(renderReplay(bounded, 50)).toContain('detail kept for the first 2 connections; the rest are counted (--detail N)\n');
  });
});

describe('a spoofed flood, followed at most 1 000 connections at a time', () => {
  it('every source is counted, 19 000 concluded early, and outcomes and counters are those of following them all (6.x, backlog 128: spec §1.3)', () => {
    const all = replay(flood, { backlog: 128 });
    const bounded = replay(flood, { backlog: 128, liveLimit: 1_000, detailLimit: 100 });
    expect(all.summary.connections).toBe(FLOOD_SYNS);
    expect(bounded.summary).toEqual(all.summary);
    expect(bounded.counters).toEqual(all.counters);
    expect(bounded.connections).toEqual(all.connections.slice(0, 100));
    expect(bounded.detail).toMatchObject({ kept: 100, counted: FLOOD_SYNS - 100, concludedEarly: FLOOD_SYNS - 1_000 });
    // Nobody answered the spoofed SYNs in the capture; the emulated 6.x answered each one,
    // from its SYN queue or with a cookie, and none completed.
    expect(bounded.summary.real.dropped).toBe(FLOOD_SYNS);
    expect(bounded.summary.emulated['half-open']).toBe(FLOOD_SYNS);
    expect(bounded.counters.TcpExtSyncookiesSent).toBeGreaterThan(FLOOD_SYNS - 200);
    expect(bounded.input.midstream).toBe(0);
  });
});

describe('latency percentiles from a histogram', () => {
  it('nearest rank, as over the sorted values', () => {
    const values = [5, 1, 1, 3000, 7, 7, 7, 20, 1000, 2];
    const tally = new LatencyTally();
    for (const v of values) tally.add(v);
    // sorted: 1 1 2 5 7 7 7 20 1000 3000 → p50 = 5th = 7, p99 = 10th = 3000
    expect(tally.summary()).toEqual({ count: 10, p50: 7, p99: 3000, max: 3000 });
    expect(latency([null, 4, null])).toEqual({ count: 1, p50: 4, p99: 4, max: 4 });
    expect(latency([])).toEqual({ count: 0, p50: null, p99: null, max: null });
  });
});

// The bench's noise rules: when a section's per-round ratios or the machine's steal time make
// a figure untrustworthy, the report says why instead of printing a confident number.

import { describe, expect, it } from 'vitest';

import { NOISY_SPREAD, NOISY_STEAL_PERCENT, machineWindow, noiseVerdict, type MachineWindow } from '../../src/tools/bench/machine.js';
import { freeCoresSeconds } from '../../src/tools/bench/offline-grid.js';
import { summary } from '../../src/tools/bench/stats.js';

const quiet: MachineWindow = { busyPercent: 50, stealPercent: 0, loadAvgStart: [1, 1, 1], loadAvgEnd: [1, 1, 1], seconds: 10 };

describe('bench noise verdict', () => {
  it('trusts ratios whose rounds agree on a machine without steal', () => {
    const rounds = summary([0.93, 0.95, 0.97, 0.96, 0.94]);
    expect(rounds.spread).toBeCloseTo(0.04 / 0.95, 6);
    expect(noiseVerdict({ 'throughput ratio': rounds.spread }, quiet)).toBeNull();
  });

  it('flags a wide spread of per-round ratios, naming the figure and the bound', () => {
    // The noisy run: rounds 0.47, 0.81 and 1.61.
    const rounds = summary([0.47, 0.81, 1.61]);
    expect(rounds.spread).toBeGreaterThan(NOISY_SPREAD);
    expect(noiseVerdict({ 'throughput ratio': rounds.spread, 'CPU ratio': 0.05 }, quiet)).toBe('throughput ratio spread 141% > 20%');
  });

  it('flags steal above the bound even when the rounds agree', () => {
    const verdict = noiseVerdict({ 'CPU ratio': 0.02 }, { ...quiet, stealPercent: NOISY_STEAL_PERCENT + 1 });
    expect(verdict).toBe(`steal ${NOISY_STEAL_PERCENT + 1}% > ${NOISY_STEAL_PERCENT}%`);
  });

  it('ignores a figure that could not be measured (NaN)', () => {
    expect(noiseVerdict({ 'CPU ratio': NaN }, quiet)).toBeNull();
  });

  it('reads the machine window from /proc/stat: shares of all CPU time, in range', async () => {
    const close = machineWindow();
    let x = 0;
    const until = Date.now() + 60;
    while (Date.now() < until) x += Math.sqrt(x + 1); // keep one CPU busy for a moment
    await new Promise((resolve) => setTimeout(resolve, 30));
    const m = close();
    expect(x).toBeGreaterThan(0);
    expect(m.busyPercent).toBeGreaterThan(0);
    expect(m.busyPercent).toBeLessThanOrEqual(100);
    expect(m.stealPercent).toBeGreaterThanOrEqual(0);
    expect(m.loadAvgEnd).toHaveLength(3);
    expect(m.seconds).toBeGreaterThan(0.05);
  });
});

describe('the grid on free cores', () => {
  it('hands the runs out as the pool does, whoever ran them: two each, the longest pair counts', () => {
    // CI's --jobs 2 run: 0.25 and 0.30 s (each worker cold), then 0.22 and 0.20 s. A starved
    // worker left runs 3 and 4 to the other (0.67 s on one thread); free cores split them.
    expect(freeCoresSeconds([0.25, 0.3, 0.22, 0.2], 2)).toBeCloseTo(0.5, 9);
    expect(freeCoresSeconds([0.25, 0.3, 0.22, 0.2], 1)).toBeCloseTo(0.97, 9);
    // A long first run keeps its core: the other three go to the second.
    expect(freeCoresSeconds([3, 1, 1, 0.5], 2)).toBeCloseTo(3, 9);
  });
});

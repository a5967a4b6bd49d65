// Smoke test of `make bench` (issue 8): the real tool with tiny counts, no TUN section.
// It checks that every section is produced with sane numbers — not how fast anything is.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BENCH = join(ROOT, 'dist', 'tools', 'bench.js');
const built = existsSync(BENCH);
if (!built && process.env.CI) throw new Error('dist/tools/bench.js missing in CI: run make');
if (!built) console.warn('skipping bench smoke: not built (run make)');

const PATHS = ['queued', 'cookie', 'drop', 'cookieAck'] as const;

describe.skipIf(!built)('make bench --quick (smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'syndrop-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one table and writes every section with sane numbers', async () => {
    const out = join(dir, 'latest.json');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BENCH, '--quick', '--skip-tun', '--count', '4096', '--runs', '3', '--memory-requests', '8192', '--out', out],
      { timeout: 60_000, maxBuffer: 4 << 20 },
    );
    expect(stdout).toContain('1+2. in-process');
    expect(stdout).toContain('3. memory per half-open request');
    expect(stdout).toContain('4. over TUN');
    expect(stdout).toContain('targets (reported, not asserted)');

    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.meta.quick).toBe(true);
    for (const path of PATHS) {
      const s = report.inProcess[path];
      expect(s, path).toBeDefined();
      // Every frame had the expected outcome (SYN-ACK, drop, connection) in every run.
      expect(s.ok, path).toBe(true);
      expect(s.runs).toBe(3);
      expect(s.count).toBe(4096);
      expect(s.perSec.min).toBeGreaterThan(0);
      expect(s.perSec.min).toBeLessThanOrEqual(s.perSec.median);
      expect(s.perSec.median).toBeLessThanOrEqual(s.perSec.max);
      expect(Number.isFinite(s.perSec.max)).toBe(true);
      // The fixed reference loop ran beside every run: a positive cost ratio with a spread.
      expect(s.referenceNsPerUnit).toBeGreaterThan(0);
      expect(s.referenceRatio.min).toBeGreaterThan(0);
      expect(s.referenceRatio.min).toBeLessThanOrEqual(s.referenceRatio.max);
      const a = report.allocation[path];
      expect(a.heapBytesPer1M).toBeGreaterThanOrEqual(0);
      expect(a.scavengesPer1M).toBeGreaterThanOrEqual(0);
      expect(a.markSweepsPer1M).toBeGreaterThanOrEqual(0);
    }
    expect(report.allocation.method).toContain('GCProfiler');

    const m = report.memory;
    expect(m.requests).toBe(8192);
    expect(m.queued).toBe(8192);
    // Typed-array pools: tens to a few hundred bytes per request, never zero, never kilobytes.
    expect(m.heldPerRequest).toBeGreaterThan(20);
    expect(m.heldPerRequest).toBeLessThan(2048);
    expect(m.poolBytesPerSlot).toBeGreaterThan(0);

    expect(report.tun).toEqual({ skipped: true, reason: '--skip-tun' });
    expect(report.latencySection).toEqual({ skipped: true, reason: '--skip-tun' });
    expect(report.latency).toBeNull();
    expect(report.cpu_ns_per_synack).toBeNull();
    // The machine's state over the run is recorded (percentages of all CPUs' time).
    expect(report.meta.machine.busyPercent).toBeGreaterThan(0);
    expect(report.meta.machine.busyPercent).toBeLessThanOrEqual(100);
    expect(report.meta.machine.stealPercent).toBeGreaterThanOrEqual(0);
    expect(stdout).toContain('6. latency at low load');
    expect(report.flood).toEqual({ skipped: '--quick' });
    const names = report.targets.map((t: { name: string }) => t.name);
    expect(names).toHaveLength(16);
    // The offline section's grid rows (--jobs 2 over --jobs 1) are among them.
    expect(names.filter((n: string) => n.startsWith('offline: simulate grid'))).toHaveLength(2);
    for (const t of report.targets) expect([true, false, null]).toContain(t.met);
  });
});

import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNstat } from '../../src/observe/nstat.js';
import { StatsHistory, computeDeltas, parseHistory } from '../../src/observe/stats-history.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-hist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StatsHistory (nstat history, syndrop\'s own file)', () => {
  it('saves with mode 0600 in a 0700 directory and loads back', () => {
    const h = new StatsHistory(join(dir, 'run', 'syndrop', 'lab.nstat'));
    expect(h.load()).toBeNull();
    h.save({ TcpExtListenOverflows: 3, TcpExtListenDrops: 0 }, 1_700_000_000_123, 'start-42');
    expect(statSync(h.path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run', 'syndrop')).mode & 0o777).toBe(0o700);
    expect(readFileSync(h.path, 'utf8')).toBe(
      '#syndrop time=1700000000123 source=start-42\n' +
        'TcpExtListenOverflows           3                  0.0\n' +
        'TcpExtListenDrops               0                  0.0\n',
    );
    expect(h.load()).toEqual({ values: { TcpExtListenOverflows: 3, TcpExtListenDrops: 0 }, time: 1_700_000_000_123, source: 'start-42' });
  });

  it('replaces, never follows, a symlink planted at the path; refuses to read one', () => {
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious\n');
    const path = join(dir, 'planted.nstat');
    symlinkSync(target, path);
    const h = new StatsHistory(path);
    expect(h.load()).toBeNull();
    expect(h.lastProblem).toMatch(/ELOOP|not a private/);
    h.save({ TcpInSegs: 1 }, 1);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(h.load()?.values).toEqual({ TcpInSegs: 1 });
  });

  it('ignores a malformed file with a reason', () => {
    const path = join(dir, 'bad.nstat');
    writeFileSync(path, 'garbage\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    const h = new StatsHistory(path);
    expect(h.load()).toBeNull();
    expect(h.lastProblem).toMatch(/malformed/);
    expect(parseHistory('#syndrop time=5\nTcpInSegs 7\n')).toEqual({ values: { TcpInSegs: 7 }, time: 5, source: '' });
  });
});

describe('computeDeltas', () => {
  it('differences, rates per second, missing previous counts from zero', () => {
    const d = computeDeltas({ TcpExtListenDrops: 15, TcpExtListenOverflows: 4 }, { TcpExtListenDrops: 5 }, 2);
    expect(d.deltas).toEqual({ TcpExtListenDrops: 10, TcpExtListenOverflows: 4 });
    expect(d.rates).toEqual({ TcpExtListenDrops: 5, TcpExtListenOverflows: 2 });
    expect(d.overflow.size).toBe(0);
  });

  it('a counter that went backwards (instance restarted) shows its current value, marked (overflow)', () => {
    const d = computeDeltas({ TcpExtListenDrops: 3 }, { TcpExtListenDrops: 50 }, 1);
    expect(d.deltas.TcpExtListenDrops).toBe(3);
    expect([...d.overflow]).toEqual(['TcpExtListenDrops']);
    expect(renderNstat(d.deltas, { rates: d.rates, overflow: d.overflow })).toBe(
      '#kernel\nTcpExtListenDrops               3                  3.0 (overflow)\n',
    );
  });

  it('gauges are not differenced; no previous sample gives absolute values; zero elapsed gives zero rates', () => {
    const d = computeDeltas({ TcpCurrEstab: 7, TcpInSegs: 9 }, null, 0);
    expect(d.deltas).toEqual({ TcpCurrEstab: 7, TcpInSegs: 9 });
    expect(d.rates).toEqual({ TcpCurrEstab: 0, TcpInSegs: 0 });
  });
});

// nstat-style history for `syndrop stats` deltas. Like nstat (iproute2 misc/nstat.c), the
// previous sample is kept in a file and each run prints the difference; unlike nstat it is
// syndrop's own file (the CLI uses /run/syndrop/<instance>.nstat), never the user's
// /tmp/.nstat.u$UID, so running the real nstat never disturbs syndrop's deltas or back.
//
// File format: nstat's own history layout, so a human can `cat` it:
//   #syndrop time=<ms since epoch> source=<instance id>
//   TcpExtListenOverflows           3                  0.0
// Written whole to a temporary file (mode 0600) and renamed over the old one, so a reader
// never sees half a file and a symlink planted at the path is replaced, not followed.

import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COUNTERS } from '../stack/mib.js';
import { formatUnsigned, padRight } from './format.js';

export interface HistorySample {
  readonly values: Record<string, number>;
  /** Wall-clock time of the sample, ms since the epoch. */
  readonly time: number;
  /** Which syndrop instance produced it (e.g. its start time); '' when not recorded. */
  readonly source: string;
}

export class StatsHistory {
  /** Why the last load() returned null although a file existed (the CLI may warn). */
  lastProblem: string | null = null;

  constructor(readonly path: string) {}

  /** The previous sample, or null if there is none or it cannot be trusted. */
  load(): HistorySample | null {
    this.lastProblem = null;
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      this.lastProblem = `cannot open history ${this.path}: ${code ?? String(err)}`;
      return null;
    }
    try {
      const st = fstatSync(fd);
      // nstat refuses a history file that is not ours ("something is so wrong with history file")
      const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
      if (!st.isFile() || st.nlink !== 1 || st.uid !== uid) {
        this.lastProblem = `history ${this.path} is not a private regular file; ignoring it`;
        return null;
      }
      const sample = parseHistory(readFileSync(fd, 'utf8'));
      if (!sample) this.lastProblem = `history ${this.path} is malformed; ignoring it`;
      return sample;
    } finally {
      closeSync(fd);
    }
  }

  save(values: Readonly<Record<string, number>>, time: number, source = ''): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp${process.pid}`;
    try {
      writeFileSync(tmp, formatHistory(values, time, source), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.path);
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        /* nothing to clean */
      }
      throw err;
    }
  }
}

export function formatHistory(values: Readonly<Record<string, number>>, time: number, source: string): string {
  let out = `#syndrop time=${Math.trunc(time)}${source ? ` source=${source.replace(/\s/g, '_')}` : ''}\n`;
  for (const name of Object.keys(values)) out += `${padRight(name, 32)}${padRight(formatUnsigned(values[name]!), 16)}   0.0\n`;
  return out;
}

export function parseHistory(text: string): HistorySample | null {
  const lines = text.split('\n');
  const header = /^#syndrop time=(\d+)(?: source=(\S+))?$/.exec(lines[0] ?? '');
  if (!header) return null;
  const values: Record<string, number> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const m = /^(\S+)\s+(\d+)(?:\s+\S+)?$/.exec(line);
    if (!m) return null;
    values[m[1]!] = Number(m[2]);
  }
  return { values, time: Number(header[1]), source: header[2] ?? '' };
}

export interface Deltas {
  /** Per counter: the increase since `previous` (nstat's default output). */
  readonly deltas: Record<string, number>;
  /** Per counter: increase per second over `elapsedSeconds` (0 when elapsed ≤ 0). */
  readonly rates: Record<string, number>;
  /** Counters that went backwards: nstat prints these with ` (overflow)`. */
  readonly overflow: Set<string>;
}

const gauges: ReadonlySet<string> = new Set(COUNTERS.filter((c) => c.gauge).map((c) => c.name));

/**
 * nstat's dump_incr_db arithmetic, with one deliberate difference for counters that went
 * backwards. nstat shows such a counter as 0 with ` (overflow)` (and, being 0, hides it
 * unless -z): a wrapped kernel counter's true increase is unknowable. syndrop's counters
 * are doubles and never wrap, so going backwards only means the instance restarted with
 * the same name; the increase since the restart is then exactly the current value. We
 * report that value and still flag ` (overflow)`, so the line is both visible and marked.
 * A counter missing from `previous` counts from 0 (nstat does the same). Gauges (mib
 * `gauge`, e.g. TcpCurrEstab) are not differenced: their delta is the current value.
 */
export function computeDeltas(
  current: Readonly<Record<string, number>>,
  previous: Readonly<Record<string, number>> | null,
  elapsedSeconds: number,
): Deltas {
  const deltas: Record<string, number> = {};
  const rates: Record<string, number> = {};
  const overflow = new Set<string>();
  for (const name of Object.keys(current)) {
    const now = current[name]!;
    let delta: number;
    if (gauges.has(name)) delta = now;
    else {
      const before = previous?.[name] ?? 0;
      if (now < before) {
        overflow.add(name);
        delta = now;
      } else delta = now - before;
    }
    deltas[name] = delta;
    rates[name] = elapsedSeconds > 0 && !gauges.has(name) ? delta / elapsedSeconds : 0;
  }
  return { deltas, rates, overflow };
}

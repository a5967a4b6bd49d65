// `--report FILE` on run and scenario: the path is checked before the work starts (a typo must
// not cost a 60 s run), the report written at the end and its path and size told on stderr.

import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { usageError } from '../errors.js';
import type { ReportInput } from '../report/report.js';

/** The absolute path to write, or a usage error when its directory is missing or read-only. */
export function reportPath(file: string): string {
  const path = resolve(file);
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw usageError(`--report ${file}: cannot write in ${dir}`);
  }
  return path;
}

/** The command line as typed, for the report's header. */
export function commandLine(): string {
  return ['syndrop', ...process.argv.slice(2)].join(' ');
}

/**
 * The report module (vega, vega-lite) is loaded here, only when a report is asked for: loaded
 * at start it grew every `run`'s heap by ~25 MB, whose later shrinking paused the frame loop.
 */
export async function writeReportFile(path: string, input: ReportInput | ((report: typeof import('../report/report.js')) => ReportInput)): Promise<void> {
  const report = await import('../report/report.js');
  const bytes = await report.writeReport(path, typeof input === 'function' ? input(report) : input);
  process.stderr.write(`syndrop: report ${path} (${(bytes / 1024).toFixed(0)} KiB)\n`);
}

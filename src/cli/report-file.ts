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
 * at start it grew every command by ~15 MB of RSS, and the heap's later shrinking paused `run`'s frame loop.
 */
export async function writeReportFile(path: string, input: ReportInput): Promise<void> {
  const { writeReport } = await import('../report/report.js');
  const bytes = await writeReport(path, input);
  process.stderr.write(`syndrop: report ${path} (${(bytes / 1024).toFixed(0)} KiB)\n`);
}

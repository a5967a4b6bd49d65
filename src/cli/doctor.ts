// `syndrop doctor`: the explain diagnosis for a real Linux host — live (current or named
// network namespace) or from a bundle collected elsewhere — or --collect to write a bundle.

import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { readBundle } from '../doctor/bundle.js';
import { readingFromCaptures } from '../doctor/captures.js';
import { writeBundle } from '../doctor/collect.js';
import { diagnose, hasDropFinding } from '../doctor/diagnose.js';
import { captureLive } from '../doctor/live.js';
import { renderDoctor } from '../doctor/render.js';
import { printJson } from './common.js';

/** `--fail-on-drops` and a drop found: monitoring scripts tell it from failures (1) and usage (2). */
const EXIT_DROPS_FOUND = 3;

interface DoctorOptions {
  netns?: string;
  interval?: number;
  json?: boolean;
  failOnDrops?: boolean;
  bundle?: string;
  collect?: string;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds > 3600) throw usageError(`--interval ${value}: expected seconds, 0 to 3600`);
  return seconds;
}

function checkCombination(options: DoctorOptions): void {
  if (options.bundle !== undefined && options.collect !== undefined) throw usageError('--bundle reads a bundle, --collect writes one: choose one');
  if (options.bundle !== undefined && (options.netns !== undefined || options.interval !== undefined)) {
    throw usageError('--netns and --interval apply to live reads, not to --bundle');
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('diagnose SYN drops on this Linux host (or a bundle from another): what, which rule of that kernel, evidence, fix')
    .option('--netns <name>', 'read inside this network namespace (ip netns) instead of the current one')
    .option('--interval <seconds>', 'read counters twice this far apart for rates (0 = once; default 5)', parseSeconds)
    .option('--json', 'print JSON')
    .option('--fail-on-drops', `exit ${EXIT_DROPS_FOUND} when a drop is happening (for monitoring)`)
    .option('--bundle <dir>', 'diagnose files collected elsewhere (uname -r, nstat -az, netstat -s, ss -ltn, sysctl -a, dmesg …)')
    .option('--collect <dir>', 'write what doctor reads on this host as a bundle, diagnose nothing')
    .action(async (options: DoctorOptions) => {
      checkCombination(options);
      if (options.collect !== undefined) {
        const live = { netns: options.netns, intervalSeconds: options.interval ?? 5 };
        const { captures, notes } = await captureLive(live);
        const files = await writeBundle(options.collect, captures, notes, sourceName(options.netns));
        if (options.json) return printJson({ dir: options.collect, files, notes });
        process.stdout.write(`syndrop doctor: wrote ${files.length} files to ${options.collect}${notes.map((n) => `\n   Note:     ${n}`).join('')}\n`);
        return;
      }
      const reading =
        options.bundle !== undefined
          ? await readBundle(options.bundle)
          : await captureLive({ netns: options.netns, intervalSeconds: options.interval ?? 5 }).then(({ captures, notes }) =>
              readingFromCaptures(sourceName(options.netns), captures, notes),
            );
      const report = diagnose(reading);
      if (options.json) printJson(report);
      else process.stdout.write(renderDoctor(report));
      if (options.failOnDrops && hasDropFinding(report)) process.exitCode = EXIT_DROPS_FOUND;
    });
}

function sourceName(netns: string | undefined): string {
  return netns === undefined ? 'live, this network namespace' : `live, network namespace ${netns}`;
}

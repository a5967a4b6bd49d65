// `syndrop verify`: the differential suite — each scenario against the host's real kernel and
// against the matching profile, compared step by step (scenarios in assets/verify/scenarios/).

import type { Command } from 'commander';
import { requireRoot } from '../lab/lab.js';
import { resolveProfile } from '../profiles/resolve.js';
import { usageError } from '../errors.js';
import { formatVerifyTable, runVerify } from '../verify/harness.js';
import { collect, printJson } from './common.js';

interface VerifyOptions {
  kernel: string;
  profile?: string;
  only: string[];
  json?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('run the differential scenarios against the host kernel and the matching profile; print agreements and the first differing step')
    .option('--kernel <which>', "reference kernel: 'host' (the only one available: this machine's kernel, in the lab's server namespace)", 'host')
    .option('--profile <version>', 'syndrop profile to compare with (default 6.x, the host kernel 6.13+)', '6.x')
    .option('--only <name>', 'run only this scenario (repeatable; a trailing * matches a prefix)', collect, [])
    .option('--json', 'print the full report as JSON')
    .action(async (options: VerifyOptions) => {
      if (options.kernel !== 'host') throw usageError(`--kernel ${options.kernel}: only 'host' is supported (the real kernel this machine runs)`);
      requireRoot();
      const profile = resolveProfile(options.profile).name;
      const report = await runVerify({
        profile,
        only: options.only.length > 0 ? options.only : undefined,
        onScenario: options.json
          ? undefined
          : (r, i, total) => process.stderr.write(`[${i + 1}/${total}] ${r.name}: ${r.agree ? 'agree' : r.error ? 'error' : 'disagree'} (${(r.durationMs / 1000).toFixed(1)} s)\n`),
      });
      if (options.json) printJson(report);
      else process.stdout.write(formatVerifyTable(report) + '\n');
      process.exitCode = report.unexpected === 0 ? 0 : 1;
    });
}

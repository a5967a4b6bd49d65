// `syndrop explain`: a diagnosis in plain words from counters, events, sysctls and profile.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { renderExplain } from '../observe/explain.js';
import { controlPathOf, printJson, withControlOptions, type ControlOptions } from './common.js';

export function registerExplain(program: Command): void {
  withControlOptions(
    program
      .command('explain')
      .description('diagnose drops: what, since when, by which kernel rule, the evidence and the fix')
      .option('--json', 'print JSON'),
  ).action(async (options: ControlOptions & { json?: boolean }) => {
    const reply = await request(controlPathOf(options), 'explain', {});
    if (options.json) return printJson(reply);
    process.stdout.write(renderExplain(reply.problems, reply.profile));
  });
}

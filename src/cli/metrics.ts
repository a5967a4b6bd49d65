// `syndrop metrics [flush [ADDR]]`: the per-host tcp_metrics cache, like `ip tcp_metrics`.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { controlPathOf, printJson, withControlOptions, type ControlOptions } from './common.js';

export function registerMetrics(program: Command): void {
  const metrics = withControlOptions(
    program
      .command('metrics')
      .description('per-peer tcp_metrics (remembered timestamps, RTT) like `ip tcp_metrics show`')
      .option('--json', 'print JSON'),
  ).action(async (options: ControlOptions & { json?: boolean }) => {
    const reply = await request(controlPathOf(options), 'metrics', {});
    if (options.json) return printJson(reply);
    for (const e of reply.entries) process.stdout.write(`${e.line}\n`);
  });
  withControlOptions(
    metrics
      .command('flush')
      .description('forget one peer (ADDR) or all, like `ip tcp_metrics flush`')
      .argument('[address]', 'peer address'),
  ).action(async (address: string | undefined, options: ControlOptions) => {
    const reply = await request(controlPathOf({ ...metrics.opts(), ...options }), 'metrics.flush', { address });
    process.stdout.write(`flushed ${reply.flushed} entr${reply.flushed === 1 ? 'y' : 'ies'}\n`);
  });
}

// `syndrop app pause|resume|rate N|status`: change the application's accept() behaviour live.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { decodeAppRequest } from '../control/contract.js';
import { controlPathOf, withControlOptions, type ControlOptions } from './common.js';

export function registerApp(program: Command): void {
  withControlOptions(
    program
      .command('app')
      .description('control the application behind the listener: pause / resume accept(), or set its accept rate')
      .argument('<action>', 'pause | resume | rate | status')
      .argument('[rate]', 'accept() calls per second for `rate` (0 = never)'),
  ).action(async (action: string, rate: string | undefined, options: ControlOptions) => {
    // The server's own decoder: a bad action or rate is refused here, before connecting.
    const reply = await request(controlPathOf(options), 'app', decodeAppRequest({ action, rate }));
    process.stdout.write(`accept ${reply.paused ? 'paused' : 'running'}, rate ${reply.acceptRate}\n`);
  });
}

// `syndrop ss`: the listener as `ss -lnt` shows it; -a adds request socks, connections, TIME_WAIT.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { renderSsAll, renderSsListeners } from '../observe/ss.js';
import { controlPathOf, printJson, withControlOptions, type ControlOptions } from './common.js';

export function registerSs(program: Command): void {
  withControlOptions(
    program
      .command('ss')
      .description('socket view like `ss -lnt` (Recv-Q = accept queue, Send-Q = its limit); -a like `ss -tano`')
      .option('-a, --all', 'also request socks (SYN-RECV), connections and TIME_WAIT, with timers')
      .option('-e, --extended', 'add SYN queue length/limit, young count and drops (syndrop extension)')
      .option('-l, --listening', 'listeners only (the default)')
      .option('-n, --numeric', 'numeric addresses (always)')
      .option('-t, --tcp', 'TCP (always)')
      .option('--json', 'print JSON'),
  ).action(async (options: ControlOptions & { all?: boolean; extended?: boolean; json?: boolean }) => {
    const reply = await request(controlPathOf(options), 'ss', {});
    if (options.json) return printJson(options.all ? reply : { profile: reply.profile, listeners: reply.listeners });
    const screenWidth = process.stdout.isTTY ? process.stdout.columns : undefined;
    process.stdout.write(
      options.all
        ? renderSsAll(reply.listeners, reply.sockets, { extended: options.extended, screenWidth })
        : renderSsListeners(reply.listeners, { extended: options.extended, screenWidth }),
    );
  });
}

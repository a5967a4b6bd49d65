// `syndrop sysctl [name[=value]]...`: read or change the running instance's sysctls live.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { controlPathOf, printJson, withControlOptions, type ControlOptions } from './common.js';

export function registerSysctl(program: Command): void {
  withControlOptions(
    program
      .command('sysctl')
      .description('read or set sysctls of the running instance, like sysctl(8): `syndrop sysctl net.ipv4.tcp_syncookies=0`')
      .argument('[settings...]', 'name (read) or name=value (write); none: list all')
      .option('--json', 'print JSON'),
  ).action(async (settings: string[], options: ControlOptions & { json?: boolean }) => {
    const path = controlPathOf(options);
    const set = settings.filter((s) => s.includes('='));
    const get = settings.filter((s) => !s.includes('='));
    const reply = await request(path, 'sysctl', { set, get });
    let values = reply.values;
    if (set.length > 0 && get.length > 0) {
      const again = await request(path, 'sysctl', { get });
      values = [...reply.values, ...again.values];
    }
    if (options.json) return printJson(Object.fromEntries(values.map((v) => [v.name, v.value])));
    for (const v of values) process.stdout.write(`${v.name} = ${typeof v.value === 'number' ? v.value : v.value.join('\t')}\n`);
  });
}

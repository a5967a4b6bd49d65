// --collect DIR: what live mode reads, written as a bundle (one file per command, named after
// it) so `syndrop doctor --bundle DIR` on another machine gives the same diagnosis.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SyndropError } from '../errors.js';
import { BUNDLE_README, type Capture } from './captures.js';

/** Which command each bundle file holds, for the README file of the bundle. */
function describe(capture: Capture): string {
  const commands: Record<string, string> = {
    uname: 'uname -r',
    'os-release': 'cat /etc/os-release',
    'proc-counters': capture.file.includes('snmp') ? 'cat /proc/net/snmp' : 'cat /proc/net/netstat',
    ss: 'ss -ltn',
    sysctl: 'sysctl -a',
    'kernel-log': 'dmesg (or journalctl -k)',
    'tcp-metrics': 'ip tcp_metrics show',
    interval: 'seconds between the first and the .later counter readings',
  };
  return `${capture.file}: ${commands[capture.kind] ?? capture.kind}${capture.later ? ' (second reading)' : ''}`;
}

export async function writeBundle(dir: string, captures: Capture[], notes: string[], source: string): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `--collect ${dir}: ${(error as Error).message}`);
  }
  const written: string[] = [];
  for (const capture of captures) {
    if (capture.text === '') continue;
    await writeFile(join(dir, capture.file), capture.text);
    written.push(capture.file);
  }
  const readme = [`syndrop doctor bundle from ${source}, ${new Date().toISOString()}`, ...captures.filter((c) => c.text !== '').map(describe), ...notes.map((n) => `not collected: ${n}`)];
  await writeFile(join(dir, BUNDLE_README), `${readme.join('\n')}\n`);
  return written;
}

// `syndrop events`: each decision of the stack, with its reason and the counters it touched.

import type { Command } from 'commander';
import { follow, request } from '../control/client.js';
import type { EventRecord } from '../observe/snapshot.js';
import { controlPathOf, parseNonNegativeInt, withControlOptions, type ControlOptions } from './common.js';

interface EventsOptions extends ControlOptions {
  follow?: boolean;
  json?: boolean;
  reason?: string;
  peer?: string;
  last: number;
}

export function formatEvent(e: EventRecord): string {
  const ts = e.tsval === null ? '' : ` TS ${e.tsval}/${e.tsecr}`;
  const reason = e.reason === null ? '' : ` reason=${e.reason}${e.reasonSource === 'syndrop' ? '(syndrop)' : ''}`;
  const counters = e.counters.length > 0 ? ` [${e.counters.map((c) => `${c}+1`).join(' ')}]` : '';
  return `${e.time.slice(11, 23)} ${e.src} > ${e.dst} ${e.flags} ${e.verdict}${reason}${ts} — ${e.text}${counters}`;
}

export function registerEvents(program: Command): void {
  withControlOptions(
    program
      .command('events')
      .description('per-packet decisions: SYN queued, cookie sent, drops with reason, overflows, RSTs, TIME_WAIT')
      .option('-f, --follow', 'keep printing new events (Ctrl-C stops)')
      .option('--json', 'one JSON object per line')
      .option('--reason <name>', 'only this drop reason or verdict (e.g. TCP_REQQFULLDROP, PAWS_PASSIVE_PER_HOST)')
      .option('--peer <addr>', 'only events from this address (or address:port)')
      .option('-n, --last <n>', 'how many recent events', parseNonNegativeInt('--last'), 50),
  ).action(async (options: EventsOptions) => {
    const path = controlPathOf(options);
    const print = (e: EventRecord) => process.stdout.write(`${options.json ? JSON.stringify(e) : formatEvent(e)}\n`);
    const reply = await request(path, 'events', { reason: options.reason, peer: options.peer, last: options.last });
    if (reply.lost > 0 && !options.json) process.stderr.write(`syndrop: ${reply.lost} older events were overwritten in the ring\n`);
    reply.events.forEach(print);
    if (!options.follow) return;
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    await follow(path, 'events.follow', { reason: options.reason, peer: options.peer, from: reply.next }, print, { signal: controller.signal });
  });
}

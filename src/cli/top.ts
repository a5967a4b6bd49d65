// `syndrop top`: a live view refreshed every second; q or Ctrl-C quits and restores the terminal.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { renderTop } from '../observe/top.js';
import { controlPathOf, withControlOptions, type ControlOptions } from './common.js';

export function registerTop(program: Command): void {
  withControlOptions(
    program
      .command('top')
      .description('live view: SYN/s, SYN-ACK/s, drops/s by reason, queue fill, top talkers')
      .option('--once', 'print one screen (two samples one second apart) and exit'),
  ).action(async (options: ControlOptions & { once?: boolean }) => {
    const path = controlPathOf(options);
    const sample = () => request(path, 'top', {});
    let previous = await sample();
    const tty = process.stdout.isTTY && !options.once;
    const stdin = process.stdin;
    let done = false;
    const finish = () => {
      done = true;
    };
    if (tty) {
      process.stdout.write('\x1b[?1049h\x1b[?25l');
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        stdin.resume();
        stdin.on('data', (key: Buffer) => {
          if (key[0] === 0x71 || key[0] === 0x03) finish();
        });
      }
      process.once('SIGINT', finish);
    }
    try {
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (done) break;
        const current = await sample();
        const screen = renderTop(previous, current, process.stdout.columns ?? 80);
        process.stdout.write(tty ? `\x1b[H\x1b[2J${screen}` : screen);
        previous = current;
        if (!tty) break;
      }
    } finally {
      if (tty) {
        process.stdout.write('\x1b[?25h\x1b[?1049l');
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
      }
    }
  });
}

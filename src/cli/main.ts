// syndrop's command line. Each subcommand lives in its own file; this one wires them and
// turns expected failures into one line and an exit code (0 ok, 1 runtime, 2 usage).

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_RUNTIME, EXIT_USAGE, SyndropError } from '../errors.js';
import { registerApp } from './app.js';
import { registerDoctor } from './doctor.js';
import { registerEvents } from './events.js';
import { registerExplain } from './explain.js';
import { registerLab } from './lab.js';
import { registerMetrics } from './metrics.js';
import { registerProfiles } from './profiles.js';
import { registerReplay } from './replay.js';
import { registerRun } from './run.js';
import { registerScenario } from './scenario.js';
import { registerSimulate } from './simulate.js';
import { registerSs } from './ss.js';
import { registerStats } from './stats.js';
import { registerSysctl } from './sysctl.js';
import { registerTop } from './top.js';
import { registerVerify } from './verify.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('syndrop')
    .description('Reproduce and explain the Linux TCP listen path per kernel version: SYN queue, syncookies, accept queue, tw_recycle PAWS')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerLab(program);
  registerRun(program);
  registerStats(program);
  registerSs(program);
  registerEvents(program);
  registerExplain(program);
  registerSysctl(program);
  registerMetrics(program);
  registerApp(program);
  registerTop(program);
  registerProfiles(program);
  registerVerify(program);
  registerScenario(program);
  registerReplay(program);
  registerSimulate(program);
  registerDoctor(program);
  // Every subcommand reports commander errors through exitOverride too.
  const override = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  program.commands.forEach(override);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (error instanceof SyndropError) {
      process.stderr.write(`syndrop: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`syndrop: internal error: ${message}\n`);
    return EXIT_RUNTIME;
  }
}

// `syndrop stats | head`: a reader that goes away is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await main(process.argv);
process.exitCode = code;

// Small helpers every subcommand shares: where the control socket is, JSON output.

import type { Command } from 'commander';
import { controlSocketPath } from '../control/paths.js';
import { usageError } from '../errors.js';

export interface ControlOptions {
  control?: string;
  instance?: string;
}

/** Adds --control/--instance to a command that talks to a running instance. */
export function withControlOptions(command: Command): Command {
  return command
    .option('--control <path>', 'control socket of the running instance (default /run/syndrop/<instance>.sock)')
    .option('--instance <name>', 'instance name (several `syndrop run` at once)');
}

export function controlPathOf(options: ControlOptions): string {
  return controlSocketPath({ path: options.control, instance: options.instance });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function parseNonNegativeInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw usageError(`${flag} ${value}: expected a whole number ≥ 0`);
    return Number(value);
  };
}

export function parseInteger(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw usageError(`${flag} ${value}: expected a whole number`);
    return Number(value);
  };
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw usageError(`--port ${value}: expected 1..65535`);
  return port;
}

/** Collects a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

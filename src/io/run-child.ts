// `syndrop run` as a child process, up and serving: what scenarios, verify, the reliability
// tools and the integration tests all need. One place knows how to start it, how to tell
// it is ready (its control socket answers `ping`) and how to stop it.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../control/client.js';
import { SyndropError } from '../errors.js';

/** The package root, from this module's place (src/io under vitest, dist/io after tsc). */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** bin/syndrop of this checkout. */
export function syndropBin(): string {
  return join(packageRoot(), 'bin', 'syndrop');
}

export interface RunChildOptions {
  /** Control socket the child serves (pass the same via --control or SYNDROP_CONTROL). */
  controlPath: string;
  env?: NodeJS.ProcessEnv;
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
}

export interface RunChild {
  readonly child: ChildProcess;
  /** What the child wrote to stderr so far (bounded). */
  stderr(): string;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const STDERR_LIMIT = 64 * 1024;

/** Starts `syndrop run ARGS` and resolves once its control socket answers. */
export async function startRunChild(args: readonly string[], options: RunChildOptions): Promise<RunChild> {
  const child = spawn(process.execPath, [syndropBin(), 'run', ...args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: RunChild = {
    child,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    try {
      await request(options.controlPath, 'ping', {}, { timeoutMs: 1000 });
      return handle;
    } catch (error) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        const why = stderr.trim().split('\n').pop() || String(error);
        throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `syndrop run did not come up: ${why}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

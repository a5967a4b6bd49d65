// Integration fixture: a real lab (namespaces, NAT, TUN) under a test prefix, a real
// `syndrop run` process, real clients. Needs root and the Debian tools; in CI a missing
// prerequisite fails loudly, elsewhere the suite is skipped with the reason printed.

import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../../src/control/client.js';
import { startRunChild } from '../../src/io/run-child.js';
import { haveTool, run, runInNetns, type RunResult } from '../../src/lab/exec.js';
import { labDown, labUp } from '../../src/lab/lab.js';

export const TEST_PREFIX = process.env.SYNDROP_TEST_LAB_PREFIX ?? 'sdt';
export const TEST_INSTANCE = process.env.SYNDROP_TEST_INSTANCE ?? 'test';
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'bin', 'syndrop');
export const CONTROL_PATH = `/run/syndrop/${TEST_INSTANCE}.sock`;
export const EMULATED = '10.77.0.2';

/** Environment every syndrop child process of the tests gets. */
export const TEST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  SYNDROP_LAB_PREFIX: TEST_PREFIX,
  SYNDROP_INSTANCE: TEST_INSTANCE,
};

export function ns(node: 'srv' | 'nat' | 'c1' | 'c2' | 'c3'): string {
  return `${TEST_PREFIX}-${node}`;
}

/** Why integration tests cannot run here, or undefined. Throws in CI. */
export async function integrationPrerequisites(tools: string[] = ['ip', 'iptables', 'curl']): Promise<string | undefined> {
  let reason: string | undefined;
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) reason = 'needs root (namespaces, TUN)';
  else if (!existsSync('/dev/net/tun')) reason = 'no /dev/net/tun';
  else if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) reason = 'not built: run make';
  else if (!existsSync(join(ROOT, 'native', 'build', 'Release', 'syndrop_tun.node'))) reason = 'native addon not built: run make';
  else {
    for (const tool of tools) {
      if (!(await haveTool(tool))) {
        reason = `'${tool}' not installed (apt-get install it)`;
        break;
      }
    }
  }
  if (reason !== undefined && process.env.CI) throw new Error(`integration prerequisites missing in CI: ${reason}`);
  if (reason !== undefined) console.warn(`skipping integration tests: ${reason}`);
  return reason;
}

export async function testLabUp(): Promise<void> {
  await labUp({ prefix: TEST_PREFIX });
}

export async function testLabDown(): Promise<void> {
  await labDown({ prefix: TEST_PREFIX });
}

/** Runs the CLI (not `run`) and returns its exit code and output. */
export async function cli(args: string[], timeoutMs = 20_000): Promise<RunResult> {
  return run([process.execPath, CLI, ...args], { env: TEST_ENV, allowFailure: true, timeoutMs });
}

export async function cliJson<T>(args: string[]): Promise<T> {
  const result = await cli(args);
  if (result.code !== 0) throw new Error(`syndrop ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export interface RunningSyndrop {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  stats(): Promise<Record<string, number>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `syndrop run ARGS` in the background and waits until its control socket answers. */
export async function startSyndrop(args: string[]): Promise<RunningSyndrop> {
  const run = await startRunChild(args, { controlPath: CONTROL_PATH, env: TEST_ENV });
  return {
    child: run.child,
    stderr: run.stderr,
    stats: async () => (await request(CONTROL_PATH, 'stats', {})).counters,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => run.stop(signal),
  };
}

/** curl from a lab client; returns the HTTP code ('000' when it failed) and curl's exit code. */
export async function curlFrom(
  client: 'c1' | 'c2' | 'c3',
  url = `http://${EMULATED}/`,
  extra: string[] = ['-m', '3'],
): Promise<{ httpCode: string; exitCode: number; body: string }> {
  const result = await runInNetns(ns(client), ['curl', '-s', '-w', '\n%{http_code}', ...extra, url], {
    allowFailure: true,
    timeoutMs: 30_000,
  });
  const lines = result.stdout.split('\n');
  const httpCode = lines.pop() ?? '000';
  return { httpCode, exitCode: result.code, body: lines.join('\n') };
}

export { runInNetns, run };

// Running external tools (ip, iptables, nft, sysctl, ethtool, clients) without a shell: every
// command is an argv array handed to execFile/spawn, so no name or address is ever parsed by sh.

import { execFile, spawn } from 'node:child_process';
import { access, constants as fsConstants } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename } from 'node:path';
import { SyndropError } from '../errors.js';

/** Debian package that provides each tool the lab or its tests call. */
const debianPackageOf: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  ss: 'iproute2',
  nstat: 'iproute2',
  iptables: 'iptables',
  nft: 'nftables',
  sysctl: 'procps',
  ethtool: 'ethtool',
  curl: 'curl',
  tcpdump: 'tcpdump',
  hping3: 'hping3',
  conntrack: 'conntrack',
  tshark: 'tshark',
};

export function missingToolError(tool: string): SyndropError {
  const name = basename(tool);
  const pkg = debianPackageOf[name];
  const hint = pkg ? `install it: apt-get install ${pkg}` : 'install it or fix PATH';
  return new SyndropError('SYNDROP_ERR_MISSING_TOOL', `'${name}' not found: ${hint}`);
}

export interface RunOptions {
  /** Kill the command (SIGTERM, then SIGKILL) after this long. Default 10 s. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  argv: readonly string[];
  /** Exit code; 128 + signal number when killed by a signal (shell convention). */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function signalExitCode(signal: NodeJS.Signals | null): number {
  if (!signal) return 1;
  const number = (osConstants.signals as Record<string, number>)[signal];
  return number ? 128 + number : 1;
}

/** First line of a command's stderr, for one-line error messages. */
function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line ? line.trim() : '';
}

function describe(argv: readonly string[]): string {
  return argv.join(' ');
}

/**
 * `ip netns exec NS cmd` reports a missing cmd itself (exit 1, `exec of "cmd" failed: No such
 * file or directory`) instead of failing the spawn: recognise that so the caller still gets
 * SYNDROP_ERR_MISSING_TOOL.
 */
function missingUnderNetnsExec(stderr: string): string | undefined {
  const match = /exec of "([^"]+)" failed: No such file or directory/.exec(stderr);
  return match ? match[1] : undefined;
}

/** Run argv[0] with argv[1..] and capture its output. Never uses a shell. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  if (argv.length === 0) throw new TypeError('run: empty argv');
  const [file, ...args] = argv;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<RunResult>((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: MAX_OUTPUT_BYTES,
        encoding: 'utf8',
        env: options.env ?? process.env,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(missingToolError(file));
          return;
        }
        const failure = error as (Error & { code?: number | string; killed?: boolean; signal?: NodeJS.Signals | null }) | null;
        if (failure && typeof failure.code === 'string') {
          // Spawn-level failure (EACCES, E2BIG …), not an exit status.
          reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${describe(argv)}: ${failure.message}`));
          return;
        }
        const signal = failure?.signal ?? null;
        const code = failure ? (typeof failure.code === 'number' ? failure.code : signalExitCode(signal)) : 0;
        const result: RunResult = { argv, code, signal, stdout, stderr };
        if (failure?.killed && signal === 'SIGKILL') {
          reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${describe(argv)}: timed out after ${timeoutMs} ms`));
          return;
        }
        const missing = code !== 0 ? missingUnderNetnsExec(stderr) : undefined;
        if (missing !== undefined) {
          reject(missingToolError(missing));
          return;
        }
        if (code !== 0 && !options.allowFailure) {
          const why = firstLine(stderr) || firstLine(stdout) || `exit code ${code}`;
          reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${describe(argv)}: ${why}`));
          return;
        }
        resolve(result);
      },
    );
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {
        // The command may exit without reading its stdin; its exit status tells the story.
      });
      child.stdin?.end(options.input);
    } else {
      child.stdin?.end();
    }
  });
}

/** Run argv inside network namespace ns (`ip netns exec ns argv...`). */
export function runInNetns(ns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', ns, ...argv], options);
}

/**
 * Run argv with the caller's stdin/stdout/stderr and return its exit code (128 + signal number
 * when it died of a signal). SIGINT/SIGTERM/SIGHUP sent to us are forwarded to the child instead
 * of killing us first, so the exit code of the child is what the caller reports.
 */
export function runInherited(argv: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  if (argv.length === 0) throw new TypeError('runInherited: empty argv');
  const [file, ...args] = argv;
  return new Promise<number>((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', env: options.env ?? process.env });
    const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of forwarded) process.on(signal, forward);
    const cleanup = (): void => {
      for (const signal of forwarded) process.off(signal, forward);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      reject(error.code === 'ENOENT' ? missingToolError(file) : new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${describe(argv)}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? signalExitCode(signal));
    });
  });
}

/** True when `tool` can be found on PATH (used to pick iptables or nft, and by tests). */
export async function haveTool(tool: string): Promise<boolean> {
  if (tool.includes('/')) return isExecutable(tool);
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const dir of dirs) {
    if (await isExecutable(`${dir}/${tool}`)) return true;
  }
  return false;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// The processes the TUN and latency sections start in the bench lab: the C reflector and
// `syndrop run` on the lab's TUN, pinned to the server CPU, each bounded by its own --seconds or
// `timeout`, all tracked so a teardown can end them by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { BIN_DIR } from '../../assets.js';
import { request } from '../../control/client.js';

/** `syndrop run` arguments of the cookie path: every SYN answered statelessly. */
export const COOKIE_ARGS = ['--sysctl', 'net.ipv4.tcp_syncookies=2'];
/** The queued path with raised limits: every SYN gets a request sock, none retransmits. */
export const QUEUED_ARGS = [
  '--backlog', '2147483647',
  '--sysctl', 'net.ipv4.tcp_syncookies=1',
  '--sysctl', 'net.core.somaxconn=2147483647',
  '--sysctl', 'net.ipv4.tcp_max_syn_backlog=2147483647',
  '--sysctl', 'net.ipv4.tcp_synack_retries=0',
];

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return { out: () => out, err: () => err };
}

export function lastJsonLine<T>(text: string): T | null {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      return JSON.parse(t) as T;
    } catch {
      // keep looking
    }
  }
  return null;
}

/** utime + stime of a process, in clock ticks (100 Hz), or null once it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

export interface LabServerOptions {
  root: string;
  prefix: string;
  instance: string;
  srv: string;
  tunDev: string;
  serverCpu: number;
}

export interface ReflectorHandle {
  pid: number;
  /** SIGTERM, then its JSON summary (null if it printed none). */
  stop(): Promise<{ synAcks: number; perSec?: number; cpuNsPerFrame: number } | null>;
}

export interface SyndropHandle {
  pid: number;
  counters(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export class LabServers {
  readonly children = new Set<ChildProcess>();
  readonly controlPath: string;

  constructor(private readonly o: LabServerOptions) {
    this.controlPath = `/run/syndrop/${o.instance}.sock`;
  }

  spawn(argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async stopAll(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    for (const child of [...this.children]) await waitExit(child, 3000);
  }

  /** The C reflector (or its Node twin on syndrop's addon, node-reflector.ts) on the lab TUN;
   *  answers within 0.5 s (Node: 1 s) of the call. */
  async startReflector(seconds: number, kind: 'c' | 'node' = 'c'): Promise<ReflectorHandle> {
    const program = kind === 'c' ? [join(BIN_DIR, 'reflector')] : [process.execPath, join(this.o.root, 'dist/tools/bench/node-reflector.js')];
    const child = this.spawn([
      'taskset', '-c', String(this.o.serverCpu), ...program,
      '--netns', this.o.srv, '--dev', this.o.tunDev, '--seconds', String(seconds),
    ]);
    const io = collect(child);
    await sleep(kind === 'c' ? 500 : 1000);
    return {
      pid: child.pid ?? 0,
      stop: async () => {
        child.kill('SIGTERM');
        await waitExit(child, 5000);
        return lastJsonLine(io.out());
      },
    };
  }

  /** `syndrop run --kernel 6.x --quiet ARGS` on the lab TUN, up once its control socket answers. */
  async startSyndrop(seconds: number, args: string[]): Promise<SyndropHandle> {
    const env = { ...process.env, SYNDROP_LAB_PREFIX: this.o.prefix, SYNDROP_INSTANCE: this.o.instance };
    const child = this.spawn(
      [
        'timeout', '-s', 'TERM', String(seconds),
        // bin/syndrop, as users start it: its shebang's node flags are part of what is measured.
        'taskset', '-c', String(this.o.serverCpu), join(this.o.root, 'bin', 'syndrop'), 'run',
        '--kernel', '6.x', '--quiet', ...args,
      ],
      env,
    );
    const io = collect(child);
    let pid = 0;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        pid = (await request(this.controlPath, 'ping', {}, { timeoutMs: 1000 })).pid;
        break;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          child.kill('SIGTERM');
          throw new Error(`syndrop run did not come up: ${String(error)}\n${io.err().slice(-500)}`);
        }
        await sleep(100);
      }
    }
    await sleep(300);
    return {
      pid,
      counters: async () => (await request(this.controlPath, 'stats', {}, { timeoutMs: 5000 })).counters,
      stop: async () => {
        child.kill('SIGTERM');
        await waitExit(child, 8000);
      },
    };
  }
}

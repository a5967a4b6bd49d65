// The two servers a differential scenario runs against: the host's real kernel (a small Python
// listener in the lab's server namespace, sysctls written there and restored after) and
// `syndrop run` on the lab's TUN. Both expose the same tiny surface: start, counters, stop.

import { spawn, type ChildProcess } from 'node:child_process';
import { assetPath, PYTHON } from '../assets.js';
import { request } from '../control/client.js';
import { SyndropError } from '../errors.js';
import { run, runInNetns } from '../lab/exec.js';
import { EMULATED_HOST6, type LabTopology } from '../lab/topology.js';
import type { VerifyFamily } from './family.js';
import { startRunChild, type RunChild } from '../io/run-child.js';
import type { Scenario } from './scenario.js';

export type SideName = 'kernel' | 'syndrop';

export interface ServerSide {
  readonly name: SideName;
  /** Address the clients connect to. */
  readonly address: string;
  start(scenario: Scenario, port: number): Promise<void>;
  /** Absolute counter values now (nstat names). */
  counters(): Promise<Record<string, number>>;
  /** The "Possible SYN flooding" lines logged for this listener's port so far. */
  floodLog(port: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** Lines of `text` that are the listen path's flood warning for `port` (either text, §1.3). */
export function floodLines(text: string, port: number): string[] {
  const mine = new RegExp(`Possible SYN flooding on port (\\S+:)?${port}\\.`);
  return text
    .split('\n')
    .map((line) => line.replace(/^<\d+>/, '').replace(/^\[[^\]]*\]\s*/, '').trim())
    .filter((line) => mine.test(line));
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => finish(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${what}: not ready within ${timeoutMs} ms ${stderr.trim()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      if (pattern.test(buffered)) finish();
    };
    const onErr = (chunk: Buffer): void => {
      stderr += chunk.toString();
    };
    const onExit = (): void => finish(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${what} exited: ${stderr.trim()}`));
    const finish = (error?: SyndropError): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess | null, graceMs = 3000): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The real kernel: listener.py bound in the server namespace. */
export class KernelSide implements ServerSide {
  readonly name = 'kernel' as const;
  readonly address: string;
  private child: ChildProcess | null = null;
  private saved: Array<[string, string]> = [];

  constructor(private readonly topology: LabTopology, address = '10.77.3.1') {
    this.address = address;
  }

  private get netns(): string {
    return this.topology.nodes.srv.netns;
  }

  async start(scenario: Scenario, port: number): Promise<void> {
    const entries = Object.entries(scenario.sysctls ?? {});
    if (entries.length > 0) {
      const { stdout } = await runInNetns(this.netns, ['sysctl', '-n', ...entries.map(([k]) => k)]);
      const values = stdout.trim().split('\n');
      this.saved = entries.map(([k], i) => [k, (values[i] ?? '').trim()]);
      await runInNetns(this.netns, ['sysctl', '-q', '-w', ...entries.map(([k, v]) => `${k}=${v}`)]);
    }
    const accept = scenario.accept === 'never' || scenario.accept === 'fast' ? scenario.accept : String(scenario.accept);
    const script = assetPath('verify', 'kernel-listener.py');
    this.child = spawn('ip', ['netns', 'exec', this.netns, PYTHON, script, this.address, String(port), String(scenario.backlog), accept, scenario.app], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await waitForLine(this.child, /ready/, 5000, 'kernel listener');
  }

  /** The kernel log is the host's, not the namespace's: the port tells the scenarios apart. */
  async floodLog(port: number): Promise<string[]> {
    const { stdout } = await run(['dmesg'], { allowFailure: true });
    return floodLines(stdout, port);
  }

  async counters(): Promise<Record<string, number>> {
    const { stdout } = await runInNetns(this.netns, ['nstat', '-asz', '--json']);
    const parsed = JSON.parse(stdout) as { kernel: Record<string, number> };
    return parsed.kernel;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.child = null;
    if (this.saved.length > 0) {
      await runInNetns(this.netns, ['sysctl', '-q', '-w', ...this.saved.map(([k, v]) => `${k}=${v}`)], { allowFailure: true });
      this.saved = [];
    }
  }
}

/** The emulator: `syndrop run --kernel <profile>` on the lab's TUN, observed over its control socket. */
export class SyndropSide implements ServerSide {
  readonly name = 'syndrop' as const;
  readonly address: string;
  private run: RunChild | null = null;

  constructor(
    private readonly topology: LabTopology,
    private readonly profile: string,
    private readonly instance: string,
    private readonly family: VerifyFamily = 4,
  ) {
    this.address = family === 4 ? topology.emulatedHost : EMULATED_HOST6;
  }

  get controlPath(): string {
    return `/run/syndrop/${this.instance}.sock`;
  }

  async start(scenario: Scenario, port: number): Promise<void> {
    // Bound to its own address, as the kernel side's listener is (the 6.2+ flood line names it).
    // `--bind` is IPv4 only: over IPv6 the listener is [::] with IPV6_V6ONLY (the flood line's
    // address is compared as <listener>).
    const bind = this.family === 4 ? ['--bind', this.address] : ['--family', '6'];
    const args = ['--quiet', '--kernel', this.profile, ...bind, '--port', String(port), '--backlog', String(scenario.backlog), '--app', scenario.app];
    if (scenario.accept === 'never') args.push('--accept-rate', '0');
    else if (scenario.accept !== 'fast') args.push('--accept-rate', String(scenario.accept));
    for (const [k, v] of Object.entries(scenario.sysctls ?? {})) args.push('--sysctl', `${k}=${v}`);
    const deadline = Date.now() + 15_000;
    this.run = await startRunChild(args, {
      controlPath: this.controlPath,
      env: { ...process.env, SYNDROP_LAB_PREFIX: this.topology.prefix, SYNDROP_INSTANCE: this.instance, SYNDROP_CONTROL: this.controlPath },
    });
    await this.waitForCarrier(deadline);
  }

  /** The TUN routes stay `linkdown` (packets dropped) until the kernel sees the new reader. */
  private async waitForCarrier(deadline: number): Promise<void> {
    const { netns, name } = this.topology.tun;
    while (Date.now() < deadline) {
      const { stdout } = await run(['ip', '-n', netns, '-o', 'link', 'show', 'dev', name], { allowFailure: true });
      if (/LOWER_UP/.test(stdout)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async counters(): Promise<Record<string, number>> {
    try {
      const stats = await request(this.controlPath, 'stats', {});
      return stats.counters;
    } catch (error) {
      const exited = this.run?.child.exitCode ?? this.run?.child.signalCode;
      const why = exited !== null && exited !== undefined ? `syndrop run exited (${exited}): ${this.log().trim().split('\n').slice(-6).join(' | ')}` : String(error);
      throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `syndrop stats failed: ${why}`);
    }
  }

  /** What syndrop printed on stderr (flood warnings, errors). */
  log(): string {
    return this.run?.stderr() ?? '';
  }

  async floodLog(port: number): Promise<string[]> {
    return floodLines(this.log(), port);
  }

  async stop(): Promise<void> {
    await this.run?.stop('SIGTERM', 5000);
    this.run = null;
  }
}

/** `uname -r` of the host, for the report. */
export async function hostKernel(): Promise<string> {
  const { stdout } = await run(['uname', '-r']);
  return stdout.trim();
}

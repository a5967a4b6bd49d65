// Section 4: over TUN, end to end, in a private lab (SYNDROP_LAB_PREFIX, default `sdb`).
// `sdgen syn` in <prefix>-c3 (pinned to CPU0) floods spoofed sources of 10.77.128.0/17 at
//   (a) dist/bin/reflector on TUN sd0 in <prefix>-srv (CPU1): the physical limit of the TUN path;
//   (b) `syndrop run` on the same TUN (CPU1), tcp_syncookies=2: every SYN answered statelessly;
//   (c) the server namespace's own kernel, tcp_syncookies=2, a listener on 10.77.3.1:80 (RPS on
//       srv's c3 interface moves its softirq to CPU1; this path has no TUN at all).
// Rounds are interleaved (a, b, c, a, b, c, …); every flood is bounded by --count and --seconds,
// every server by its own --seconds or `timeout`. Rates are sdgen's per-second SYN-ACK counts at
// the client (eBPF counter), median over the steady seconds of a run, then medians over rounds.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { BIN_DIR } from '../../assets.js';
import { request } from '../../control/client.js';
import { labDown, labUp, listNetns } from '../../lab/lab.js';
import { run } from '../../lab/exec.js';
import { labTopology } from '../../lab/topology.js';
import { median } from './stats.js';

export type TunServer = 'reflector' | 'syndrop' | 'kernel';
export const TUN_SERVERS: readonly TunServer[] = ['reflector', 'syndrop', 'kernel'];

export interface TunOptions {
  root: string;
  prefix: string;
  instance: string;
  rounds: number;
  seconds: number;
  count: number;
  genCpu: number;
  serverCpu: number;
  keepLab: boolean;
  log: (line: string) => void;
}

export interface SdgenResult {
  sent: number;
  seconds: number;
  sentPerSec: number;
  synAcks: number;
  synAckPerSec: number;
  rsts: number;
  synAcksBadAck: number;
  rxMode: string;
  rxRingDrops: number;
}

export interface TunRun {
  server: TunServer;
  round: number;
  /** Median of sdgen's per-second SYN-ACK rate over the steady seconds (first and last left out). */
  synAckPerSec: number;
  /** The per-second samples it came from. */
  perSecond: number[];
  offeredPerSec: number;
  gen: SdgenResult;
  /** TUN queue overflow (sd0 tx_dropped) during the run; 0 for the kernel. */
  tunDropped: number;
  /** What the server itself counted. */
  serverCount: number;
  serverPerSec: number;
  /** Server process CPU (user+sys) per answered SYN, ns; softirq on its core not included. */
  cpuNsPerSynAck: number | null;
  note?: string;
}

export interface TunSection {
  skipped: false;
  prefix: string;
  rounds: number;
  secondsPerRun: number;
  countPerRun: number;
  pinning: string;
  syndropMode: string;
  kernelMode: string;
  runs: TunRun[];
  median: Record<TunServer, number>;
  min: Record<TunServer, number>;
  max: Record<TunServer, number>;
  ratios: { syndropOverReflector: number; syndropOverKernel: number; perRound: Array<{ round: number; overReflector: number; overKernel: number }> };
  kernelSyncookiesSentPerSec: number;
}

export interface TunSkipped {
  skipped: true;
  reason: string;
}

const SPOOFED = '10.77.128.0/17';
const EMULATED = '10.77.0.2';
const KERNEL_DST = '10.77.3.1';

/** Why section 4 cannot run here, or undefined. */
export function tunPrerequisites(root: string): string | undefined {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) return 'needs root (namespaces, TUN)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  for (const tool of ['sdgen', 'reflector']) if (!existsSync(join(BIN_DIR, tool))) return `dist/bin/${tool} not built: make bench-tools`;
  if (!existsSync(join(root, 'native', 'build', 'Release', 'syndrop_tun.node'))) return 'native addon not built: make';
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) return 'not built: make';
  return undefined;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
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

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return { out: () => out, err: () => err };
}

function lastJsonLine<T>(text: string): T | null {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('{')) {
      try {
        return JSON.parse(t) as T;
      } catch {
        // keep looking
      }
    }
  }
  return null;
}

async function readStat(netns: string, dev: string, stat: string): Promise<number> {
  const r = await run(['ip', 'netns', 'exec', netns, 'cat', `/sys/class/net/${dev}/statistics/${stat}`], { allowFailure: true });
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

async function netstatCounter(netns: string, group: string, name: string): Promise<number> {
  const r = await run(['ip', 'netns', 'exec', netns, 'cat', '/proc/net/netstat'], { allowFailure: true });
  const lines = r.stdout.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const head = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    if (head[0] !== `${group}:`) continue;
    const at = head.indexOf(name);
    if (at > 0) return Number(values[at]);
  }
  return 0;
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 Hz)
  } catch {
    return null;
  }
}

export class TunBench {
  private readonly o: TunOptions;
  private readonly srv: string;
  private readonly cli: string;
  private readonly tunDev: string;
  private readonly controlPath: string;
  private labWasUp = false;
  private readonly children = new Set<ChildProcess>();

  constructor(options: TunOptions) {
    this.o = options;
    const topology = labTopology(options.prefix);
    this.srv = topology.nodes.srv.netns;
    this.cli = topology.nodes.c3.netns;
    this.tunDev = topology.tun.name;
    this.controlPath = `/run/syndrop/${options.instance}.sock`;
  }

  private spawnTracked(argv: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async setUp(): Promise<void> {
    const existing = new Set(await listNetns());
    this.labWasUp = existing.has(this.srv);
    this.o.log(`tun: lab '${this.o.prefix}' ${this.labWasUp ? 'exists, reusing' : 'up'}`);
    await labUp({ prefix: this.o.prefix });
    await run(['ip', 'netns', 'exec', this.srv, 'sysctl', '-q', '-w', 'net.ipv4.tcp_syncookies=2']);
    // A kernel listener in the server namespace, bounded by `timeout`; it never accepts.
    const lifetime = Math.ceil(this.o.rounds * 3 * (this.o.seconds + 15) + 60);
    const script =
      "const s=require('net').createServer();s.listen({host:process.argv[1],port:80,backlog:65535});" +
      "s.on('connection',c=>c.destroy());";
    this.spawnTracked([
      'ip', 'netns', 'exec', this.srv, 'timeout', '-s', 'TERM', String(lifetime),
      'taskset', '-c', String(this.o.serverCpu), process.execPath, '-e', script, KERNEL_DST,
    ]);
    await sleep(500);
  }

  async tearDown(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM');
    for (const child of [...this.children]) await waitExit(child, 3000);
    await this.setRps('0').catch(() => undefined);
    if (!this.labWasUp && !this.o.keepLab) {
      await labDown({ prefix: this.o.prefix });
      this.o.log(`tun: lab '${this.o.prefix}' down`);
    }
  }

  private async setRps(mask: string): Promise<void> {
    await run(['ip', 'netns', 'exec', this.srv, 'sh', '-c', `echo ${mask} > /sys/class/net/c3/queues/rx-0/rps_cpus`]);
  }

  private async sdgen(dst: string): Promise<{ result: SdgenResult; perSecond: number[]; offered: number[] }> {
    const argv = [
      'ip', 'netns', 'exec', this.cli, 'taskset', '-c', String(this.o.genCpu), join(BIN_DIR, 'sdgen'), 'syn',
      '--dst', dst, '--dport', '80', '--src-net', SPOOFED,
      '--count', String(this.o.count), '--seconds', String(this.o.seconds), '--progress',
    ];
    const child = this.spawnTracked(argv);
    const io = collect(child);
    const code = await waitExit(child, (this.o.seconds + 20) * 1000);
    const result = lastJsonLine<SdgenResult>(io.out());
    if (code !== 0 || result === null) throw new Error(`sdgen failed (exit ${code}): ${io.err().slice(-500)}`);
    const perSecond: number[] = [];
    const offered: number[] = [];
    for (const line of io.err().split('\n')) {
      const t = line.trim();
      if (!t.startsWith('{')) continue;
      try {
        const p = JSON.parse(t) as { t?: number; synAckPerSec?: number; sentPerSec?: number };
        if (typeof p.synAckPerSec === 'number') {
          perSecond.push(p.synAckPerSec);
          offered.push(p.sentPerSec ?? 0);
        }
      } catch {
        // not a progress line
      }
    }
    return { result, perSecond, offered };
  }

  private steady(samples: number[], fallback: number): number {
    // Leave out the first second (server warm-up, JIT) and the last (partial).
    const middle = samples.length > 2 ? samples.slice(1, -1) : samples;
    return middle.length > 0 ? median(middle) : fallback;
  }

  /** What the client measured in a round, the same for every server side. */
  private measuredAtClient(server: TunServer, round: number, gen: { result: SdgenResult; perSecond: number[] }, tunDropped: number) {
    return {
      server,
      round,
      synAckPerSec: this.steady(gen.perSecond, gen.result.synAckPerSec),
      perSecond: gen.perSecond,
      offeredPerSec: gen.result.sentPerSec,
      gen: gen.result,
      tunDropped,
    };
  }

  private async runReflector(round: number): Promise<TunRun> {
    const child = this.spawnTracked([
      'taskset', '-c', String(this.o.serverCpu), join(BIN_DIR, 'reflector'),
      '--netns', this.srv, '--dev', this.tunDev, '--seconds', String(this.o.seconds + 10),
    ]);
    const io = collect(child);
    await sleep(500);
    const d0 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    const gen = await this.sdgen(EMULATED);
    const d1 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    await sleep(300);
    child.kill('SIGTERM');
    await waitExit(child, 5000);
    const own = lastJsonLine<{ synAcks: number; perSec: number; cpuNsPerFrame: number }>(io.out());
    return {
      ...this.measuredAtClient('reflector', round, gen, d1 - d0),
      serverCount: own?.synAcks ?? 0,
      serverPerSec: own?.perSec ?? 0,
      cpuNsPerSynAck: own?.cpuNsPerFrame ?? null,
    };
  }

  private async runSyndrop(round: number): Promise<TunRun> {
    const env = { ...process.env, SYNDROP_LAB_PREFIX: this.o.prefix, SYNDROP_INSTANCE: this.o.instance };
    const child = this.spawnTracked(
      [
        'timeout', '-s', 'TERM', String(this.o.seconds + 40),
        'taskset', '-c', String(this.o.serverCpu), process.execPath, join(this.o.root, 'dist/cli/main.js'), 'run',
        '--kernel', '6.x', '--sysctl', 'net.ipv4.tcp_syncookies=2', '--quiet',
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
    const stats = async () =>
      (await request(this.controlPath, 'stats', {}, { timeoutMs: 5000 })).counters;
    const c0 = await stats();
    const d0 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    const cpu0 = cpuTicks(pid);
    const gen = await this.sdgen(EMULATED);
    const cpu1 = cpuTicks(pid);
    const d1 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    await sleep(300);
    const c1 = await stats();
    child.kill('SIGTERM');
    await waitExit(child, 8000);
    const synAcks = (c1.SyndropTxSynAck ?? 0) - (c0.SyndropTxSynAck ?? 0);
    const txDropped = (c1.SyndropTxDropped ?? 0) - (c0.SyndropTxDropped ?? 0);
    const cpuNs = cpu0 !== null && cpu1 !== null && synAcks > 0 ? ((cpu1 - cpu0) * 1e7) / synAcks : null;
    return {
      ...this.measuredAtClient('syndrop', round, gen, d1 - d0),
      serverCount: synAcks,
      serverPerSec: synAcks / gen.result.seconds,
      cpuNsPerSynAck: cpuNs,
      note: txDropped > 0 ? `syndrop writeBatch dropped ${txDropped}` : undefined,
    };
  }

  private async runKernel(round: number): Promise<TunRun> {
    await this.setRps(String(1 << this.o.serverCpu));
    try {
      const s0 = await netstatCounter(this.srv, 'TcpExt', 'SyncookiesSent');
      const gen = await this.sdgen(KERNEL_DST);
      const s1 = await netstatCounter(this.srv, 'TcpExt', 'SyncookiesSent');
      return {
        server: 'kernel',
        round,
        synAckPerSec: this.steady(gen.perSecond, gen.result.synAckPerSec),
        perSecond: gen.perSecond,
        offeredPerSec: gen.result.sentPerSec,
        gen: gen.result,
        tunDropped: 0,
        serverCount: s1 - s0,
        serverPerSec: (s1 - s0) / gen.result.seconds,
        cpuNsPerSynAck: null,
        note: 'serverCount = TcpExtSyncookiesSent',
      };
    } finally {
      await this.setRps('0');
    }
  }

  async run(): Promise<TunSection> {
    const runs: TunRun[] = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      for (const server of TUN_SERVERS) {
        const r =
          server === 'reflector' ? await this.runReflector(round) : server === 'syndrop' ? await this.runSyndrop(round) : await this.runKernel(round);
        this.o.log(
          `tun: round ${round} ${server.padEnd(9)} ${Math.round(r.synAckPerSec).toLocaleString('en-US')} SYN-ACK/s at client` +
            ` (offered ${Math.round(r.offeredPerSec).toLocaleString('en-US')}/s; server counted ${r.serverCount.toLocaleString('en-US')})`,
        );
        runs.push(r);
        await sleep(300);
      }
    }
    const by = (s: TunServer) => runs.filter((r) => r.server === s).map((r) => r.synAckPerSec);
    const med = { reflector: median(by('reflector')), syndrop: median(by('syndrop')), kernel: median(by('kernel')) };
    const min = { reflector: Math.min(...by('reflector')), syndrop: Math.min(...by('syndrop')), kernel: Math.min(...by('kernel')) };
    const max = { reflector: Math.max(...by('reflector')), syndrop: Math.max(...by('syndrop')), kernel: Math.max(...by('kernel')) };
    const perRound = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      const get = (s: TunServer) => runs.find((r) => r.round === round && r.server === s)!.synAckPerSec;
      perRound.push({ round, overReflector: get('syndrop') / get('reflector'), overKernel: get('syndrop') / get('kernel') });
    }
    const kernelRuns = runs.filter((r) => r.server === 'kernel');
    return {
      skipped: false,
      prefix: this.o.prefix,
      rounds: this.o.rounds,
      secondsPerRun: this.o.seconds,
      countPerRun: this.o.count,
      pinning: `sdgen on CPU${this.o.genCpu}; reflector / syndrop on CPU${this.o.serverCpu}; kernel: RPS on ${this.srv} c3 → CPU${this.o.serverCpu}`,
      syndropMode: 'syndrop run --kernel 6.x --sysctl net.ipv4.tcp_syncookies=2 (a cookie SYN-ACK per SYN, no state)',
      kernelMode: `listener ${KERNEL_DST}:80 backlog 65535 in ${this.srv}, tcp_syncookies=2 (no TUN on this path)`,
      runs,
      median: med,
      min,
      max,
      ratios: { syndropOverReflector: med.syndrop / med.reflector, syndropOverKernel: med.syndrop / med.kernel, perRound },
      kernelSyncookiesSentPerSec: median(kernelRuns.map((r) => r.serverPerSec)),
    };
  }
}

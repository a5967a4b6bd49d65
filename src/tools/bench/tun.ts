// Section 4: over TUN, end to end, in a private lab (SYNDROP_LAB_PREFIX, default `sdb`).
// `sdgen syn` in <prefix>-c3 (pinned to CPU0) floods spoofed sources of 10.77.128.0/17 at
//   (a) dist/bin/reflector on TUN sd0 in <prefix>-srv (CPU1): the physical limit of the TUN path;
//   (a') the same reflector in Node on syndrop's addon (node-reflector.ts): the I/O layer's cost;
//   (b) `syndrop run` on the same TUN (CPU1), tcp_syncookies=2: every SYN answered statelessly;
//   (c) `syndrop run`, the queued path: every SYN gets a request sock (limits raised,
//       tcp_synack_retries=0 so no retransmission doubles the output);
//   (d) the server namespace's own kernel, tcp_syncookies=2, a listener on 10.77.3.1:80 (RPS on
//       srv's c3 interface moves its softirq to CPU1; this path has no TUN at all).
// Rounds are short and interleaved (a, b, c, d, a, b, …) so a noisy neighbour hits every server
// alike; each round gives its own syndrop/reflector ratios (throughput and CPU per SYN-ACK) and the
// section reports their medians and spread, flagged noisy when the spread is wide. Rates are
// sdgen's per-second SYN-ACK counts at the client (eBPF counter), median over the steady seconds.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { BIN_DIR } from '../../assets.js';
import { labDown, labUp, listNetns } from '../../lab/lab.js';
import { run } from '../../lab/exec.js';
import { labTopology } from '../../lab/topology.js';
import { machineWindow, noiseVerdict, type MachineWindow } from './machine.js';
import { COOKIE_ARGS, LabServers, QUEUED_ARGS, collect, cpuTicks, lastJsonLine, waitExit } from './servers.js';
import { median, summary } from './stats.js';

export type TunServer = 'reflector' | 'nodeReflector' | 'syndrop' | 'syndropQueued' | 'kernel';
export const TUN_SERVERS: readonly TunServer[] = ['reflector', 'nodeReflector', 'syndrop', 'syndropQueued', 'kernel'];

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
  /** Median of sdgen's per-second SYN-ACK rate over the steady seconds (the first left out). */
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

/** One server's figure over the rounds. */
export type Spread = ReturnType<typeof summary>;

export interface TunSection {
  skipped: false;
  prefix: string;
  rounds: number;
  secondsPerRun: number;
  countPerRun: number;
  pinning: string;
  syndropMode: string;
  syndropQueuedMode: string;
  kernelMode: string;
  runs: TunRun[];
  median: Record<TunServer, number>;
  min: Record<TunServer, number>;
  max: Record<TunServer, number>;
  ratios: {
    syndropOverReflector: number;
    syndropOverKernel: number;
    perRound: Array<{ round: number; overReflector: number; overKernel: number; queuedOverReflector: number; cpuOverReflector: number | null; queuedCpuOverReflector: number | null; nodeCpuOverReflector: number | null }>;
    /** Per-round ratios summarized: the medians are the section's answer, the spreads its confidence. */
    throughput: Spread;
    queuedThroughput: Spread;
    cpu: Spread | null;
    queuedCpu: Spread | null;
    /** The Node twin of the reflector: what the addon and the Node loop add, without the stack. */
    nodeCpu: Spread | null;
  };
  /** Median CPU ns per SYN-ACK of each server process (null for the kernel: softirq only). */
  cpuNsPerSynAck: Record<'reflector' | 'nodeReflector' | 'syndrop' | 'syndropQueued', number | null>;
  kernelSyncookiesSentPerSec: number;
  machine: MachineWindow;
  /** Why the throughput / CPU ratios are not to be trusted (spread, steal, too few rounds), or null. */
  noisy: { throughput: string | null; cpu: string | null };
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

export class TunBench {
  private readonly o: TunOptions;
  private readonly srv: string;
  private readonly cli: string;
  private readonly tunDev: string;
  private labWasUp = false;
  /** The reflector and syndrop processes (the latency section starts its own through it too). */
  readonly servers: LabServers;

  constructor(options: TunOptions) {
    this.o = options;
    const topology = labTopology(options.prefix);
    this.srv = topology.nodes.srv.netns;
    this.cli = topology.nodes.c3.netns;
    this.tunDev = topology.tun.name;
    this.servers = new LabServers({
      root: options.root,
      prefix: options.prefix,
      instance: options.instance,
      srv: this.srv,
      tunDev: this.tunDev,
      serverCpu: options.serverCpu,
    });
  }

  /** The client namespace the generators run in. */
  get clientNetns(): string {
    return this.cli;
  }

  async setUp(lifetimeSeconds: number): Promise<void> {
    const existing = new Set(await listNetns());
    this.labWasUp = existing.has(this.srv);
    this.o.log(`tun: lab '${this.o.prefix}' ${this.labWasUp ? 'exists, reusing' : 'up'}`);
    await labUp({ prefix: this.o.prefix });
    await run(['ip', 'netns', 'exec', this.srv, 'sysctl', '-q', '-w', 'net.ipv4.tcp_syncookies=2']);
    // A kernel listener in the server namespace, bounded by `timeout`; it never accepts.
    const script =
      "const s=require('net').createServer();s.listen({host:process.argv[1],port:80,backlog:65535});" +
      "s.on('connection',c=>c.destroy());";
    this.servers.spawn([
      'ip', 'netns', 'exec', this.srv, 'timeout', '-s', 'TERM', String(Math.ceil(lifetimeSeconds + 60)),
      'taskset', '-c', String(this.o.serverCpu), process.execPath, '-e', script, KERNEL_DST,
    ]);
    await sleep(500);
  }

  /** Seconds `run()` takes, roughly (for the kernel listener's lifetime). */
  expectedSeconds(): number {
    return this.o.rounds * TUN_SERVERS.length * (this.o.seconds + 6);
  }

  async tearDown(): Promise<void> {
    await this.servers.stopAll();
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
    const child = this.servers.spawn(argv);
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
    // Leave out the first second (server warm-up, JIT); every progress line is a whole second.
    const rest = samples.length > 1 ? samples.slice(1) : samples;
    return rest.length > 0 ? median(rest) : fallback;
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

  private async runReflector(server: 'reflector' | 'nodeReflector', round: number): Promise<TunRun> {
    const reflector = await this.servers.startReflector(this.o.seconds + 10, server === 'reflector' ? 'c' : 'node');
    const d0 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    // CPU over the generator's window, as for syndrop (the reflector's own figure spans its life).
    const cpu0 = cpuTicks(reflector.pid);
    const gen = await this.sdgen(EMULATED);
    const cpu1 = cpuTicks(reflector.pid);
    const d1 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    await sleep(300);
    const own = await reflector.stop();
    const synAcks = own?.synAcks ?? 0;
    return {
      ...this.measuredAtClient(server, round, gen, d1 - d0),
      serverCount: synAcks,
      serverPerSec: own?.perSec ?? synAcks / gen.result.seconds,
      cpuNsPerSynAck: cpu0 !== null && cpu1 !== null && synAcks > 0 ? ((cpu1 - cpu0) * 1e7) / synAcks : null,
    };
  }

  private async runSyndrop(server: 'syndrop' | 'syndropQueued', round: number): Promise<TunRun> {
    const syndrop = await this.servers.startSyndrop(this.o.seconds + 40, server === 'syndrop' ? COOKIE_ARGS : QUEUED_ARGS);
    const c0 = await syndrop.counters();
    const d0 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    const cpu0 = cpuTicks(syndrop.pid);
    const gen = await this.sdgen(EMULATED);
    const cpu1 = cpuTicks(syndrop.pid);
    const d1 = await readStat(this.srv, this.tunDev, 'tx_dropped');
    await sleep(300);
    const c1 = await syndrop.counters();
    await syndrop.stop();
    const synAcks = (c1.SyndropTxSynAck ?? 0) - (c0.SyndropTxSynAck ?? 0);
    const txDropped = (c1.SyndropTxDropped ?? 0) - (c0.SyndropTxDropped ?? 0);
    const cpuNs = cpu0 !== null && cpu1 !== null && synAcks > 0 ? ((cpu1 - cpu0) * 1e7) / synAcks : null;
    return {
      ...this.measuredAtClient(server, round, gen, d1 - d0),
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
    const window = machineWindow();
    const runs: TunRun[] = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      for (const server of TUN_SERVERS) {
        const r =
          server === 'reflector' || server === 'nodeReflector'
            ? await this.runReflector(server, round)
            : server === 'kernel'
              ? await this.runKernel(round)
              : await this.runSyndrop(server, round);
        const cpu = r.cpuNsPerSynAck === null ? '' : `, ${Math.round(r.cpuNsPerSynAck)} CPU ns/SYN-ACK`;
        this.o.log(
          `tun: round ${round} ${server.padEnd(13)} ${Math.round(r.synAckPerSec).toLocaleString('en-US')} SYN-ACK/s at client` +
            ` (offered ${Math.round(r.offeredPerSec).toLocaleString('en-US')}/s; server counted ${r.serverCount.toLocaleString('en-US')}${cpu})`,
        );
        runs.push(r);
        await sleep(300);
      }
    }
    return this.summarize(runs, window());
  }

  private summarize(runs: TunRun[], machine: MachineWindow): TunSection {
    const by = (s: TunServer) => runs.filter((r) => r.server === s).map((r) => r.synAckPerSec);
    const per = (f: (s: TunServer) => number) => Object.fromEntries(TUN_SERVERS.map((s) => [s, f(s)])) as Record<TunServer, number>;
    const med = per((s) => median(by(s)));
    const perRound = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      const get = (s: TunServer) => runs.find((r) => r.round === round && r.server === s)!;
      const cpuRatio = (s: TunServer) => {
        const a = get(s).cpuNsPerSynAck;
        const b = get('reflector').cpuNsPerSynAck;
        return a !== null && b !== null && b > 0 ? a / b : null;
      };
      const over = (s: TunServer) => get(s).synAckPerSec / get('reflector').synAckPerSec;
      perRound.push({
        round,
        overReflector: over('syndrop'),
        overKernel: get('syndrop').synAckPerSec / get('kernel').synAckPerSec,
        queuedOverReflector: over('syndropQueued'),
        cpuOverReflector: cpuRatio('syndrop'),
        queuedCpuOverReflector: cpuRatio('syndropQueued'),
        nodeCpuOverReflector: cpuRatio('nodeReflector'),
      });
    }
    const spreadOf = (values: Array<number | null>) => {
      const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
      return v.length > 0 ? summary(v) : null;
    };
    const throughput = summary(perRound.map((r) => r.overReflector));
    const queuedThroughput = summary(perRound.map((r) => r.queuedOverReflector));
    const cpu = spreadOf(perRound.map((r) => r.cpuOverReflector));
    const queuedCpu = spreadOf(perRound.map((r) => r.queuedCpuOverReflector));
    const nodeCpu = spreadOf(perRound.map((r) => r.nodeCpuOverReflector));
    const cpuMedian = (s: TunServer) => spreadOf(runs.filter((r) => r.server === s).map((r) => r.cpuNsPerSynAck))?.median ?? null;
    const kernelRuns = runs.filter((r) => r.server === 'kernel');
    return {
      skipped: false,
      prefix: this.o.prefix,
      rounds: this.o.rounds,
      secondsPerRun: this.o.seconds,
      countPerRun: this.o.count,
      pinning: `sdgen on CPU${this.o.genCpu}; reflector / syndrop on CPU${this.o.serverCpu}; kernel: RPS on ${this.srv} c3 → CPU${this.o.serverCpu}`,
      syndropMode: `syndrop run --kernel 6.x ${COOKIE_ARGS.join(' ')} (a cookie SYN-ACK per SYN, no state)`,
      syndropQueuedMode: `syndrop run --kernel 6.x ${QUEUED_ARGS.join(' ')} (a request sock per SYN)`,
      kernelMode: `listener ${KERNEL_DST}:80 backlog 65535 in ${this.srv}, tcp_syncookies=2 (no TUN on this path)`,
      runs,
      median: med,
      min: per((s) => Math.min(...by(s))),
      max: per((s) => Math.max(...by(s))),
      ratios: {
        // Median of the per-round ratios: each round's servers saw the same neighbours.
        syndropOverReflector: throughput.median,
        syndropOverKernel: median(perRound.map((r) => r.overKernel)),
        perRound,
        throughput,
        queuedThroughput,
        cpu,
        queuedCpu,
        nodeCpu,
      },
      cpuNsPerSynAck: { reflector: cpuMedian('reflector'), nodeReflector: cpuMedian('nodeReflector'), syndrop: cpuMedian('syndrop'), syndropQueued: cpuMedian('syndropQueued') },
      kernelSyncookiesSentPerSec: median(kernelRuns.map((r) => r.serverPerSec)),
      machine,
      noisy: {
        throughput: this.o.rounds < 3 ? `only ${this.o.rounds} round(s)` : noiseVerdict({ 'throughput ratio': throughput.spread }, machine),
        cpu: this.o.rounds < 3 ? `only ${this.o.rounds} round(s)` : noiseVerdict({ 'CPU ratio': cpu?.spread ?? NaN, 'queued CPU ratio': queuedCpu?.spread ?? NaN }, machine),
      },
    };
  }
}

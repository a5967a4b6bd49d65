// Section 6: latency at low load. `sdlat` in the client namespace (pinned to the generator CPU)
// sends single SYNs — and pings — at a low rate to the C reflector, to its Node twin on syndrop's
// addon (the hand-off alone), to `syndrop run` (cookie and queued paths) and to the server
// namespace's kernel listener, and takes each round trip from
// kernel timestamps on the client's interface (probe out, reply in), so the client's own
// scheduling is not in the figure. Rounds interleave the servers like the TUN section; each
// round gives syndrop/reflector ratios of p50 and p99, summarized with their spread.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { BIN_DIR } from '../../assets.js';
import { machineWindow, noiseVerdict, type MachineWindow } from './machine.js';
import { COOKIE_ARGS, LabServers, QUEUED_ARGS, collect, cpuTicks, lastJsonLine, waitExit } from './servers.js';
import { median, summary } from './stats.js';

export type LatencyServer = 'reflector' | 'nodeReflector' | 'syndrop' | 'syndropQueued' | 'kernel';
export const LATENCY_SERVERS: readonly LatencyServer[] = ['reflector', 'nodeReflector', 'syndrop', 'syndropQueued', 'kernel'];
/** The reflector answers SYNs only. */
const PINGED: readonly LatencyServer[] = ['syndrop', 'kernel'];

export interface LatencyOptions {
  servers: LabServers;
  clientNetns: string;
  rounds: number;
  /** Probes per second. */
  rate: number;
  /** Probes per run. */
  count: number;
  genCpu: number;
  log: (line: string) => void;
}

/** What sdlat prints. */
export interface ProbeStats {
  sent: number;
  answered: number;
  lost: number;
  p10_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  min_us: number;
  mean_us: number;
}

export interface LatencyRun {
  server: LatencyServer;
  round: number;
  probe: 'syn' | 'ping';
  stats: ProbeStats;
  /** Server process CPU per probe, µs (10 ms ticks: coarse); null for the kernel. */
  cpuUsPerProbe: number | null;
}

export interface LatencyFigure {
  /** Medians over the rounds of each round's p10 / p50 / p99; max over all rounds. p10 is the
   *  path's own cost: a busy neighbour only adds to a round trip, so it moves least with noise. */
  p10_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  lost: number;
}

export interface LatencySection {
  skipped: false;
  rounds: number;
  rate: number;
  countPerRun: number;
  method: string;
  runs: LatencyRun[];
  syn: Record<LatencyServer, LatencyFigure>;
  ping: Partial<Record<LatencyServer, LatencyFigure>>;
  ratios: {
    perRound: Array<{ round: number; p10: number; p50: number; p99: number; queuedP50: number; queuedP99: number; nodeP50: number }>;
    p10: ReturnType<typeof summary>;
    p50: ReturnType<typeof summary>;
    p99: ReturnType<typeof summary>;
    queuedP50: ReturnType<typeof summary>;
    queuedP99: ReturnType<typeof summary>;
    /** The Node twin's p50 over the reflector's: the hand-off alone. */
    nodeP50: ReturnType<typeof summary>;
  };
  machine: MachineWindow;
  noisy: string | null;
}

const EMULATED = '10.77.0.2';
const KERNEL_DST = '10.77.3.1';
const CLIENT = '10.77.3.2';
const SPOOFED = '10.77.128.0/17';

export class LatencyBench {
  constructor(private readonly o: LatencyOptions) {}

  private async sdlat(probe: 'syn' | 'ping', dst: string): Promise<ProbeStats> {
    const what = probe === 'syn' ? ['--dport', '80', '--src-net', SPOOFED] : ['--src', CLIENT];
    const child = this.o.servers.spawn([
      'ip', 'netns', 'exec', this.o.clientNetns, 'taskset', '-c', String(this.o.genCpu), join(BIN_DIR, 'sdlat'), probe,
      '--dst', dst, ...what, '--rate', String(this.o.rate), '--count', String(this.o.count), '--ifname', 'eth0',
    ]);
    const io = collect(child);
    const code = await waitExit(child, (this.o.count / this.o.rate + 15) * 1000);
    const stats = lastJsonLine<ProbeStats>(io.out());
    if (code !== 0 || stats === null) throw new Error(`sdlat ${probe} failed (exit ${code}): ${io.err().slice(-300)}`);
    return stats;
  }

  private async probeServer(server: LatencyServer, round: number, pid: number | null): Promise<LatencyRun[]> {
    const dst = server === 'kernel' ? KERNEL_DST : EMULATED;
    const out: LatencyRun[] = [];
    for (const probe of PINGED.includes(server) ? (['syn', 'ping'] as const) : (['syn'] as const)) {
      const t0 = pid === null ? null : cpuTicks(pid);
      const stats = await this.sdlat(probe, dst);
      const t1 = pid === null ? null : cpuTicks(pid);
      const cpuUsPerProbe = t0 !== null && t1 !== null ? ((t1 - t0) * 1e4) / stats.sent : null;
      out.push({ server, round, probe, stats, cpuUsPerProbe });
      this.o.log(
        `latency: round ${round} ${server.padEnd(13)} ${probe.padEnd(4)} p50 ${stats.p50_us.toFixed(1)} µs, p99 ${stats.p99_us.toFixed(1)} µs, ` +
          `max ${stats.max_us.toFixed(0)} µs, lost ${stats.lost}/${stats.sent}`,
      );
    }
    return out;
  }

  private async runOne(server: LatencyServer, round: number): Promise<LatencyRun[]> {
    const seconds = Math.ceil((this.o.count / this.o.rate) * 2 + 10);
    if (server === 'kernel') return this.probeServer(server, round, null);
    if (server === 'reflector' || server === 'nodeReflector') {
      const reflector = await this.o.servers.startReflector(seconds, server === 'reflector' ? 'c' : 'node');
      try {
        return await this.probeServer(server, round, reflector.pid);
      } finally {
        await reflector.stop();
      }
    }
    const syndrop = await this.o.servers.startSyndrop(seconds + 30, server === 'syndrop' ? COOKIE_ARGS : QUEUED_ARGS);
    try {
      return await this.probeServer(server, round, syndrop.pid);
    } finally {
      await syndrop.stop();
    }
  }

  async run(): Promise<LatencySection> {
    const window = machineWindow();
    const runs: LatencyRun[] = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      for (const server of LATENCY_SERVERS) {
        runs.push(...(await this.runOne(server, round)));
        await sleep(200);
      }
    }
    return this.summarize(runs, window());
  }

  private summarize(runs: LatencyRun[], machine: MachineWindow): LatencySection {
    const figure = (server: LatencyServer, probe: 'syn' | 'ping'): LatencyFigure => {
      const mine = runs.filter((r) => r.server === server && r.probe === probe).map((r) => r.stats);
      return {
        p10_us: median(mine.map((s) => s.p10_us)),
        p50_us: median(mine.map((s) => s.p50_us)),
        p99_us: median(mine.map((s) => s.p99_us)),
        max_us: Math.max(...mine.map((s) => s.max_us)),
        lost: mine.reduce((a, s) => a + s.lost, 0),
      };
    };
    const syn = Object.fromEntries(LATENCY_SERVERS.map((s) => [s, figure(s, 'syn')])) as Record<LatencyServer, LatencyFigure>;
    const ping = Object.fromEntries(PINGED.map((s) => [s, figure(s, 'ping')]));
    const perRound = [];
    for (let round = 1; round <= this.o.rounds; round++) {
      const get = (s: LatencyServer) => runs.find((r) => r.round === round && r.server === s && r.probe === 'syn')!.stats;
      const ref = get('reflector');
      perRound.push({
        round,
        p10: get('syndrop').p10_us / ref.p10_us,
        p50: get('syndrop').p50_us / ref.p50_us,
        p99: get('syndrop').p99_us / ref.p99_us,
        queuedP50: get('syndropQueued').p50_us / ref.p50_us,
        queuedP99: get('syndropQueued').p99_us / ref.p99_us,
        nodeP50: get('nodeReflector').p50_us / ref.p50_us,
      });
    }
    const ratios = {
      perRound,
      p10: summary(perRound.map((r) => r.p10)),
      p50: summary(perRound.map((r) => r.p50)),
      p99: summary(perRound.map((r) => r.p99)),
      queuedP50: summary(perRound.map((r) => r.queuedP50)),
      queuedP99: summary(perRound.map((r) => r.queuedP99)),
      nodeP50: summary(perRound.map((r) => r.nodeP50)),
    };
    return {
      skipped: false,
      rounds: this.o.rounds,
      rate: this.o.rate,
      countPerRun: this.o.count,
      method:
        'sdlat: one probe every 1/rate s through a raw socket; RTT = kernel receive stamp of the reply − kernel stamp of the probe ' +
        'leaving the client interface (AF_PACKET, SO_TIMESTAMPNS). SYNs from distinct spoofed sources; syndrop and the kernel in cookie mode ' +
        '(tcp_syncookies=2), syndropQueued on the queued path; pings to syndrop (10.77.0.2 via TUN) and to the server namespace (10.77.3.1, no TUN)',
      runs,
      syn,
      ping,
      ratios,
      machine,
      noisy: this.o.rounds < 3 ? `only ${this.o.rounds} round(s)` : noiseVerdict({ 'p50 ratio': ratios.p50.spread }, machine),
    };
  }
}

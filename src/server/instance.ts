// `syndrop run`: one emulated host on a TUN device, its frame loop and its control socket.
// Everything here is wiring; the behaviour lives in src/stack and src/observe.

import { createApp } from '../app/handlers.js';
import { controlRequest } from '../control/client.js';
import { claimControlPath, startControlServer, type ControlServer } from '../control/server.js';
import { SyndropError, usageError } from '../errors.js';
import { explain } from '../observe/explain.js';
import { PcapngWriter } from '../observe/pcapng.js';
import {
  counterSnapshot,
  dropsByReason,
  eventsSince,
  listenerSnapshots,
  metricsSnapshot,
  socketSnapshots,
  verdictTotals,
  type EventFilter,
} from '../observe/snapshot.js';
import type { Profile } from '../profiles/profile.js';
import { Sysctls } from '../profiles/sysctl.js';
import { ipv4ToString, parseIpv4 } from '../wire/addr.js';
import { AcceptLoop } from '../app/accept-loop.js';
import { Host } from '../stack/host.js';
import { COUNTERS } from '../stack/mib.js';
import { Engine, type FrameDevice } from '../io/engine.js';
import { TunDevice } from '../io/tun.js';

export interface InstanceOptions {
  profile: Profile;
  sysctlOverrides: string[];
  address: string;
  port: number;
  backlog: number;
  app: string;
  /** accept() per second; Infinity = at once, 0 = never. */
  acceptRate: number;
  device: string;
  netns: string | null;
  controlPath: string;
  pcapPath: string | null;
  pcapMaxBytes: number;
  seed?: number;
  /** Open this device instead of the TUN (tests). */
  frameDevice?: FrameDevice;
  onKernelLog?: (line: string) => void;
}

export class Instance {
  readonly host: Host;
  readonly acceptLoop: AcceptLoop;
  readonly engine: Engine;
  readonly options: InstanceOptions;
  private control: ControlServer | null = null;
  private readonly startedAt = new Date();

  private constructor(options: InstanceOptions, host: Host, acceptLoop: AcceptLoop, engine: Engine) {
    this.options = options;
    this.host = host;
    this.acceptLoop = acceptLoop;
    this.engine = engine;
  }

  static async start(options: InstanceOptions): Promise<Instance> {
    const address = parseIpv4(options.address);
    if (address < 0) throw usageError(`--address ${options.address}: not an IPv4 address`);
    const sysctls = new Sysctls(options.profile, options.sysctlOverrides);
    const host = new Host({ profile: options.profile, sysctls, address, seed: options.seed });
    const handler = createApp(options.app);
    const acceptLoop = new AcceptLoop(host);
    acceptLoop.listen(options.port, options.backlog, { handler, ratePerSecond: options.acceptRate, paused: false });
    await claimControlPathOrExplain(options.controlPath);
    const device = options.frameDevice ?? TunDevice.open(options.device, options.netns === null ? {} : { netns: options.netns });
    const pcap =
      options.pcapPath === null
        ? null
        : new PcapngWriter(options.pcapPath, { maxBytes: options.pcapMaxBytes, maxFiles: 10, ifName: options.device, appName: 'syndrop' });
    const engine = new Engine({ host, device, pcap, onKernelLog: options.onKernelLog });
    const instance = new Instance(options, host, acceptLoop, engine);
    try {
      instance.control = await startControlServer(options.controlPath, instance.handlers(), instance.streamHandlers());
    } catch (error) {
      engine.stop();
      throw error;
    }
    engine.start();
    return instance;
  }

  async stop(): Promise<void> {
    this.engine.stop();
    if (this.control !== null) await this.control.close();
    this.control = null;
  }

  get controlPath(): string {
    return this.options.controlPath;
  }

  private refresh(): void {
    // Bring the stack's clock to now so timers and queues are current when observed.
    this.engine.poke();
  }

  private summary() {
    const host = this.host;
    return {
      profile: host.profile.name,
      profileDescription: host.profile.description,
      address: this.options.address,
      port: this.options.port,
      app: this.options.app,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeMs: Math.round(this.engine.now()),
    };
  }

  private handlers() {
    const host = this.host;
    const startWall = this.engine.startWallMs;
    return {
      ping: () => this.summary(),
      stats: () => {
        this.refresh();
        return {
          ...this.summary(),
          time: Date.now(),
          counters: counterSnapshot(host),
          listeners: listenerSnapshots(host),
          dropsByReason: dropsByReason(host),
          verdicts: verdictTotals(host),
        };
      },
      sysctl: (args: Record<string, unknown>) => {
        const assignments = Array.isArray(args.set) ? (args.set as unknown[]).map(String) : [];
        const names = Array.isArray(args.get) ? (args.get as unknown[]).map(String) : [];
        const changed = assignments.map((a) => host.sysctls.set(a));
        if (changed.length > 0) this.refresh();
        if (names.length > 0) return { profile: host.profile.name, values: names.map((n) => host.sysctls.read(n)) };
        if (changed.length > 0) return { profile: host.profile.name, values: changed };
        return { profile: host.profile.name, values: host.sysctls.entries() };
      },
      ss: () => {
        this.refresh();
        return { profile: host.profile.name, listeners: listenerSnapshots(host), sockets: socketSnapshots(host) };
      },
      events: (args: Record<string, unknown>) => {
        const filter = eventFilter(args);
        const last = typeof args.last === 'number' ? args.last : 1000;
        const from = typeof args.from === 'number' ? args.from : Math.max(0, host.events.total - (filter.reason || filter.peer ? host.events.capacity : last));
        const events = eventsSince(host, from, startWall, filter);
        return { profile: host.profile.name, next: host.events.total, lost: Math.max(0, host.events.oldest - from), events: events.slice(-last) };
      },
      explain: () => {
        this.refresh();
        const problems = explain({
          profile: host.profile,
          sysctls: Object.fromEntries(host.sysctls.entries().map((e) => [e.name, e.value])),
          counters: counterSnapshot(host),
          verdicts: verdictTotals(host),
          listeners: listenerSnapshots(host),
          events: eventsSince(host, 0, startWall),
        });
        return { profile: host.profile.name, problems };
      },
      metrics: (args: Record<string, unknown>) => {
        if (args.flush === true) {
          let addr: number | undefined;
          if (typeof args.address === 'string') {
            addr = parseIpv4(args.address);
            if (addr < 0) throw usageError(`metrics flush ${args.address}: not an IPv4 address`);
          }
          return { flushed: host.metrics.flush(addr) };
        }
        this.refresh();
        return { profile: host.profile.name, entries: metricsSnapshot(host) };
      },
      app: (args: Record<string, unknown>) => {
        const policy = this.acceptLoop.policy(0);
        switch (args.action) {
          case 'pause':
            policy.paused = true;
            break;
          case 'resume':
            policy.paused = false;
            break;
          case 'rate': {
            const rate = Number(args.rate);
            if (!Number.isFinite(rate) || rate < 0) throw usageError(`app rate ${String(args.rate)}: expected a number ≥ 0`);
            policy.ratePerSecond = rate === 0 ? 0 : rate;
            break;
          }
          case 'status':
            break;
          default:
            throw usageError(`app ${String(args.action)}: expected pause, resume, rate N or status`);
        }
        this.refresh();
        return { paused: policy.paused, acceptRate: policy.ratePerSecond === Infinity ? 'unlimited' : policy.ratePerSecond };
      },
      top: () => {
        this.refresh();
        return {
          timeMs: this.engine.now(),
          counters: counterSnapshot(host),
          dropsByReason: dropsByReason(host),
          listeners: listenerSnapshots(host),
          peers: topTalkers(host),
          synIn: host.counters[indexOfCounter('SyndropRxSyn')]!,
          synAckOut: host.counters[indexOfCounter('SyndropTxSynAck')]!,
        };
      },
    };
  }

  private streamHandlers() {
    const host = this.host;
    const startWall = this.engine.startWallMs;
    return {
      'events.follow': async (args: Record<string, unknown>, push: (item: unknown) => boolean, signal: AbortSignal) => {
        const filter = eventFilter(args);
        let next = typeof args.from === 'number' ? args.from : host.events.total;
        while (!signal.aborted) {
          if (host.events.total > next) {
            for (const e of eventsSince(host, next, startWall, filter)) push(e);
            next = host.events.total;
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      },
    };
  }
}

/**
 * A live `syndrop run` on the same control socket is the same emulated host: its port is
 * already listened on. Say which process holds it (like `ss -lptn` would) instead of only
 * "socket busy"; a stale socket from a killed run is replaced silently.
 */
async function claimControlPathOrExplain(path: string): Promise<void> {
  try {
    await claimControlPath(path);
  } catch (error) {
    if (!(error instanceof SyndropError) || error.code !== 'SYNDROP_ERR_ALREADY_RUNNING') throw error;
    let holder: { address?: string; port?: number; pid?: number; profile?: string } | undefined;
    try {
      holder = await controlRequest('ping', {}, { path, timeoutMs: 1000 });
    } catch {
      throw error;
    }
    throw new SyndropError(
      'SYNDROP_ERR_PORT_IN_USE',
      `${holder?.address}:${holder?.port} is already listened on by 'syndrop run' (pid ${holder?.pid}, kernel ${holder?.profile}) at ${path}: stop it first, or start another emulated host with --instance NAME --dev NAME`,
    );
  }
}

function indexOfCounter(name: string): number {
  return COUNTERS.findIndex((c) => c.name === name);
}

function eventFilter(args: Record<string, unknown>): EventFilter {
  const filter: EventFilter = {};
  if (typeof args.reason === 'string') filter.reason = args.reason;
  if (typeof args.peer === 'string') filter.peer = args.peer;
  return filter;
}

/** Cumulative SYNs per source over the events still in the ring (top 10). */
function topTalkers(host: Host): { peer: string; syns: number }[] {
  return [...host.events.synsBySource().entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([addr, syns]) => ({ peer: ipv4ToString(addr), syns }));
}


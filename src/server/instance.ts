// `syndrop run`: one emulated host on a TUN device, its frame loop and its control socket.
// The composition root: io + stack + app + control are wired here and nowhere else; the
// behaviour lives in src/stack and src/observe, the control commands in ./handlers.ts.

import { AcceptLoop } from '../app/accept-loop.js';
import { createApp } from '../app/handlers.js';
import { request } from '../control/client.js';
import type { InstanceSummary } from '../control/contract.js';
import { serveControl, type ControlServer } from '../control/server.js';
import { claimControlPath } from '../control/socket-file.js';
import { SyndropError, usageError } from '../errors.js';
import { preciseAlarm } from '../io/alarm.js';
import { Engine, type FrameDevice } from '../io/engine.js';
import { TunDevice, type TunIoMode } from '../io/tun.js';
import { PcapngWriter } from '../observe/pcapng.js';
import { RunRecorder } from '../report/recorder.js';
import type { RunRecording } from '../report/recording.js';
import type { Profile } from '../profiles/profile.js';
import { Sysctls } from '../profiles/sysctl.js';
import { Host } from '../stack/host.js';
import { parseIpv4, parseIpv6 } from '../wire/addr.js';
import type { ListenFamilies } from '../stack/state.js';
import { controlHandlers, controlStreamHandlers, explainHost, type ServedInstance } from './handlers.js';

export interface InstanceOptions {
  profile: Profile;
  sysctlOverrides: string[];
  address: string;
  /** The emulated host's IPv6 address (fd77::2 in the lab). */
  address6?: string;
  /** `--family`: which families the listener answers (default both). */
  family?: ListenFamilies;
  port: number;
  backlog: number;
  /** bind(2) address of the listener: '0.0.0.0' (the wildcard) or the emulated host's. */
  bind: string;
  /** TCP_DEFER_ACCEPT seconds on the listener; 0 = off. */
  deferAccept: number;
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

export class Instance implements ServedInstance {
  readonly host: Host;
  readonly acceptLoop: AcceptLoop;
  readonly engine: Engine;
  readonly options: InstanceOptions;
  private control: ControlServer | null = null;
  private readonly startedAt = new Date();
  /** Queues and verdict totals every 50 ms for the report (`--report`, the `recording` command). */
  private readonly recorder: RunRecorder;
  private sampler: NodeJS.Timeout | null = null;
  /** The TUN the engine runs on; null with a test's frame device. */
  private readonly tun: TunDevice | null;

  private constructor(options: InstanceOptions, host: Host, acceptLoop: AcceptLoop, engine: Engine, tun: TunDevice | null) {
    this.options = options;
    this.host = host;
    this.acceptLoop = acceptLoop;
    this.engine = engine;
    this.tun = tun;
    this.recorder = new RunRecorder(host, engine.startWallMs);
  }

  /** How the TUN's batches reach the kernel (io_uring or a syscall per frame), null without a TUN. */
  get tunIoMode(): TunIoMode | null {
    return this.tun?.ioMode ?? null;
  }

  static async start(options: InstanceOptions): Promise<Instance> {
    const address = parseIpv4(options.address);
    if (address < 0) throw usageError(`--address ${options.address}: not an IPv4 address`);
    const address6 = options.address6 === undefined ? null : parseIpv6(options.address6);
    if (options.address6 !== undefined && address6 === null) throw usageError(`--address6 ${options.address6}: not an IPv6 address`);
    const sysctls = new Sysctls(options.profile, options.sysctlOverrides);
    const host = new Host({ profile: options.profile, sysctls, address, address6, listenFamilies: options.family, seed: options.seed });
    const handler = createApp(options.app);
    const acceptLoop = new AcceptLoop(host);
    const bound = parseIpv4(options.bind);
    if (bound !== 0 && bound !== address) {
      throw usageError(`--bind ${options.bind}: the emulated host has only ${options.address}; bind to it or to 0.0.0.0`);
    }
    acceptLoop.listen(
      options.port,
      options.backlog,
      { handler, ratePerSecond: options.acceptRate, paused: false },
      { boundAddress: bound, deferAcceptSeconds: options.deferAccept },
    );
    await claimControlPathOrExplain(options.controlPath);
    const tun = options.frameDevice === undefined ? TunDevice.open(options.device, options.netns === null ? {} : { netns: options.netns }) : null;
    const device = options.frameDevice ?? tun!;
    const pcap =
      options.pcapPath === null
        ? null
        : new PcapngWriter(options.pcapPath, { maxBytes: options.pcapMaxBytes, maxFiles: 10, ifName: options.device, appName: 'syndrop' });
    // The TUN's addon also gives the frame loop its microsecond timer (src/io/alarm.ts).
    const alarm = options.frameDevice === undefined ? preciseAlarm : undefined;
    const engine = new Engine({ host, device, pcap, onKernelLog: options.onKernelLog, alarm });
    const instance = new Instance(options, host, acceptLoop, engine, tun);
    try {
      instance.control = await serveControl(options.controlPath, controlHandlers(instance), controlStreamHandlers(instance));
    } catch (error) {
      engine.stop();
      throw error;
    }
    engine.start();
    instance.startSampling();
    return instance;
  }

  private startSampling(): void {
    this.recorder.sample(0);
    this.sampler = setInterval(() => this.recorder.tick(this.engine.now()), this.recorder.sampleIntervalMs);
    this.sampler.unref();
  }

  /** Everything the report draws, from start to now. */
  recording(): RunRecording {
    this.engine.poke();
    const now = this.engine.now();
    const options = this.options;
    const rate = options.acceptRate === Infinity ? 'at once' : options.acceptRate === 0 ? 'never' : `${options.acceptRate}/s`;
    const settings = { port: String(options.port), backlog: String(options.backlog), app: options.app, 'accept()': rate };
    return this.recorder.recording(now, settings, explainHost(this.host, this.engine.startWallMs));
  }

  async stop(): Promise<void> {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
    this.engine.stop();
    if (this.control !== null) await this.control.close();
    this.control = null;
  }

  get controlPath(): string {
    return this.options.controlPath;
  }

  summary(): InstanceSummary {
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
    let holder: InstanceSummary;
    try {
      holder = await request(path, 'ping', {}, { timeoutMs: 1000 });
    } catch {
      throw error;
    }
    throw new SyndropError(
      'SYNDROP_ERR_PORT_IN_USE',
      `${holder.address}:${holder.port} is already listened on by 'syndrop run' (pid ${holder.pid}, kernel ${holder.profile}) at ${path}: stop it first, or start another emulated host with --instance NAME --dev NAME`,
    );
  }
}

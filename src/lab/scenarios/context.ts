// Everything a scenario does to the outside world: start and stop its own `syndrop run` child
// under a private control socket, drive real clients in the lab's client namespaces (curl, a
// small Python socket client, a bounded spoofed-SYN generator), read the emulator through the
// control socket, and undo every change it made (client sysctls, nft/iptables rules) — in
// reverse order, even when a step throws.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assetPath, BIN_DIR, PYTHON } from '../../assets.js';
import { request as sendControl } from '../../control/client.js';
import type { ControlCommand, EventsReply, MetricsEntrySnapshot, ReplyOf, RequestOf, SsReply } from '../../control/contract.js';
import { startRunChild, type RunChild } from '../../io/run-child.js';
import { hostPart } from '../../observe/endpoint-text.js';
import type { RunRecording } from '../../report/recording.js';
import { SyndropError } from '../../errors.js';
import { ipv4ToString, parseIpv4 } from '../../wire/addr.js';
import { haveTool, run, runInNetns, type RunResult } from '../exec.js';
import type { LabNodeName, LabTopology } from '../topology.js';
import { clientAddress, familyAddresses, type FamilyAddresses, type ScenarioFamily } from './family.js';
import type { Progress } from './progress.js';
import type { VerdictRow } from './types.js';

const SDGEN = join(BIN_DIR, 'sdgen');
const SOCKET_CLIENT = assetPath('python', 'socket_client.py');
const SPOOFED_SYN6 = assetPath('python', 'spoofed_syn6.py');

export type ClientName = 'c1' | 'c2' | 'c3';

/** What one client experienced. */
export type ClientOutcome = 'connected' | 'dropped' | 'reset' | 'refused' | 'failed';

export interface CurlResult {
  client: ClientName;
  outcome: ClientOutcome;
  httpCode: string;
  exitCode: number;
  /** TCP connect time as curl measured it, ms (0 when it never connected). */
  connectMs: number;
  totalMs: number;
}

export interface SocketClientResult {
  /** Local (= source) port of the connection; the server sees it unchanged from c3 (no NAT). */
  port: number;
  /** connect() result: connected, dropped (timed out), reset, refused. */
  connect: ClientOutcome;
  connectMs: number;
  /** State after the last `probe`: still open, reset by the peer, closed by the peer. */
  probe?: 'open' | 'reset' | 'closed' | 'data';
}

export type SocketClientStep =
  | { op: 'connect'; count: number; timeout: number }
  | { op: 'sleep'; seconds: number }
  | { op: 'cmd'; argv: string[] }
  | { op: 'probe' };

export interface EmulatorOptions {
  kernel: string;
  backlog?: number;
  acceptRate?: number;
  sysctls?: string[];
}

/** Timing knobs: short by default (< 30 s per scenario), Linux defaults with --real-timing. */
export interface Timing {
  real: boolean;
  /** curl --connect-timeout, seconds. */
  connectTimeout: number;
  /** curl -m, seconds. */
  maxTime: number;
  /** Clients' net.ipv4.tcp_syn_retries, or null to leave the namespace's value. */
  clientSynRetries: number | null;
}

export function timingFor(real: boolean): Timing {
  return real
    ? { real, connectTimeout: 20, maxTime: 25, clientSynRetries: null }
    : { real, connectTimeout: 2.5, maxTime: 4, clientSynRetries: 2 };
}

export class ScenarioContext {
  readonly topology: LabTopology;
  readonly timing: Timing;
  readonly rows: VerdictRow[] = [];
  readonly progress: Progress;
  readonly controlPath: string;
  /** What each emulator recorded before it was stopped (`--report`); empty unless asked for. */
  readonly recordings: RunRecording[] = [];
  private readonly record: boolean;
  private readonly cleanups: Array<{ what: string; fn: () => Promise<void> }> = [];
  private emulator: RunChild | null = null;
  /** The clients' family and the lab addresses that go with it. */
  readonly addresses: FamilyAddresses;

  constructor(topology: LabTopology, timing: Timing, progress: Progress, instance: string, record = false, family: ScenarioFamily = 4) {
    this.topology = topology;
    this.addresses = familyAddresses(topology, family);
    this.timing = timing;
    this.progress = progress;
    this.record = record;
    // A private control socket: the scenario's emulator never collides with a user's `syndrop run`.
    this.controlPath = `/run/syndrop/${instance}.sock`;
  }

  get family(): ScenarioFamily {
    return this.addresses.family;
  }

  get emulatedHost(): string {
    return this.addresses.emulatedHost;
  }

  get natPublicAddress(): string {
    return this.addresses.natPublicAddress;
  }

  /** A client's own address in the scenario's family. */
  clientAddress(node: LabNodeName): string {
    return clientAddress(this.topology, node, this.family);
  }

  /** The start of an event's src/dst for this address: `10.77.9.254:` or `[fd77:9::254]:`. */
  endpointPrefix(address: string): string {
    return `${hostPart(address)}:`;
  }

  /** iptables or ip6tables, for rules on the scenario's family. */
  get iptables(): string {
    return this.family === 4 ? 'iptables' : 'ip6tables';
  }

  netns(node: LabNodeName): string {
    return this.topology.nodes[node].netns;
  }

  step(text: string): void {
    this.progress.step(text);
  }

  /** Record one verdict row. `ok` compares what the spec predicts with what was observed. */
  check(step: string, expected: string, observed: string, ok: boolean, spec: string): boolean {
    this.rows.push({ step, expected, observed, ok, spec });
    return ok;
  }

  /** Register an undo action; run in reverse order by cleanup(). */
  onCleanup(what: string, fn: () => Promise<void>): void {
    this.cleanups.push({ what, fn });
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    while (this.cleanups.length > 0) {
      const { what, fn } = this.cleanups.pop()!;
      try {
        await fn();
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return problems;
  }

  // --- the emulator child ---------------------------------------------------------------

  async startEmulator(options: EmulatorOptions): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.startEmulatorOnce(options);
      } catch (error) {
        // The TUN may still be held for a moment by an emulator that just exited.
        if (attempt >= 3 || !(error instanceof Error) || !/EBUSY/.test(error.message)) throw error;
        await sleep(500);
      }
    }
  }

  private async startEmulatorOnce(options: EmulatorOptions): Promise<void> {
    if (this.emulator !== null) await this.stopEmulator();
    const args = ['--kernel', options.kernel, '--quiet', '--control', this.controlPath, '--seed', '1'];
    if (options.backlog !== undefined) args.push('--backlog', String(options.backlog));
    if (options.acceptRate !== undefined) args.push('--accept-rate', String(options.acceptRate));
    for (const s of options.sysctls ?? []) args.push('--sysctl', s);
    // An IPv6-only listener ([::] with IPV6_V6ONLY) for IPv6 clients; IPv4 keeps run's default.
    if (this.family === 6) args.push('--family', '6');
    this.onCleanup('stop the emulator', () => this.stopEmulator());
    try {
      this.emulator = await startRunChild(args, {
        controlPath: this.controlPath,
        env: { ...process.env, SYNDROP_LAB_PREFIX: this.topology.prefix },
      });
    } catch (error) {
      const why = error instanceof Error ? error.message.replace(/^syndrop run did not come up: /, '') : String(error);
      throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `the scenario's emulator did not start: ${why}`);
    }
  }

  async stopEmulator(): Promise<void> {
    const emulator = this.emulator;
    this.emulator = null;
    try {
      // Ask before stopping: the recording lives in the emulator's memory.
      if (emulator !== null && this.record) this.recordings.push(await this.request('recording', {}));
    } finally {
      await emulator?.stop('SIGTERM', 3000);
    }
  }

  /** One command of the control contract to this scenario's emulator. */
  request<C extends ControlCommand>(command: C, args: RequestOf<C>): Promise<ReplyOf<C>> {
    return sendControl(this.controlPath, command, args, { timeoutMs: 5000 });
  }

  async counters(): Promise<Record<string, number>> {
    return (await this.request('stats', {})).counters;
  }

  async ss(): Promise<SsReply> {
    return this.request('ss', {});
  }

  async events(from = 0): Promise<EventsReply> {
    return this.request('events', { from, last: 100_000 });
  }

  async setSysctl(assignment: string): Promise<void> {
    await this.request('sysctl', { set: [assignment] });
  }

  /** An integer sysctl's value, or undefined when this kernel has no such sysctl. */
  async readSysctl(name: string): Promise<number | undefined> {
    try {
      const reply = await this.request('sysctl', { get: [name] });
      const value = reply.values[0]?.value;
      return typeof value === 'number' ? value : undefined;
    } catch (error) {
      if (error instanceof SyndropError && error.code === 'SYNDROP_ERR_UNKNOWN_SYSCTL') return undefined;
      throw error;
    }
  }

  async metrics(): Promise<MetricsEntrySnapshot[]> {
    return (await this.request('metrics', {})).entries;
  }

  // --- client namespaces ------------------------------------------------------------------

  /** Set a sysctl inside a lab namespace and restore its old value on cleanup. */
  async setNetnsSysctl(node: LabNodeName, key: string, value: string): Promise<void> {
    const ns = this.netns(node);
    const old = (await runInNetns(ns, ['sysctl', '-n', key])).stdout.trim();
    if (old === value) return;
    await runInNetns(ns, ['sysctl', '-q', '-w', `${key}=${value}`]);
    this.onCleanup(`restore ${key} in ${ns}`, async () => {
      await runInNetns(ns, ['sysctl', '-q', '-w', `${key}=${old}`]);
    });
  }

  /** Lower the clients' SYN retries (fast mode) so a dropped client gives up within seconds. */
  async prepareClients(clients: readonly ClientName[] = ['c1', 'c2', 'c3']): Promise<void> {
    if (this.timing.clientSynRetries === null) return;
    for (const client of clients) await this.setNetnsSysctl(client, 'net.ipv4.tcp_syn_retries', String(this.timing.clientSynRetries));
  }

  /** curl http://emulated/ from a client, classified by what the client experienced. */
  async curl(client: ClientName, options: { connectTimeout?: number; maxTime?: number } = {}): Promise<CurlResult> {
    const connectTimeout = options.connectTimeout ?? this.timing.connectTimeout;
    const maxTime = options.maxTime ?? this.timing.maxTime;
    const result = await runInNetns(
      this.netns(client),
      ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{time_connect} %{time_total}', '--connect-timeout', String(connectTimeout), '-m', String(maxTime), `http://${hostPart(this.emulatedHost)}/`],
      { allowFailure: true, timeoutMs: (maxTime + 5) * 1000 },
    );
    const [httpCode = '000', connect = '0', total = '0'] = result.stdout.trim().split(' ');
    const connectMs = Math.round(Number(connect) * 1000);
    return { client, outcome: classifyCurl(result.code, httpCode, connectMs), httpCode, exitCode: result.code, connectMs, totalMs: Math.round(Number(total) * 1000) };
  }

  /**
   * The small Python socket client (stdlib only): sequential connects that stay open, sleeps,
   * commands inside the client's namespace (e.g. an iptables rule), and a probe of every open
   * connection (reset? closed?). Used where curl would close its connection too early.
   */
  async socketClient(client: ClientName, steps: SocketClientStep[]): Promise<SocketClientResult[]> {
    const held = await this.holdingSocketClient(client, steps, 0);
    await held.finished;
    return held.results;
  }

  /**
   * As socketClient, but the connections stay open for holdSeconds after the results are
   * reported, so the server can be observed while the clients are still there (a client that
   * closes sends a FIN, which a ghost request would count as one more overflowing ACK). Closed
   * with a RST (SO_LINGER 0) at the end.
   */
  async holdingSocketClient(client: ClientName, steps: SocketClientStep[], holdSeconds: number): Promise<{ results: SocketClientResult[]; finished: Promise<void> }> {
    const plan = JSON.stringify({ host: this.emulatedHost, port: 80, steps, hold: holdSeconds });
    const budget = steps.reduce((sum, s) => sum + (s.op === 'connect' ? s.count * s.timeout : s.op === 'sleep' ? s.seconds : 2), 0) + holdSeconds;
    const child = spawn('ip', ['netns', 'exec', this.netns(client), PYTHON, SOCKET_CLIENT, plan], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), (budget + 10) * 1000);
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const finished = new Promise<void>((resolve) => child.once('close', () => {
      clearTimeout(killer);
      resolve();
    }));
    this.onCleanup('stop the socket client', async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await finished;
    });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
        const nl = stdout.indexOf('\n');
        if (nl >= 0) resolve(stdout.slice(0, nl));
      });
      child.once('close', (code) => reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `socket client in ${this.netns(client)} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`)));
    });
    return { results: JSON.parse(line) as SocketClientResult[], finished };
  }

  /**
   * A bounded burst of spoofed SYNs from sd-c3, sources inside the lab's spoofed prefix (routed
   * back into sd-c3 and dropped there). Bounded in count and in time; every 4-tuple distinct.
   */
  async spoofedSyns(count: number, seconds = 2): Promise<{ sent: number; tool: string }> {
    const ns = this.netns('c3');
    if (this.family === 6) return this.spoofedSyns6(ns, count, seconds);
    if (existsSync(SDGEN)) {
      const r = await runInNetns(
        ns,
        [SDGEN, 'syn', '--dst', this.emulatedHost, '--dport', '80', '--src-net', this.topology.spoofedPrefix, '--count', String(count), '--seconds', String(seconds), '--rate', '20000', '--rx', 'none'],
        { timeoutMs: (seconds + 5) * 1000 },
      );
      const line = r.stdout.trim().split('\n').pop() ?? '{}';
      return { sent: Number((JSON.parse(line) as { sent?: number }).sent ?? 0), tool: 'sdgen' };
    }
    if (!(await haveTool('hping3'))) throw new SyndropError('SYNDROP_ERR_MISSING_TOOL', `neither ${SDGEN} (run 'make') nor hping3 (apt-get install hping3) is available`);
    // One spoofed address inside the prefix, a new source port per SYN: -c bounds the count,
    // timeout bounds the time.
    const spoofed = ipv4ToString((parseIpv4(this.topology.spoofedPrefix.split('/')[0]!) + 0x4801) >>> 0);
    await runInNetns(ns, ['timeout', '-s', 'INT', String(seconds + 1), 'hping3', '-q', '-S', '-p', '80', '-a', spoofed, '-i', 'u200', '-c', String(count), this.emulatedHost], {
      allowFailure: true,
      timeoutMs: (seconds + 5) * 1000,
    });
    return { sent: count, tool: 'hping3' };
  }

  /** sdgen and hping3 speak IPv4 only: the IPv6 burst comes from a stdlib Python raw socket. */
  private async spoofedSyns6(ns: string, count: number, seconds: number): Promise<{ sent: number; tool: string }> {
    const r = await runInNetns(ns, [PYTHON, SPOOFED_SYN6, this.emulatedHost, '80', this.addresses.spoofedPrefix, String(count), String(seconds)], {
      timeoutMs: (seconds + 5) * 1000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '{}';
    return { sent: Number((JSON.parse(line) as { sent?: number }).sent ?? 0), tool: 'spoofed_syn6.py' };
  }

  /** Run a command in a lab namespace (nft, iptables); throws on failure. */
  exec(node: LabNodeName, argv: string[], input?: string): Promise<RunResult> {
    return runInNetns(this.netns(node), argv, input === undefined ? {} : { input });
  }

  /** Run a command in a lab namespace; resolves with its exit code instead of throwing. */
  async tryExec(node: LabNodeName, argv: string[]): Promise<number> {
    return (await runInNetns(this.netns(node), argv, { allowFailure: true })).code;
  }

  emulatorLog(): string {
    return this.emulator?.stderr() ?? '';
  }
}

function classifyCurl(exitCode: number, httpCode: string, connectMs: number): ClientOutcome {
  if (exitCode === 0 && httpCode !== '000') return 'connected';
  if (exitCode === 7) return 'refused';
  if (exitCode === 56 || exitCode === 52 || exitCode === 35) return 'reset';
  if (exitCode === 28) return connectMs > 0 ? 'connected' : 'dropped';
  return 'failed';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { run };

// `syndrop simulate`: a workload in virtual time against one emulated host. Legitimate
// clients arrive (Poisson or evenly), each at its own RTT: its SYN reaches the server half
// an RTT after it left, a SYN-ACK reaches it half an RTT later, and it ACKs every SYN-ACK
// (first or retransmitted, spec §3.2). Without a SYN-ACK it retransmits on its kernel's
// schedule and finally gives up (spec §1.10). An optional flood of spoofed SYNs never
// answers. The application accepts at --accept-rate and serves each connection at once
// (closed with RST: no TIME_WAIT to carry). Clients behind NAT (--nat) share addresses and
// carry their host's timestamp clock; there the application closes first with a FIN, which
// the client answers with its own, so the server holds TIME_WAIT and, with tcp_tw_recycle,
// remembers each address's last timestamp (spec §2.2). Same seed, same run.

import type { ConnectionHandler } from '../stack/conn.js';
import { SeededRandom } from '../stack/hash.js';
import type { TxRing } from '../stack/tx.js';
import { Verdict } from '../stack/verdict.js';
import { parseIpv4 } from '../wire/addr.js';
import { SegmentSpec } from '../wire/builder.js';
import { Ipv4Field, readU32 } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { CapturedSegment, SegmentLoad } from '../replay/captured-segment.js';
import { OfflineHost } from '../replay/offline-host.js';
import { SeriesRecorder } from '../replay/series.js';
import { EventHeap } from './event-heap.js';
import { FrameTemplate } from './frame-template.js';
import { simulateRecording } from './simulate-report.js';
import { buildSimulateResult, type ClientOutcomes, type SimulateResult } from './simulate-result.js';
import { NAT_PORTS, clientClockPerConnection, synSchedule, type NatGroups, type Workload } from './workload.js';

export interface SimulateOptions extends Workload {
  kernel: string;
  sysctls: readonly string[];
  backlog: number;
  acceptRate: number;
  seed: number;
  bucketMs: number;
  /** Record for the HTML report, virtual 0 standing for this wall time (ms); absent: no recording. */
  recordStartWallMs?: number;
}

export const SIMULATED_SERVER = parseIpv4('10.77.0.2');
export const SIMULATED_PORT = 80;
/** Clients live in 10.0.0.0/8 from 10.1.0.0, PORTS_PER_ADDRESS source ports per address. */
const CLIENT_BASE = parseIpv4('10.1.0.0');
const PORTS_PER_ADDRESS = 50_000;
const FIRST_PORT = 10_000;
/** Spoofed sources: 100.64.0.0/10, never a client. */
const FLOOD_BASE = parseIpv4('100.64.0.0');
const FLOOD_SPAN = 1 << 22;
/** NAT addresses (--nat): 10.200.0.1 upward, FIRST_PORT upward on each. */
const NAT_BASE = parseIpv4('10.200.0.0');

const Kind = { SYN: 0, ACK: 1, GIVE_UP: 2, FIN: 3 } as const;
const Outcome = { PENDING: 0, CONNECTED: 1, RESET: 2, TIMED_OUT: 3 } as const;

/** The application: accept, serve at once, close with RST (SO_LINGER 0). */
const serveAndClose: ConnectionHandler = {
  onAccepted: (conn) => conn.abort(),
  onData: () => {},
  onPeerClosed: () => {},
  onClosed: () => {},
};

/** Behind NAT: accept, serve at once, close first with a FIN (the server ends in TIME_WAIT). */
const serveAndFinish: ConnectionHandler = {
  onAccepted: (conn) => conn.close(),
  onData: () => {},
  onPeerClosed: () => {},
  onClosed: () => {},
};

export function runSimulation(options: SimulateOptions): SimulateResult {
  return new Simulation(options).run();
}

class Simulation {
  readonly offline: OfflineHost;
  readonly series: SeriesRecorder;
  readonly heap = new EventHeap();
  readonly rng: SeededRandom;
  readonly schedule: number[];
  /** The client kernel gives each connection its own timestamp clock (4.10, spec §2.5). */
  readonly clockPerConnection: boolean;
  /** The three shapes of segment a simulated client sends (frame-template.ts). */
  readonly clientSyn = new FrameTemplate(segmentShape(TcpFlag.SYN, 64240, true));
  readonly clientAck = new FrameTemplate(segmentShape(TcpFlag.ACK, 502, false));
  readonly clientFin = new FrameTemplate(segmentShape(TcpFlag.FIN | TcpFlag.ACK, 502, false));
  readonly spoofedSyn = new FrameTemplate(spoofedShape());
  readonly reply = new CapturedSegment();
  // Per client, by index (plain arrays: they grow with the arrivals).
  readonly sentFirstAt: number[] = [];
  readonly rtt: number[] = [];
  readonly isn: number[] = [];
  readonly tsBase: number[] = [];
  readonly attempt: number[] = [];
  readonly outcome: number[] = [];
  readonly connectedAt: number[] = [];
  readonly serverIsn: number[] = [];
  readonly serverTsVal: number[] = [];
  readonly serverEstablished: boolean[] = [];
  readonly nat: Nat | null;
  floodSyns = 0;
  legitimateSyns = 0;
  now = 0;

  constructor(readonly options: SimulateOptions) {
    this.rng = new SeededRandom(options.seed ^ 0x5eed);
    this.schedule = synSchedule(options.clientKernel, options.synRetries);
    this.clockPerConnection = clientClockPerConnection(options.clientKernel);
    this.offline = new OfflineHost({
      kernel: options.kernel,
      sysctls: options.sysctls,
      address: SIMULATED_SERVER,
      port: SIMULATED_PORT,
      backlog: options.backlog,
      acceptRate: options.acceptRate,
      app: (options.nat ?? null) === null ? serveAndClose : serveAndFinish,
      seed: options.seed,
    });
    this.nat = options.nat === undefined || options.nat === null ? null : new Nat(options.nat, () => this.rng.nextUnit());
    this.series = new SeriesRecorder(options.bucketMs, this.offline.listener);
    this.offline.observe(
      (tx, i) => this.onSent(tx, i),
      (time, verdict, peerAddr, peerPort) => this.onDecision(time, verdict, peerAddr, peerPort),
    );
    if (options.recordStartWallMs !== undefined) this.offline.record(options.recordStartWallMs);
  }

  /** The workload's next draw in [0, 1). */
  random(): number {
    return this.rng.nextUnit();
  }

  run(): SimulateResult {
    const o = this.options;
    const exponentialGap = (rate: number) => (-Math.log(1 - this.random()) * 1000) / rate;
    const arrivalGap = () => (o.arrivals === 'uniform' ? 1000 / o.synRate : exponentialGap(o.synRate));
    let nextArrival = o.synRate > 0 && o.maxClients > 0 ? (o.arrivals === 'uniform' ? 0 : arrivalGap()) : Infinity;
    let nextFlood = o.floodRate > 0 ? exponentialGap(o.floodRate) : Infinity;
    for (;;) {
      const heapAt = this.heap.peekTime();
      const t = Math.min(nextArrival, nextFlood, heapAt);
      if (t === Infinity) break;
      this.now = t;
      if (t === heapAt) this.clientAction(this.heap.pop());
      else if (t === nextArrival) {
        this.arrive(t);
        nextArrival = t + arrivalGap();
        if (nextArrival >= o.durationMs || this.outcome.length >= o.maxClients) nextArrival = Infinity;
      } else {
        this.floodSyn(t);
        nextFlood = t + exponentialGap(o.floodRate);
        if (nextFlood >= o.durationMs) nextFlood = Infinity;
      }
    }
    this.offline.advanceTo(Math.floor(this.now));
    this.series.sample(Math.floor(this.now));
    const clients: ClientOutcomes = {
      outcome: this.outcome,
      connectMs: this.connectedAt.map((at, i) => (at < 0 ? null : at - this.sentFirstAt[i]!)),
      serverEstablished: this.serverEstablished,
    };
    const result = buildSimulateResult(this.offline, o, clients, { legitimate: this.legitimateSyns, flood: this.floodSyns }, this.series.series, this.now);
    const recorder = this.offline.recorder;
    if (recorder !== null) result.recording = simulateRecording(recorder, result, this.offline.host, o.recordStartWallMs!, Math.floor(this.now));
    return result;
  }

  /** A new client: its first SYN reaches the server now. */
  arrive(t: number): void {
    const o = this.options;
    const rtt = o.rttMinMs + (o.rttMaxMs - o.rttMinMs) * this.random();
    this.sentFirstAt.push(t - rtt / 2);
    this.rtt.push(rtt);
    this.isn.push(Math.floor(this.random() * 4294967296));
    this.tsBase.push(Math.floor(this.random() * 4294967296));
    this.attempt.push(0);
    this.outcome.push(Outcome.PENDING);
    this.connectedAt.push(-1);
    this.serverIsn.push(0);
    this.serverTsVal.push(0);
    this.serverEstablished.push(false);
    const client = this.outcome.length - 1;
    // Behind NAT the connection takes the NAT's next port and its host's clock, unless the
    // client kernel gives every connection a random clock of its own (4.10: keep the draw above).
    if (this.nat !== null) {
      const hostClock = this.nat.place(client);
      if (!this.clockPerConnection) this.tsBase[client] = hostClock;
    }
    this.clientAction(client * 4 + Kind.SYN);
  }

  clientAction(payload: number): void {
    const client = Math.floor(payload / 4);
    const kind = payload % 4;
    if (kind === Kind.ACK) return this.sendAck(client);
    if (kind === Kind.FIN) return this.sendFin(client);
    const outcome = this.outcome[client]!;
    const half = this.rtt[client]! / 2;
    // A retransmit already on its way when the SYN-ACK reached the client still arrives.
    const inFlight = kind === Kind.SYN && this.#retransmitStillLeaves(client, this.now - half);
    if (outcome !== Outcome.PENDING && !inFlight) return;
    if (kind === Kind.GIVE_UP) {
      this.outcome[client] = Outcome.TIMED_OUT;
      return;
    }
    const attempt = this.attempt[client]!++;
    this.legitimateSyns++;
    this.sendClientSyn(client);
    if (inFlight) return;
    const start = this.sentFirstAt[client]!;
    const last = this.schedule.length - 1;
    // The next retransmit reaches the server half an RTT after the client sends it; after the
    // last one the client waits out one more backoff and gives up (its connect() fails).
    // Most SYNs are answered within this call (onSent ran): an action that will find the client
    // done is not queued at all, so the heap holds the clients still waiting (~10^3), not every
    // client of the last second (~10^5). The test is the one clientAction makes when it fires.
    const settled = this.outcome[client] !== Outcome.PENDING;
    if (attempt + 1 < last) {
      const at = start + this.schedule[attempt + 1]! + half;
      if (settled && !this.#retransmitStillLeaves(client, at - half)) return;
      this.heap.push(at, client * 4 + Kind.SYN);
    } else if (!settled) this.heap.push(start + this.schedule[last]!, client * 4 + Kind.GIVE_UP);
  }

  /** Whether a retransmit the client sends at `sentAt` still happens: it had no SYN-ACK yet. */
  #retransmitStillLeaves(client: number, sentAt: number): boolean {
    return this.outcome[client] === Outcome.CONNECTED && this.connectedAt[client]! > sentAt;
  }

  clientAddress(client: number): number {
    if (this.nat !== null) return this.nat.address[client]!;
    return CLIENT_BASE + 1 + Math.floor(client / PORTS_PER_ADDRESS);
  }

  clientPort(client: number): number {
    if (this.nat !== null) return this.nat.port[client]!;
    return FIRST_PORT + (client % PORTS_PER_ADDRESS);
  }

  sendClientSyn(client: number): void {
    const tsVal = (this.tsBase[client]! + Math.floor(this.now)) >>> 0;
    const length = this.clientSyn.write(this.clientAddress(client), this.clientPort(client), this.isn[client]!, 0, tsVal, 0);
    this.series.synIn(Math.floor(this.now));
    this.deliver(this.clientSyn.frame, length);
  }

  sendAck(client: number): void {
    const tsVal = (this.tsBase[client]! + Math.floor(this.now)) >>> 0;
    const length = this.clientAck.write(this.clientAddress(client), this.clientPort(client), (this.isn[client]! + 1) >>> 0, (this.serverIsn[client]! + 1) >>> 0, tsVal, this.serverTsVal[client]!);
    this.deliver(this.clientAck.frame, length);
  }

  /** The client's answer to the server's FIN: its own FIN, acknowledging the server's. */
  sendFin(client: number): void {
    const tsVal = (this.tsBase[client]! + Math.floor(this.now)) >>> 0;
    const length = this.clientFin.write(this.clientAddress(client), this.clientPort(client), (this.isn[client]! + 1) >>> 0, (this.nat!.serverFin[client]! + 1) >>> 0, tsVal, this.serverTsVal[client]!);
    this.deliver(this.clientFin.frame, length);
  }

  floodSyn(t: number): void {
    const address = FLOOD_BASE + Math.floor(this.random() * FLOOD_SPAN);
    const port = 1024 + Math.floor(this.random() * 64000);
    const seq = Math.floor(this.random() * 4294967296);
    this.floodSyns++;
    this.series.synIn(Math.floor(t));
    this.deliver(this.spoofedSyn.frame, this.spoofedSyn.write(address, port, seq, 0, 0, 0));
  }

  deliver(frame: Uint8Array, length: number): void {
    const at = Math.floor(this.now);
    this.offline.receive(frame, 0, length, at);
    this.series.sample(at);
  }

  clientOf(address: number, port: number): number {
    if (this.nat !== null) return this.nat.clientOf(address, port);
    const index = (address - CLIENT_BASE - 1) * PORTS_PER_ADDRESS + (port - FIRST_PORT);
    return address > CLIENT_BASE && port >= FIRST_PORT && port < FIRST_PORT + PORTS_PER_ADDRESS && index < this.outcome.length ? index : -1;
  }

  /** What the server sent reaches a client half an RTT later. */
  onSent(tx: TxRing, index: number): void {
    const off = tx.offsets[index]!;
    // A reply to a spoofed source (nine in ten under a flood) goes nowhere: its destination
    // alone says so, before the segment is parsed. clientOf would refuse it all the same.
    const destination = readU32(tx.slab, off + Ipv4Field.DST_ADDR);
    if (this.nat === null ? destination <= CLIENT_BASE || destination > this.clientAddress(this.outcome.length - 1) : !this.nat.isAddress(destination)) return;
    const reply = this.reply;
    if (reply.load(tx.slab, off, tx.lengths[index]!) !== SegmentLoad.TCP) return;
    const client = this.clientOf(reply.dstAddr, reply.dstPort);
    if (client < 0) return; // a SYN-ACK to a spoofed source goes nowhere
    const outcome = this.outcome[client]!;
    if (outcome === Outcome.RESET || outcome === Outcome.TIMED_OUT) return;
    const sentAt = this.offline.now;
    if ((reply.flags & TcpFlag.RST) !== 0) {
      // A RST after accept() is the application closing; before it, the client's connect fails.
      if (!this.serverEstablished[client]) this.outcome[client] = Outcome.RESET;
      return;
    }
    const rtt = this.rtt[client]!;
    if ((reply.flags & TcpFlag.FIN) !== 0) {
      // The application closed (behind NAT): the client answers with its FIN one RTT later.
      if (outcome === Outcome.CONNECTED) {
        this.serverTsVal[client] = reply.hasTimestamps ? reply.tsVal : 0;
        this.nat!.serverFin[client] = reply.seq;
        this.heap.push(sentAt + rtt, client * 4 + Kind.FIN);
      }
      return;
    }
    if ((reply.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== (TcpFlag.SYN | TcpFlag.ACK)) return;
    if (outcome === Outcome.PENDING) {
      this.outcome[client] = Outcome.CONNECTED;
      this.connectedAt[client] = sentAt + rtt / 2;
    }
    this.serverIsn[client] = reply.seq;
    this.serverTsVal[client] = reply.hasTimestamps ? reply.tsVal : 0;
    this.heap.push(sentAt + rtt, client * 4 + Kind.ACK);
  }

  onDecision(time: number, verdict: number, peerAddr: number, peerPort: number): void {
    this.series.event(time, verdict);
    if (verdict !== Verdict.REQ_ESTABLISHED && verdict !== Verdict.COOKIE_ACCEPTED) return;
    const client = this.clientOf(peerAddr, peerPort);
    if (client >= 0) this.serverEstablished[client] = true;
  }
}

/**
 * Clients behind NAT (workload.ts NatGroups): each connection from a random host of a random
 * NAT address, on that address's next source port, with the host's timestamp clock. The
 * random draws come after a client's own, so runs without --nat draw exactly as before.
 */
class Nat {
  /** Per client: its NAT address and port. */
  readonly address: number[] = [];
  readonly port: number[] = [];
  /** Per client: the sequence number of the server's FIN, which its own FIN acknowledges. */
  readonly serverFin: number[] = [];
  /** Per host (address-major): the base of its timestamp clock. */
  readonly #hostClock: number[] = [];
  /** Per NAT address: the client on each port slot (-1: none yet), and the next slot. */
  readonly #owner: Int32Array[] = [];
  readonly #nextSlot: number[] = [];

  constructor(
    readonly shape: NatGroups,
    readonly random: () => number,
  ) {
    for (let i = 0; i < shape.groups * shape.hosts; i++) this.#hostClock.push(Math.floor(random() * 4294967296));
    for (let g = 0; g < shape.groups; g++) {
      this.#owner.push(new Int32Array(NAT_PORTS).fill(-1));
      this.#nextSlot.push(0);
    }
  }

  /** Places a new client behind a NAT address; returns its host's clock base. */
  place(client: number): number {
    const group = Math.floor(this.random() * this.shape.groups);
    const host = Math.floor(this.random() * this.shape.hosts);
    const slot = this.#nextSlot[group]!;
    this.#nextSlot[group] = (slot + 1) % NAT_PORTS;
    this.#owner[group]![slot] = client;
    this.address.push(NAT_BASE + 1 + group);
    this.port.push(FIRST_PORT + slot);
    this.serverFin.push(0);
    return this.#hostClock[group * this.shape.hosts + host]!;
  }

  isAddress(address: number): boolean {
    return ((address - NAT_BASE - 1) >>> 0) < this.shape.groups;
  }

  /** The client now on this address and port (a port handed out again names its latest client), or -1. */
  clientOf(address: number, port: number): number {
    const slot = port - FIRST_PORT;
    if (!this.isAddress(address) || slot < 0 || slot >= NAT_PORTS) return -1;
    return this.#owner[address - NAT_BASE - 1]![slot]!;
  }
}

/** A legitimate client's SYN (MSS, SACK, window scale, timestamps) or ACK (timestamps), to the simulated server. */
function segmentShape(flags: number, window: number, withSynOptions: boolean): SegmentSpec {
  const spec = new SegmentSpec();
  spec.dstAddr = SIMULATED_SERVER;
  spec.dstPort = SIMULATED_PORT;
  spec.flags = flags;
  spec.window = window;
  if (withSynOptions) {
    spec.mss = 1460;
    spec.sackPermitted = true;
    spec.windowScale = 7;
  }
  spec.hasTimestamps = true;
  return spec;
}

/** A spoofed SYN: no options (what a flood tool sends). */
function spoofedShape(): SegmentSpec {
  const spec = new SegmentSpec();
  spec.dstAddr = SIMULATED_SERVER;
  spec.dstPort = SIMULATED_PORT;
  spec.flags = TcpFlag.SYN;
  spec.window = 512;
  return spec;
}

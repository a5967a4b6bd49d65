// One emulated host on a virtual clock, without a device: what `replay` and `simulate`
// both drive. Frames go in through Host.receive at times the caller chooses, timers and
// the accept loop run through Host.tick, and every frame the host sends and every
// decision it records is handed to the caller as it happens (design.md "Wave 2 target":
// offline = captures or workloads → stack, virtual time, no io).

import { AcceptLoop } from '../app/accept-loop.js';
import { createApp } from '../app/handlers.js';
import { resolveProfile } from '../profiles/resolve.js';
import { Sysctls } from '../profiles/sysctl.js';
import { RunRecorder } from '../report/recorder.js';
import type { ConnectionHandler } from '../stack/conn.js';
import { Host } from '../stack/host.js';
import type { Listener } from '../stack/listener.js';
import type { TxRing } from '../stack/tx.js';

export interface OfflineHostOptions {
  kernel: string;
  sysctls: readonly string[];
  /** The emulated host's IPv4 address (host order number). */
  address: number;
  /** Its IPv6 address as four words, or null/absent: IPv4 only. */
  address6?: Uint32Array | null;
  port: number;
  backlog: number;
  /** accept() per second; Infinity = at once, 0 = never. */
  acceptRate: number;
  /** An app name (http, echo, discard), a handler, or null: accept and hold the connection. */
  app: string | ConnectionHandler | null;
  seed: number;
}

/** Called for every frame the host sent, at virtual ms `now`, before the ring is cleared. */
export type TxSink = (tx: TxRing, index: number, now: number) => void;
/**
 * Called for every decision the host recorded: its virtual ms, verdict (VERDICTS index) and
 * peer. Fields, not the ring's RawEvent: a sink handed the object made V8 allocate one per
 * decision (GC was a tenth of a replay); read field by field in #publish it never exists.
 */
export type EventSink = (time: number, verdict: number, peerAddr: number, peerPort: number) => void;

/** Timers that fire at one instant without the clock moving: past this, something loops. */
const MAX_TURNS_AT_ONE_INSTANT = 1_000_000;

export class OfflineHost {
  readonly host: Host;
  readonly acceptLoop: AcceptLoop;
  readonly listener: Listener;
  /** Samples for the HTML report (--report), or null when nobody asked for one. */
  recorder: RunRecorder | null = null;
  #eventsRead = 0;
  #txSink: TxSink = () => {};
  #eventSink: EventSink = () => {};

  constructor(options: OfflineHostOptions) {
    const profile = resolveProfile(options.kernel);
    const sysctls = new Sysctls(profile, options.sysctls);
    // An IPv6 server's listener is an IPv6 socket ([::] in ss and explain, as `run --family 6`):
    // replay feeds it only its own family's segments.
    const address6 = options.address6 ?? null;
    this.host = new Host({ profile, sysctls, address: options.address, address6, listenFamilies: address6 === null ? 'both' : '6', seed: options.seed, rxChecksumUnnecessary: true });
    this.acceptLoop = new AcceptLoop(this.host);
    const handler = typeof options.app === 'string' ? createApp(options.app) : options.app;
    this.listener = this.acceptLoop.listen(options.port, options.backlog, { handler, ratePerSecond: options.acceptRate, paused: false });
    // Virtual 0 is the first packet (or arrival), not when the application started: it has been
    // idle in accept() before, with a full second of accepts banked.
    if (options.acceptRate > 0 && Number.isFinite(options.acceptRate)) this.acceptLoop.bankFullSecond(this.listener.index);
    // A full ring mid-batch: hand the frames out now, as the engine writes them to the TUN.
    this.host.tx.onFull = (ring) => this.#drainTx(ring);
  }

  /** Where sent frames and recorded decisions go (replaces the previous sinks). */
  observe(txSink: TxSink, eventSink: EventSink): void {
    this.#txSink = txSink;
    this.#eventSink = eventSink;
  }

  get now(): number {
    return this.host.now;
  }

  /**
   * Records queues and verdict totals for the report from now on; `startWallMs` is the wall
   * time virtual 0 stands for (a capture's first packet, or when a simulation started).
   */
  record(startWallMs: number): RunRecorder {
    this.recorder = new RunRecorder(this.host, startWallMs);
    return this.recorder;
  }

  /**
   * Samples due before `until`: the state holds still between inputs and timers, so a sample
   * taken late reads what it would have read on time (and the host is never ticked for it,
   * which could move an accept loop or a prune walk).
   */
  #sampleBefore(until: number): void {
    const recorder = this.recorder;
    if (recorder === null) return;
    while (recorder.nextSampleAt < until) recorder.tick(recorder.nextSampleAt);
  }

  /** Runs every timer and application turn due up to `to` (virtual ms), in time order. */
  advanceTo(to: number): void {
    const host = this.host;
    let turnsHere = 0;
    let last = -1;
    for (;;) {
      const at = host.nextTimerAt();
      if (at > to) break;
      this.#sampleBefore(at);
      const now = Math.max(host.now, at);
      turnsHere = now === last ? turnsHere + 1 : 0;
      if (turnsHere > MAX_TURNS_AT_ONE_INSTANT) throw new Error(`offline host: timers at ${now} ms do not settle`);
      last = now;
      host.tick(now);
      this.#publish();
    }
    this.#sampleBefore(to);
    if (to > host.now) {
      host.tick(to);
      this.#publish();
    }
  }

  /** One frame in at `now` (timers due before it run first); returns the verdict. */
  receive(buf: Uint8Array, off: number, len: number, now: number): number {
    this.advanceTo(now);
    const verdict = this.host.receive(buf, off, len, Math.max(now, this.host.now));
    this.host.tick(this.host.now); // the application's turn right after the frame, as the engine's drain does
    this.#publish();
    return verdict;
  }

  #publish(): void {
    const events = this.host.events;
    if (events.total - this.#eventsRead > events.capacity) this.#eventsRead = events.total - events.capacity;
    for (; this.#eventsRead < events.total; this.#eventsRead++) {
      const n = this.#eventsRead;
      this.#eventSink(events.timeOf(n), events.verdictOf(n), events.peerAddrOf(n), events.peerPortOf(n));
    }
    this.#drainTx(this.host.tx);
  }

  #drainTx(ring: TxRing): void {
    const now = this.host.now;
    for (let i = 0; i < ring.count; i++) this.#txSink(ring, i, now);
    ring.clear();
  }
}

// The emulated host: the kernel's state, one reused segment record, and the entry points a
// driver calls — frames in (`receive`), time in (`tick`), listen(2) and accept(2). Pure and
// deterministic: frames and a virtual clock in, frames out through the TxRing, so every
// kernel rule is testable with crafted frames (design.md "Data flow"). The kernel functions
// live in their own modules and take (state, segment); this file only routes to them.

import type { Connection } from './conn.js';
import { ipv4ToString, ipv6ToString } from '../wire/addr.js';
import { ipReceive } from './ip-input.js';
import { isIpv6Key } from './peers6.js';
import { Listener } from './listener.js';
import { requestTimerFired } from './reqsk-timer.js';
import { Segment } from './segment.js';
import { KernelState, type KernelConfig, type ListenerApplication } from './state.js';
import { timewaitExpired } from './timewait-sock.js';

export type HostConfig = KernelConfig;
export type { ListenerApplication };

export { TCP_TIMEOUT_INIT, TCP_RTO_MAX, TCP_SYNQ_INTERVAL, TCP_PAWS_MSL_SEC, TCP_PAWS_WINDOW, TCP_MSS_DEFAULT } from './constants.js';

export class Host {
  readonly state: KernelState;
  /** The frame being processed (TCP_SKB_CB): reused, so the hot path allocates nothing. */
  private readonly segment = new Segment();
  /** Timers are not segments: their events carry the expiring socket's flow. */
  private readonly timerFlow = new Segment();

  constructor(config: HostConfig) {
    this.state = new KernelState(config);
  }

  // ------------------------------------------------------------------ what observers read

  get profile() {
    return this.state.profile;
  }
  get sysctls() {
    return this.state.sysctls;
  }
  get switches() {
    return this.state.switches;
  }
  get address() {
    return this.state.address;
  }
  /**
   * A peer key as text: the IPv4 address, or the IPv6 address it stands for (peers6.ts). For
   * observers reading the pools; a key kept past its state's life may name a newer peer.
   */
  peerText(key: number): string {
    return isIpv6Key(key) ? this.state.peers6.addressText(key) : ipv4ToString(key);
  }
  /** Our address as the peer's family sees it (fd77::2 for an IPv6 peer). */
  localText(key: number): string {
    return isIpv6Key(key) ? ipv6ToString(this.state.address6) : ipv4ToString(this.state.address);
  }
  get broadcast() {
    return this.state.broadcast;
  }
  get now() {
    return this.state.now;
  }
  get counters() {
    return this.state.counters;
  }
  get verdictCounts() {
    return this.state.verdictCounts;
  }
  get events() {
    return this.state.events;
  }
  get tx() {
    return this.state.tx;
  }
  get metrics() {
    return this.state.metrics;
  }
  get listeners() {
    return this.state.listeners;
  }
  get requests() {
    return this.state.requests;
  }
  get timewait() {
    return this.state.timewait;
  }
  get connections() {
    return this.state.connections;
  }
  get kernelLog() {
    return this.state.kernelLog;
  }

  // ------------------------------------------------------------------ sockets

  /** The process that accept()s on the listeners (src/app): told when it may run. */
  attachApplication(application: ListenerApplication): void {
    this.state.application = application;
  }

  /**
   * bind(boundAddress:port) + listen(backlog); a second call on the same port only updates the
   * backlog (spec §5.1). `boundAddress` 0 is the wildcard.
   */
  listen(port: number, backlog: number, boundAddress = 0): Listener {
    const state = this.state;
    let listener = state.listenerFor(port);
    const first = listener === undefined;
    if (listener === undefined) {
      listener = new Listener(state.listeners.length, port);
      listener.boundAddress = boundAddress >>> 0;
      state.listeners.push(listener);
    }
    listener.listen(backlog, state.sysctls.get('net.core.somaxconn'), state.sysctls.hot.maxSynBacklog, state.switches, first);
    return listener;
  }

  listenerFor(port: number): Listener | undefined {
    return this.state.listenerFor(port);
  }

  /**
   * accept(): the oldest child of the listener, or null. A child the peer already reset is
   * still returned (the application then sees it closed).
   */
  accept(listener: Listener): Connection | null {
    return listener.dequeueAccepted();
  }

  // ------------------------------------------------------------------ input

  /** One frame from the TUN. Returns the verdict of its last decision (for pcap comments). */
  receive(buf: Uint8Array, off: number, len: number, now: number): number {
    this.state.now = now;
    return ipReceive(this.state, this.segment, buf, off, len);
  }

  // ------------------------------------------------------------------ timers

  /** Earliest pending timer or application turn (virtual ms), Infinity if none. */
  nextTimerAt(): number {
    const state = this.state;
    const at = Math.min(state.requestTimers.peekTime(), state.timewaitTimers.peekTime(), state.connTimers.peekTime());
    return state.application === null ? at : Math.min(at, state.application.nextRunAt(state.now));
  }

  /** Runs every timer due at or before `now`, in time order, then the application's turn. */
  tick(now: number): void {
    const state = this.state;
    for (;;) {
      const requestAt = state.requestTimers.peekTime();
      const timewaitAt = state.timewaitTimers.peekTime();
      const connAt = state.connTimers.peekTime();
      const at = Math.min(requestAt, timewaitAt, connAt);
      if (at > now) break;
      state.now = Math.max(state.now, at);
      if (at === requestAt) requestTimerFired(state, this.timerFlow, state.requestTimers.pop());
      else if (at === timewaitAt) timewaitExpired(state, this.timerFlow, state.timewaitTimers.pop());
      else {
        const conn = state.connections.get(state.connTimers.pop());
        if (conn !== undefined) conn.onRetransmitTimer();
      }
    }
    state.now = Math.max(state.now, now);
    state.application?.run(state.now);
  }

  // ------------------------------------------------------------------ views for observers

  /** Live request slots (for `ss -a`). */
  *requestSlots(): Generator<number> {
    const requests = this.state.requests;
    for (let slot = 0; slot < requests.highWater; slot++) if (requests.isLive(slot)) yield slot;
  }

  requestExpiresAt(slot: number): number {
    return this.state.requestTimers.timeOf(slot);
  }

  *timewaitSlots(): Generator<number> {
    const timewait = this.state.timewait;
    for (let slot = 0; slot < timewait.highWater; slot++) if (timewait.inUse[slot] === 1) yield slot;
  }

  timewaitExpiresAt(slot: number): number {
    return this.state.timewaitTimers.timeOf(slot);
  }
}

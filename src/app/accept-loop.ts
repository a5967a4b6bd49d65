// The application's accept() loop on each listener: at once, at a rate, paused or never
// (`--accept-rate`, `syndrop app pause|resume|rate`). The stack only queues children and says
// when the process may run (ListenerApplication); how fast it accepts is the application's.

import type { Connection, ConnectionHandler } from '../stack/conn.js';
import type { Host, ListenerApplication } from '../stack/host.js';
import type { Listener } from '../stack/listener.js';
import { deferAcceptRetrans } from '../stack/defer-accept.js';

/** Accept behaviour of the application on one listener. */
export interface AcceptPolicy {
  /** accept() calls per second; Infinity = at once, 0 = never. */
  ratePerSecond: number;
  paused: boolean;
  handler: ConnectionHandler | null;
}

/** What the application sets on its socket before listen(). */
export interface ListenSocketOptions {
  /** bind(2) address; 0 or absent = INADDR_ANY. */
  boundAddress?: number;
  /** setsockopt(TCP_DEFER_ACCEPT) in seconds. */
  deferAcceptSeconds?: number;
}

export class AcceptLoop implements ListenerApplication {
  /** One policy per listener, by listener index. */
  readonly policies: AcceptPolicy[] = [];
  /** Token bucket per listener for a finite rate (at most one second's worth banked). */
  private readonly tokens: number[] = [];
  private lastRun = 0;

  constructor(private readonly host: Host) {
    host.attachApplication(this);
  }

  /**
   * socket(), the options the application sets (bind address, TCP_DEFER_ACCEPT seconds),
   * listen(2), then this application's accept behaviour on that listener.
   */
  listen(port: number, backlog: number, policy?: Partial<AcceptPolicy>, socket: ListenSocketOptions = {}): Listener {
    const listener = this.host.listen(port, backlog, socket.boundAddress ?? 0);
    if (socket.deferAcceptSeconds !== undefined) listener.deferAcceptRetrans = deferAcceptRetrans(socket.deferAcceptSeconds);
    Object.assign(this.policy(listener.index), policy ?? {});
    return listener;
  }

  /** The policy of a listener; a listener made without one accepts at once. */
  policy(index: number): AcceptPolicy {
    while (this.policies.length <= index) {
      this.policies.push({ ratePerSecond: Infinity, paused: false, handler: null });
      this.tokens.push(0);
    }
    return this.policies[index]!;
  }

  /**
   * The application has been waiting in accept() for a second or more: a full bucket, as a
   * live `syndrop run` has by the time its first client arrives. Offline runs start their
   * clock at the first packet or arrival and call this, so they decide as the live run did.
   */
  bankFullSecond(index: number): void {
    const policy = this.policy(index);
    this.tokens[index] = Math.max(1, policy.ratePerSecond);
  }

  nextRunAt(now: number): number {
    let at = Infinity;
    const listeners = this.host.listeners;
    for (let i = 0; i < listeners.length; i++) {
      const policy = this.policy(i);
      if (listeners[i]!.acceptQueueLength > 0 && !policy.paused && policy.ratePerSecond > 0) {
        at = Math.min(at, now + (policy.ratePerSecond === Infinity ? 0 : 1000 / policy.ratePerSecond));
      }
    }
    return at;
  }

  run(now: number): void {
    const elapsed = Math.max(0, now - this.lastRun);
    this.lastRun = now;
    const listeners = this.host.listeners;
    for (let i = 0; i < listeners.length; i++) {
      const listener = listeners[i]!;
      const policy = this.policy(i);
      if (policy.paused || policy.ratePerSecond <= 0) continue;
      if (policy.ratePerSecond === Infinity) {
        while (listener.acceptQueueLength > 0) this.acceptOne(listener, policy);
        continue;
      }
      let tokens = Math.min(this.tokens[i]! + (elapsed * policy.ratePerSecond) / 1000, Math.max(1, policy.ratePerSecond));
      while (tokens >= 1 && listener.acceptQueueLength > 0) {
        this.acceptOne(listener, policy);
        tokens -= 1;
      }
      this.tokens[i] = tokens;
    }
  }

  /** accept(), then the connection belongs to the handler (which sees a reset child closed). */
  private acceptOne(listener: Listener, policy: AcceptPolicy): Connection | null {
    const conn = this.host.accept(listener);
    if (conn === null) return null;
    const handler = policy.handler;
    if (conn.isClosed()) {
      conn.accepted = true;
      if (handler !== null) {
        handler.onAccepted(conn);
        handler.onClosed(conn, 'reset');
      }
      return conn;
    }
    if (handler !== null) conn.deliverAccepted(handler);
    else conn.accepted = true;
    return conn;
  }
}

import type { ProfileSwitches } from '../profiles/profile.js';
import type { Connection } from './conn.js';

/** A listening socket: its two queues and the per-listener state the kernel keeps. */
export class Listener {
  readonly index: number;
  readonly port: number;
  /** The address bind(2) gave it: 0 = INADDR_ANY (0.0.0.0), as most servers listen. */
  boundAddress = 0;
  /** listen()'s argument as given. */
  backlogRequested = 0;
  /** sk_max_ack_backlog = min(backlog, somaxconn), unsigned compare (spec §5.1). */
  maxAckBacklog = 0;
  /** 3.10 only: the SYN table holds 2^maxQlenLog requests, fixed at the first listen() (spec §5.2). */
  maxQlenLog = 0;
  /** SYN queue length and requests whose SYN-ACK has not timed out yet (spec §1.6). */
  qlen = 0;
  young = 0;
  /**
   * Established children waiting for accept(), FIFO. A child reset or closed by the peer
   * stays queued, as in Linux: accept() still returns it (then reads fail), and until
   * then it counts in sk_ack_backlog (ss Recv-Q).
   */
  private readonly acceptQueue: Connection[] = [];
  private acceptHead = 0;
  /** Once-per-listener flood warning flag (synflood_warned). */
  synfloodWarned = false;
  /** Last time a cookie was sent (tcp_synq_overflow's stamp), -Infinity = never. */
  lastOverflow = -Infinity;
  /** TCP_DEFER_ACCEPT as SYN-ACK retransmissions (rskq_defer_accept), 0 = off. */
  deferAcceptRetrans = 0;
  /** TCP_SYNCNT on the listener (icsk_syn_retries), 0 = use tcp_synack_retries. */
  synRetries = 0;
  /** sk_drops: every tcp_listendrop on this listener. */
  drops = 0;
  /** 3.10: when the 200 ms prune timer (re)started, i.e. when qlen went 0 → 1. */
  pruneTimerStart = 0;
  /** 3.10: clock_hand at the first run of the current series, and whether a series ran. */
  pruneHandBase = 0;
  pruneSeriesLive = false;
  /** 3.10: when qlen last fell to 0 (the series of runs stops at the next run). */
  qlenEmptySince = 0;
  /** 3.10: the prune run in progress (its time) and the threshold it computed (spec §4.2). */
  pruneRunAt = -1;
  pruneRunThresh = 0;

  constructor(index: number, port: number) {
    this.index = index;
    this.port = port;
  }

  /** listen(fd, backlog) (spec §5.1, §5.2). */
  listen(backlog: number, somaxconn: number, maxSynBacklog: number, switches: ProfileSwitches, first: boolean): void {
    this.backlogRequested = backlog;
    this.maxAckBacklog = backlog >>> 0 > somaxconn ? somaxconn : backlog;
    if (first && switches.synQueueSizing === 'pow2') {
      let n = Math.min(this.maxAckBacklog, maxSynBacklog);
      n = Math.max(n, 8);
      let size = 8;
      while (size < n + 1) size *= 2;
      this.maxQlenLog = Math.log2(size);
    }
  }

  /** The SYN queue's capacity as this kernel computes it. */
  synQueueCapacity(switches: ProfileSwitches): number {
    if (switches.synQueueSizing === 'pow2') return 2 ** this.maxQlenLog;
    return switches.synQueueFullCmp === '>' ? this.maxAckBacklog + 1 : this.maxAckBacklog;
  }

  /** reqsk_queue_is_full / inet_csk_reqsk_queue_is_full (spec §1.4). */
  synQueueFull(switches: ProfileSwitches): boolean {
    if (switches.synQueueSizing === 'pow2') return this.qlen >= 2 ** this.maxQlenLog;
    return switches.synQueueFullCmp === '>' ? this.qlen > this.maxAckBacklog : this.qlen >= this.maxAckBacklog;
  }

  /** sk_acceptq_is_full: strictly greater, so backlog + 1 children fit (spec §1.5). */
  acceptQueueFull(): boolean {
    return this.acceptQueueLength > this.maxAckBacklog;
  }

  get acceptQueueLength(): number {
    return this.acceptQueue.length - this.acceptHead;
  }

  enqueueAccepted(conn: Connection): void {
    this.acceptQueue.push(conn);
  }

  /** accept(): the oldest child, or null. */
  dequeueAccepted(): Connection | null {
    if (this.acceptHead === this.acceptQueue.length) return null;
    const conn = this.acceptQueue[this.acceptHead++]!;
    if (this.acceptHead > 1024 && this.acceptHead * 2 > this.acceptQueue.length) {
      this.acceptQueue.splice(0, this.acceptHead);
      this.acceptHead = 0;
    }
    return conn;
  }

  /** Ids of the children waiting for accept(), oldest first. */
  acceptedIds(): number[] {
    return this.acceptQueue.slice(this.acceptHead).map((conn) => conn.id);
  }
}

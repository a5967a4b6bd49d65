// tcp_metrics: what the host remembers per peer address (spec §2.1). The kernel's table is
// a fixed array of hash chains; a lookup that walks past TCP_METRICS_RECLAIM_DEPTH entries
// reuses the oldest entry of that chain instead of allocating, so memory stays bounded
// however many peers arrive. We keep the same shape.

import { ipv4ToString } from '../wire/addr.js';

export const TCP_METRICS_RECLAIM_DEPTH = 5;
/** 16384 slots on hosts with ≥ 512 MiB of RAM (tcp_net_metrics_init, spec §2.1, inferred). */
export const TCP_METRICS_HASH_LOG = 14;
/** An entry older than this is re-seeded from the route on lookup (tcpm_check_stamp). */
export const TCP_METRICS_TIMEOUT_MS = 60 * 60 * 1000;

export interface MetricsEntry {
  addr: number;
  /** tcpm_stamp: last refresh, ms of the virtual clock. */
  stamp: number;
  /** tcpm_ts / tcpm_ts_stamp: last TSval remembered and when (seconds). 0 = none. */
  ts: number;
  tsStamp: number;
  /** Smoothed RTT in ms; 0 = no RTT sample (the peer is not "proven"). */
  rtt: number;
}

export class TcpMetrics {
  private readonly buckets: MetricsEntry[][];
  private readonly hashLog: number;
  private entries = 0;

  constructor(hashLog = TCP_METRICS_HASH_LOG) {
    this.hashLog = hashLog;
    this.buckets = Array.from({ length: 1 << hashLog }, () => []);
  }

  get size(): number {
    return this.entries;
  }

  /** hash_32(): the golden-ratio multiply the kernel uses, top bits. */
  private bucketOf(addr: number): MetricsEntry[] {
    return this.buckets[Math.imul(addr, 0x61c88647) >>> (32 - this.hashLog)]!;
  }

  /** Lookup without create (tcp_peer_is_proven, tcp_tw_remember_stamp). */
  lookup(addr: number): MetricsEntry | undefined {
    const chain = this.bucketOf(addr);
    for (const entry of chain) if (entry.addr === addr) return entry;
    return undefined;
  }

  /** Lookup with create (tcp_get_metrics(..., true)): reclaims the oldest of a long chain. */
  getOrCreate(addr: number, now: number): MetricsEntry {
    const chain = this.bucketOf(addr);
    for (const entry of chain) {
      if (entry.addr === addr) {
        if (now > entry.stamp + TCP_METRICS_TIMEOUT_MS) {
          // tcpm_suck_dst re-seeds the route metrics; ts/ts_stamp survive (spec §2.1).
          entry.rtt = 0;
          entry.stamp = now;
        }
        return entry;
      }
    }
    if (chain.length > TCP_METRICS_RECLAIM_DEPTH) {
      let oldest = chain[0]!;
      for (const entry of chain) if (entry.stamp < oldest.stamp) oldest = entry;
      oldest.addr = addr;
      oldest.stamp = now;
      oldest.ts = 0;
      oldest.tsStamp = 0;
      oldest.rtt = 0;
      return oldest;
    }
    const entry: MetricsEntry = { addr, stamp: now, ts: 0, tsStamp: 0, rtt: 0 };
    chain.unshift(entry);
    this.entries++;
    return entry;
  }

  /** tcp_update_metrics: refresh the RTT and the stamp (never the timestamp). */
  updateRtt(addr: number, rttMs: number, now: number): void {
    const entry = this.getOrCreate(addr, now);
    entry.rtt = rttMs > 0 ? rttMs : 0.001;
    entry.stamp = now;
  }

  /**
   * tcp_remember_stamp (spec §2.2): store (ts, tsStamp) if not older than what is there,
   * or if what is there is stale (> 60 s) and not newer. Returns false when no entry exists.
   */
  rememberStamp(addr: number, tsRecent: number, tsRecentStampSec: number, nowSec: number, create: boolean, now: number): boolean {
    const entry = create ? this.getOrCreate(addr, now) : this.lookup(addr);
    if (entry === undefined) return false;
    // An entry with no stamp (tcpm_ts_stamp 0) is as stale as it gets (spec §2.2).
    const stale = entry.tsStamp === 0 || (nowSec - entry.tsStamp > 60 && entry.tsStamp <= tsRecentStampSec);
    if (((entry.ts - tsRecent) | 0) <= 0 || stale) {
      entry.ts = tsRecent >>> 0;
      entry.tsStamp = tsRecentStampSec;
    }
    return true;
  }

  /** Removes one peer (`syndrop metrics flush ADDR`) or all. */
  flush(addr?: number): number {
    let removed = 0;
    for (const chain of this.buckets) {
      for (let i = chain.length - 1; i >= 0; i--) {
        if (addr === undefined || chain[i]!.addr === addr) {
          chain.splice(i, 1);
          removed++;
        }
      }
    }
    this.entries -= removed;
    return removed;
  }

  /** Every entry's address, in no order and without a copy: the IPv6 peer sweep's walk. */
  forEachAddress(visit: (addr: number) => void): void {
    for (const chain of this.buckets) for (const entry of chain) visit(entry.addr);
  }

  /** All entries, for `syndrop metrics` (like `ip tcp_metrics show`). */
  list(): MetricsEntry[] {
    return this.buckets.flat().sort((a, b) => a.addr - b.addr);
  }

  /** `addressText` names the entry's address (an IPv6 key's address, for IPv6 peers). */
  describe(entry: MetricsEntry, now: number, addressText = ipv4ToString(entry.addr)): string {
    const parts = [addressText, `age ${((now - entry.stamp) / 1000).toFixed(3)}sec`];
    // iproute2 prints the remembered timestamp as `tw_ts TSVAL/AGEsec ago`.
    if (entry.tsStamp !== 0) parts.push(`tw_ts ${entry.ts >>> 0}/${Math.max(0, Math.floor(now / 1000) - entry.tsStamp)}sec ago`);
    if (entry.rtt > 0) parts.push(`rtt ${Math.round(entry.rtt * 1000)}us`);
    return parts.join(' ');
  }
}

// 3.10's inet_csk_reqsk_queue_prune walks only part of the SYN table per 200 ms run (spec
// §4.2): budget = 2 × (nr_table_entries / (TCP_TIMEOUT_INIT / TCP_SYNQ_INTERVAL)) hash
// buckets, starting at the listener's clock_hand, which moves on by that budget every run. A
// request whose timer is due is only handled when the run reaches its bucket, and which
// requests a pressured run drops follows the buckets it reaches: the measured 3.10.108 pruned 6
// of 20 half-open requests in a 32-slot table, scattered (§8c), not "the oldest".
// The bucket comes from a keyed hash of the peer's address and port (inet_synq_hash with its
// random hash_rnd); syndrop's key is the host's, so a seeded run is reproducible.

import { TCP_SYNQ_INTERVAL, TCP_TIMEOUT_INIT } from './constants.js';
import { hsiphash3 } from './hash.js';
import type { Listener } from './listener.js';
import type { KernelState } from './state.js';

/** Separates the SYN-table hash from the other uses of the same key. */
const SYNQ_HASH_DOMAIN = 0x53594e51;

/** nr_table_entries = 2^max_qlen_log. */
function tableSize(listener: Listener): number {
  return 1 << listener.maxQlenLog;
}

/** Buckets one run walks. */
export function pruneBudget(listener: Listener): number {
  return 2 * Math.floor(tableSize(listener) / (TCP_TIMEOUT_INIT / TCP_SYNQ_INTERVAL));
}

/** The request's syn_table bucket. */
export function synTableBucket(state: KernelState, listener: Listener, peerAddr: number, peerPort: number): number {
  return hsiphash3(state.keys.ts0, state.keys.ts1, peerAddr, peerPort, SYNQ_HASH_DOMAIN) & (tableSize(listener) - 1);
}

/** Index of the run at `time` in the listener's current series of runs (the first is 0). */
function runIndex(listener: Listener, time: number): number {
  return Math.round((time - (listener.pruneTimerStart + TCP_TIMEOUT_INIT)) / TCP_SYNQ_INTERVAL);
}

/** clock_hand when run `run` of the current series starts. */
function handAt(listener: Listener, run: number): number {
  return (listener.pruneHandBase + run * pruneBudget(listener)) & (tableSize(listener) - 1);
}

function scans(listener: Listener, run: number, bucket: number): boolean {
  const size = tableSize(listener);
  return ((bucket - handAt(listener, run) + size) & (size - 1)) < pruneBudget(listener);
}

/**
 * For a request timer due at run time `now`: the time of the first run, from this one on,
 * whose walk reaches `bucket` (now itself when this run reaches it).
 */
export function nextRunReaching(listener: Listener, bucket: number, now: number): number {
  const first = runIndex(listener, now);
  let run = first;
  while (!scans(listener, run, bucket)) run++;
  return now + (run - first) * TCP_SYNQ_INTERVAL;
}

/**
 * The listener's timer restarts (qlen 0 → 1): clock_hand keeps where the last series of runs
 * left it — each run while requests were queued moved it on by the budget.
 */
export function restartPruneSeries(listener: Listener, now: number): void {
  const lastRun = listener.qlenEmptySince;
  const firstRun = listener.pruneTimerStart + TCP_TIMEOUT_INIT;
  if (listener.pruneSeriesLive && lastRun >= firstRun) {
    const runs = Math.floor((lastRun - firstRun) / TCP_SYNQ_INTERVAL) + 1;
    listener.pruneHandBase = handAt(listener, runs);
  }
  listener.pruneTimerStart = now;
  listener.pruneSeriesLive = true;
}

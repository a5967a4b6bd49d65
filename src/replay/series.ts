// A time series of what the emulated listener did, in fixed buckets of virtual time: SYNs
// in, SYN-ACKs (and how many were cookies), handshakes completed, drops by reason, and the
// SYN and accept queue occupancy (the highest seen in the bucket and the value at its end).
// Plain data, so the report (issue 19) can draw it without knowing the stack.

import type { Listener } from '../stack/listener.js';
import { VERDICTS } from '../stack/verdict.js';

export interface SeriesBucket {
  /** Start of the bucket, virtual ms. */
  t: number;
  synsIn: number;
  synAcks: number;
  cookies: number;
  established: number;
  drops: Record<string, number>;
  synQueueMax: number;
  acceptQueueMax: number;
  synQueueEnd: number;
  acceptQueueEnd: number;
}

export interface Series {
  bucketMs: number;
  buckets: SeriesBucket[];
}

/** What each verdict adds to a bucket, as bits, read once from VERDICTS: `event` runs for every
 *  decision (two per SYN under a flood), and string compares there were a twentieth of it. */
const Adds = { SYN_ACK: 1, COOKIE: 2, ESTABLISHED: 4, DROP: 8 } as const;
const ADDS = Uint8Array.from(VERDICTS, (info) => {
  let adds = 0;
  if (info.action === 'synack' || info.action === 'cookie-synack') adds |= Adds.SYN_ACK;
  if (info.action === 'cookie-synack') adds |= Adds.COOKIE;
  if (info.name === 'REQ_ESTABLISHED' || info.name === 'COOKIE_ACCEPTED') adds |= Adds.ESTABLISHED;
  if (info.reason !== null && (info.action === 'drop' || info.action === 'rst')) adds |= Adds.DROP;
  return adds;
});

export class SeriesRecorder {
  readonly series: Series;
  #current: SeriesBucket;

  constructor(
    bucketMs: number,
    private readonly listener: Listener,
  ) {
    this.#current = emptyBucket(0);
    this.series = { bucketMs, buckets: [this.#current] };
  }

  /** The bucket holding virtual time `now` (empty buckets in between are kept: a gap is data). */
  #at(now: number): SeriesBucket {
    const bucketMs = this.series.bucketMs;
    while (now >= this.#current.t + bucketMs) {
      this.#current = emptyBucket(this.#current.t + bucketMs);
      this.#current.synQueueEnd = this.#current.synQueueMax = this.listener.qlen;
      this.#current.acceptQueueEnd = this.#current.acceptQueueMax = this.listener.acceptQueueLength;
      this.series.buckets.push(this.#current);
    }
    return this.#current;
  }

  synIn(now: number): void {
    this.#at(now).synsIn++;
  }

  event(time: number, verdict: number): void {
    const bucket = this.#at(time);
    const adds = ADDS[verdict]!;
    if ((adds & Adds.SYN_ACK) !== 0) bucket.synAcks++;
    if ((adds & Adds.COOKIE) !== 0) bucket.cookies++;
    if ((adds & Adds.ESTABLISHED) !== 0) bucket.established++;
    if ((adds & Adds.DROP) !== 0) {
      const reason = VERDICTS[verdict]!.reason!;
      bucket.drops[reason] = (bucket.drops[reason] ?? 0) + 1;
    }
  }

  /** Queue occupancy after an input or a timer at `now`. */
  sample(now: number): void {
    const bucket = this.#at(now);
    const synQueue = this.listener.qlen;
    const acceptQueue = this.listener.acceptQueueLength;
    bucket.synQueueEnd = synQueue;
    bucket.acceptQueueEnd = acceptQueue;
    if (synQueue > bucket.synQueueMax) bucket.synQueueMax = synQueue;
    if (acceptQueue > bucket.acceptQueueMax) bucket.acceptQueueMax = acceptQueue;
  }
}

function emptyBucket(t: number): SeriesBucket {
  return { t, synsIn: 0, synAcks: 0, cookies: 0, established: 0, drops: {}, synQueueMax: 0, acceptQueueMax: 0, synQueueEnd: 0, acceptQueueEnd: 0 };
}

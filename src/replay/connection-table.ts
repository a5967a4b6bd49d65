// The connections of a replay, in bounded memory whatever the capture holds. A 1 M-source
// spoofed flood is a million 4-tuples: keeping each one's record and row made a replay of it
// grow past a gigabyte. So:
// - every connection is followed while it is active (its sequence translation needs it), in
//   a table of at most `liveLimit` tracks; when it is full, the track whose client was silent
//   the longest is concluded early (its outcome is what it had so far) and counted as such;
// - a concluded connection is always counted in the tally (outcomes, divergence, latencies);
//   the first `detailLimit` connections (in the order of their first SYN) also keep their row.

import { isIpv6Key, type Ipv6Peers } from '../stack/peers6.js';
import { ipv4ToString, parseIpv6 } from '../wire/addr.js';
import { replayPeers6 } from './captured-segment.js';
import { OUTCOMES, diverged, emulatedConnectMs, emulatedOutcomeCode, newTrack, realConnectMs, realOutcomeCode, resetTrack, type ConnectionTrack, type Outcome } from './outcome.js';
import { TupleIndex } from './tuple-index.js';

/** Rows kept for `--json` and the table (the rest are counted): issue 17's memory bound. */
export const DETAIL_LIMIT = 10_000;
/** Connections followed at once; a ConnectionTrack is a few hundred bytes. */
export const LIVE_LIMIT = 50_000;

export interface ReplayConnection {
  client: string;
  real: Outcome;
  emulated: Outcome;
  diverged: boolean;
  /** Virtual ms (since the capture's first packet) of the first SYN; SYNs the client sent. */
  firstSynMs: number;
  syns: number;
  /** First SYN → handshake complete, ms (client retransmits included), null when it never was. */
  realConnectMs: number | null;
  emulatedConnectMs: number | null;
  /** The emulated kernel's decisions for this 4-tuple, first occurrence order. */
  emulatedVerdicts: string[];
  /** Client ACKs synthesized for it by --complete-handshakes. */
  synthesized: number;
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentiles over the values that exist. */
export function latency(values: Array<number | null>): LatencySummary {
  const tally = new LatencyTally();
  for (const value of values) if (value !== null) tally.add(value);
  return tally.summary();
}

const SMALL_MS = 4096;

/** Latencies as a histogram of distinct values: bounded by the capture's length in ms, not its connections. */
export class LatencyTally {
  /** Whole ms below SMALL_MS counted in an array (nearly all of them), the rest in the map. */
  readonly #small = new Float64Array(SMALL_MS);
  readonly #counts = new Map<number, number>();
  #count = 0;

  add(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value < SMALL_MS) this.#small[value]!++;
    else this.#counts.set(value, (this.#counts.get(value) ?? 0) + 1);
    this.#count++;
  }

  summary(): LatencySummary {
    for (let ms = 0; ms < SMALL_MS; ms++) {
      if (this.#small[ms] === 0) continue;
      this.#counts.set(ms, (this.#counts.get(ms) ?? 0) + this.#small[ms]!);
      this.#small[ms] = 0;
    }
    const values = [...this.#counts.keys()].sort((a, b) => a - b);
    const rank = (p: number): number | null => {
      if (this.#count === 0) return null;
      const wanted = Math.min(this.#count, Math.ceil((p / 100) * this.#count));
      let seen = 0;
      for (const value of values) if ((seen += this.#counts.get(value)!) >= wanted) return value;
      return values.at(-1)!;
    };
    return { count: this.#count, p50: rank(50), p99: rank(99), max: values.at(-1) ?? null };
  }
}

/** What every connection adds to the summary, detailed or not. */
export class ReplayTally {
  connections = 0;
  /** Per outcome code (outcome.ts OutcomeCode). */
  readonly realCounts = new Float64Array(OUTCOMES.length);
  readonly emulatedCounts = new Float64Array(OUTCOMES.length);
  diverged = 0;
  readonly realConnectMs = new LatencyTally();
  readonly emulatedConnectMs = new LatencyTally();

  get real(): Record<Outcome, number> {
    return outcomeRecord(this.realCounts);
  }

  get emulated(): Record<Outcome, number> {
    return outcomeRecord(this.emulatedCounts);
  }
}

function outcomeRecord(counts: Float64Array): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o, code) => [o, counts[code]!])) as Record<Outcome, number>;
}

export class ConnectionTable {
  readonly #live: TupleIndex<ConnectionTrack>;
  /** Concluded tracks, reused for new attempts (at most liveLimit + 1 tracks ever exist). */
  readonly #free: ConnectionTrack[] = [];
  /** The live tracks by client activity, a list through the tracks: quietest first, O(1) both ends. */
  #quietest: ConnectionTrack | null = null;
  #busiest: ConnectionTrack | null = null;
  readonly detailed: ReplayConnection[] = [];
  readonly tally = new ReplayTally();
  /** Connections concluded because the table was full, not because they ended. */
  concludedEarly = 0;
  #started = 0;
  #last: ConnectionTrack | null = null;

  constructor(
    readonly detailLimit = DETAIL_LIMIT,
    readonly liveLimit = LIVE_LIMIT,
    /** The table the tracks' IPv6 client keys come from (captured-segment.ts). */
    readonly peers6: Ipv6Peers = replayPeers6(),
  ) {
    this.#live = new TupleIndex(liveLimit + 1);
  }

  /**
   * The track of a client 4-tuple. The last one found is remembered: the emulated host's
   * decisions and replies for a segment come right after it, for the same 4-tuple.
   */
  get(address: number, port: number): ConnectionTrack | undefined {
    const last = this.#last;
    if (last !== null && last.clientAddr === address && last.clientPort === port) return last;
    const track = this.#live.get(address, port);
    if (track !== undefined) this.#last = track;
    return track;
  }

  /** Adds the client address of every followed connection to `into` (the keys the replay keeps). */
  noteClientAddresses(into: Set<number>): void {
    for (const track of this.#live.values()) into.add(track.clientAddr);
  }

  /** A track for a new attempt (a recycled one when there is one); `start` puts it in the table. */
  newTrack(clientAddr: number, clientPort: number, firstSynAt: number, synSeq: number): ConnectionTrack {
    const free = this.#free.pop();
    return free === undefined ? newTrack(clientAddr, clientPort, firstSynAt, synSeq) : resetTrack(free, clientAddr, clientPort, firstSynAt, synSeq);
  }

  /** A client segment of a followed connection: it becomes the busiest. */
  touch(track: ConnectionTrack): void {
    if (track === this.#busiest) return;
    this.#unlink(track);
    this.#append(track);
  }

  /** A new attempt on its 4-tuple (a SYN with a new ISN ends the previous one). */
  start(track: ConnectionTrack): void {
    const previous = this.#live.get(track.clientAddr, track.clientPort);
    if (previous !== undefined) this.#remove(previous);
    else if (this.#live.size >= this.liveLimit) {
      this.#remove(this.#quietest!);
      this.concludedEarly++;
    }
    track.detailed = this.#started++ < this.detailLimit;
    this.#live.set(track.clientAddr, track.clientPort, track);
    this.#append(track);
  }

  #remove(track: ConnectionTrack): void {
    if (track === this.#last) this.#last = null;
    this.#live.delete(track.clientAddr, track.clientPort);
    this.#unlink(track);
    this.#conclude(track);
    this.#free.push(track);
  }

  #append(track: ConnectionTrack): void {
    track.quieter = this.#busiest;
    track.busier = null;
    if (this.#busiest === null) this.#quietest = track;
    else this.#busiest.busier = track;
    this.#busiest = track;
  }

  #unlink(track: ConnectionTrack): void {
    if (track.quieter === null) this.#quietest = track.busier;
    else track.quieter.busier = track.busier;
    if (track.busier === null) this.#busiest = track.quieter;
    else track.busier.quieter = track.quieter;
    track.quieter = track.busier = null;
  }

  /** Concludes every connection still followed; the detailed rows in first-SYN order. */
  finish(): ReplayConnection[] {
    for (const track of this.#live.values()) this.#conclude(track);
    this.#live.clear();
    this.#last = null;
    this.#quietest = this.#busiest = null;
    // Each row's client as a sort key once, not parsed again in every comparison.
    const keyed = this.detailed.map((row) => ({ row, client: clientNumber(row.client), client6: clientText6(row.client) }));
    keyed.sort((a, b) => a.row.firstSynMs - b.row.firstSynMs || a.client - b.client || (a.client6 < b.client6 ? -1 : a.client6 > b.client6 ? 1 : 0));
    return keyed.map((k) => k.row);
  }

  /** IPv4 as ADDR:PORT, IPv6 as [ADDR]:PORT (RFC 5952 §6), as `ss` prints them. */
  #clientText(address: number, port: number): string {
    if (!isIpv6Key(address)) return `${ipv4ToString(address)}:${port}`;
    return `[${this.peers6.addressText(address)}]:${port}`;
  }

  #conclude(track: ConnectionTrack): void {
    const tally = this.tally;
    const real = realOutcomeCode(track);
    const emulated = emulatedOutcomeCode(track);
    const isDiverged = diverged(track, real, emulated);
    const realMs = realConnectMs(track);
    const emulatedMs = emulatedConnectMs(track);
    tally.connections++;
    tally.realCounts[real]++;
    tally.emulatedCounts[emulated]++;
    if (isDiverged) tally.diverged++;
    if (realMs !== null) tally.realConnectMs.add(realMs);
    if (emulatedMs !== null) tally.emulatedConnectMs.add(emulatedMs);
    if (!track.detailed) return;
    this.detailed.push({
      client: this.#clientText(track.clientAddr, track.clientPort),
      real: OUTCOMES[real]!,
      emulated: OUTCOMES[emulated]!,
      diverged: isDiverged,
      firstSynMs: track.firstSynAt,
      syns: track.syns,
      realConnectMs: realMs,
      emulatedConnectMs: emulatedMs,
      emulatedVerdicts: track.emulated.verdicts,
      synthesized: track.synthesized,
    });
  }
}

/** ADDR:PORT as one number, address then port (the order the replay has always listed them in); every IPv6 client after. */
function clientNumber(client: string): number {
  if (client.startsWith('[')) return IPV6_AFTER;
  const [address, port] = client.split(':') as [string, string];
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) * 65536 + Number(port);
}

/** Past every IPv4 ADDR:PORT number (2^48). */
const IPV6_AFTER = 2 ** 48;

/** [ADDR]:PORT as 32 hex digits and a 5-digit port, so text order is address then port order; '' for IPv4. */
function clientText6(client: string): string {
  if (!client.startsWith('[')) return '';
  const close = client.indexOf(']');
  const words = parseIpv6(client.slice(1, close))!;
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('') + client.slice(close + 2).padStart(5, '0');
}

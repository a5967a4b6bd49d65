// The workload `syndrop simulate` plays in virtual time: who arrives when, how far away
// they are, and how their kernel retries a SYN nobody answers.

import { usageError } from '../errors.js';

export interface Workload {
  /** Legitimate connection attempts per second (first SYNs). */
  synRate: number;
  /** Stop after this many clients even if the duration has not passed (unset: no limit). */
  maxClients: number;
  /** Poisson (exponential gaps) or evenly spaced arrivals. */
  arrivals: 'poisson' | 'uniform';
  /** Round-trip time per client, ms: drawn uniformly from [min, max]. */
  rttMinMs: number;
  rttMaxMs: number;
  /** Client kernel: when its SYN retransmits go out and when it gives up (ms after the first SYN). */
  clientKernel: string;
  synRetries: number;
  /** Spoofed SYNs per second (random sources, never answered), Poisson. */
  floodRate: number;
  /** Arrivals and flood run for this long; clients still trying then are followed to the end. */
  durationMs: number;
  /** Clients behind NAT (--nat); absent or null: every client its own host. */
  nat?: NatGroups | null;
}

/**
 * `--nat G:H`: G NAT addresses, H client hosts behind each. Each host keeps its own timestamp
 * clock (a random base, 1 tick per ms; 4.11+ clients offset it per address pair, which behind
 * one NAT is per host), so connections from one address carry clocks that do not agree: what
 * per-host PAWS (tcp_tw_recycle=1, ≤ 4.11) trips on (spec §2.3).
 */
export interface NatGroups {
  groups: number;
  hosts: number;
}

/** Source ports a NAT hands out per address, from FIRST_NAT_PORT, in turn. */
export const NAT_PORTS = 50_000;

/** `--nat 4` (one address, 4 hosts) or `--nat 2:4` (2 addresses, 4 hosts behind each). */
export function parseNat(text: string): NatGroups {
  const match = /^(?:(\d+):)?(\d+)$/.exec(text.trim());
  const groups = match === null ? NaN : match[1] === undefined ? 1 : Number(match[1]);
  const hosts = match === null ? NaN : Number(match[2]);
  if (!(groups >= 1 && hosts >= 1 && groups <= 65_536 && hosts <= 1_000_000)) throw usageError(`--nat ${text}: expected HOSTS or ADDRESSES:HOSTS, e.g. 4 or 2:4 (at least 1 each)`);
  return { groups, hosts };
}

/** TCP_TIMEOUT_INIT and TCP_RTO_MAX: the SYN's first RTO and the backoff's ceiling, ms. */
const SYN_RTO_MS = 1000;
const RTO_MAX_MS = 120_000;

/**
 * The client's retransmit timer in SYN_SENT, fire by fire (tcp_retransmit_timer and
 * tcp_write_timeout, spec §1.10). At each fire the client gives up when the time since its
 * first SYN has reached the boundary of `retries` exponential backoffs (retransmits_timed_out
 * with tcp_model_timeout: (2^(retries+1) − 1) s, then 120 s per retry past the 120 s
 * ceiling), or, from 6.5, when it has retransmitted retries + tcp_syn_linear_timeouts times;
 * otherwise it retransmits. Its RTO doubles after each fire (up to 120 s), except, from 6.5,
 * while it has fired no more than tcp_syn_linear_timeouts times.
 *
 * Measured here on 6.18 with TCP_SYNCNT against a black hole (the client-syn-schedule lab test):
 * retries 1 → SYNs at 0, 1, 2 s, gives up at 3 s; 2 → 0…5 s every second, gives up at 7 s;
 * 3 → …, 5, 7, 11 s, gives up at 19 s; 4 → …, 11, 19 s, gives up at 35 s. So five 1 s gaps,
 * not four, and the give-up comes by time: the spec's "0, 1, 2, 3, 4, 8 s" is not what 6.18 does.
 */
function retransmitTimer(retries: number, linearTimeouts: number): number[] {
  const linearThreshold = Math.floor(Math.log2(RTO_MAX_MS / SYN_RTO_MS));
  const boundaryMs =
    retries <= linearThreshold
      ? ((2 << retries) - 1) * SYN_RTO_MS
      : ((2 << linearThreshold) - 1) * SYN_RTO_MS + (retries - linearThreshold) * RTO_MAX_MS;
  const maxRetransmits = linearTimeouts > 0 ? retries + linearTimeouts : Infinity;
  const times = [0];
  let at = 0;
  let rto = SYN_RTO_MS;
  for (let fired = 1; ; fired++) {
    at += rto;
    const retransmitted = times.length - 1;
    if (retransmitted >= maxRetransmits || at >= boundaryMs) break;
    times.push(at);
    if (fired > linearTimeouts) rto = Math.min(rto * 2, RTO_MAX_MS);
  }
  times.push(at);
  return times;
}

/** tcp_syn_linear_timeouts' default from 6.5 (0: the feature does not exist before). */
const SYN_LINEAR_TIMEOUTS = 4;

/** `--client-kernel 5.15` → major 5, minor 15, sublevel 0 (`6.x`: the newest 6; `4.10.17`: sublevel 17). */
function clientVersion(clientKernel: string): { major: number; minor: number; sublevel: number } {
  const match = /^(\d+)\.(\d+|x)(?:\.(\d+))?/.exec(clientKernel.trim().toLowerCase());
  if (match === null) throw usageError(`--client-kernel ${clientKernel}: expected a version like 5.15 or 6.8`);
  return { major: Number(match[1]), minor: match[2] === 'x' ? Infinity : Number(match[2]), sublevel: Number(match[3] ?? 0) };
}

/** The client's SYN send times relative to its first SYN; the last entry is when it gives up. */
export function synSchedule(clientKernel: string, retries: number): number[] {
  const { major, minor } = clientVersion(clientKernel);
  const linear = major > 6 || (major === 6 && minor >= 5);
  return retransmitTimer(retries, linear ? SYN_LINEAR_TIMEOUTS : 0);
}

/**
 * Whether the client kernel offsets each connection's timestamp clock by its own random value
 * (spec §2.5): 4.10 did (per 4-tuple), so a host's connections no longer show one rising clock
 * and a server with tcp_tw_recycle=1 drops them even from a lone host. Before 4.10 every
 * connection shows the host's clock; from 4.11, and in the 4.10.17 stable tree, the offset is
 * per address pair, the same for every connection to one server, so the host's clock still
 * shows through. The spec reads 4.10.0/4.10.1 and 4.10.17; the sublevels between count as 4.10.
 */
export function clientClockPerConnection(clientKernel: string): boolean {
  const { major, minor, sublevel } = clientVersion(clientKernel);
  return major === 4 && minor === 10 && sublevel < 17;
}

/** `--rtt 20` (every client) or `--rtt 5-80` (uniform per client), ms. */
export function parseRtt(text: string): { min: number; max: number } {
  const match = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (match === null) throw usageError(`--rtt ${text}: expected MS or MIN-MAX, e.g. 20 or 5-80`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw usageError(`--rtt ${text}: the maximum is below the minimum`);
  return { min, max };
}

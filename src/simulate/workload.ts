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
}

/** Linux clients before 6.5: RTO 1 s, doubling (spec §1.10: SYNs at 0, 1, 3, 7, 15, 31, 63 s; gives up at ~127 s). */
function exponentialSchedule(retries: number): number[] {
  const times = [0];
  let gap = 1000;
  for (let i = 0; i <= retries; i++) {
    times.push(times.at(-1)! + gap);
    gap *= 2;
  }
  return times;
}

/**
 * 6.5+ clients: tcp_syn_linear_timeouts = 4, the first 4 retransmits 1 s apart, then the
 * backoff doubles (spec §1.10, measured on 6.18: SYNs at 0, 1, 2, 3, 4, 8 s …; later gaps
 * keep doubling, inferred).
 */
function linearThenExponentialSchedule(retries: number): number[] {
  const times = [0];
  let gap = 1000;
  for (let i = 0; i <= retries; i++) {
    if (i >= 4) gap = i === 4 ? 4000 : gap * 2;
    times.push(times.at(-1)! + gap);
  }
  return times;
}

/** The client's SYN send times relative to its first SYN; the last entry is when it gives up. */
export function synSchedule(clientKernel: string, retries: number): number[] {
  const match = /^(\d+)\.(\d+|x)/.exec(clientKernel.trim().toLowerCase());
  if (match === null) throw usageError(`--client-kernel ${clientKernel}: expected a version like 5.15 or 6.8`);
  const major = Number(match[1]);
  const minor = match[2] === 'x' ? Infinity : Number(match[2]);
  const linear = major > 6 || (major === 6 && minor >= 5);
  return linear ? linearThenExponentialSchedule(retries) : exponentialSchedule(retries);
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

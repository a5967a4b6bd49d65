// `ip tcp_metrics` output (iproute2 ip/tcp_metrics.c): one line per peer,
//   ADDR age 12.345sec [tw_ts TSVAL/AGEsec ago] [rtt 4817us] [rttvar …] [cwnd 12] … [source ADDR]
// tw_ts is the per-host timestamp tcp_tw_recycle remembers (spec §2.1, §2.2): present only
// on kernels ≤ 4.11 that wrote one.

import type { Parsed } from './parse-counters.js';

export interface TcpMetricEntry {
  address: string;
  ageSeconds: number | null;
  /** Remembered peer TSval and how many seconds ago it was taken (tw_recycle's PAWS state). */
  twTsval: number | null;
  twTsAgeSeconds: number | null;
  rttUs: number | null;
  source: string | null;
}

export function parseTcpMetrics(text: string): Parsed<TcpMetricEntry[]> {
  const value: TcpMetricEntry[] = [];
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const address = /^([0-9a-fA-F:.]+)(?:\s|$)/.exec(line)?.[1];
    if (address === undefined || !/[.:]/.test(address)) {
      malformed += 1;
      continue;
    }
    const age = /\sage (\d+(?:\.\d+)?)sec/.exec(line);
    const tw = /\stw_ts (\d+)\/(-?\d+)sec ago/.exec(line);
    const rtt = /\srtt (\d+)(us|ms)/.exec(line);
    const source = /\ssource (\S+)/.exec(line);
    value.push({
      address,
      ageSeconds: age ? Number(age[1]) : null,
      twTsval: tw ? Number(tw[1]) : null,
      twTsAgeSeconds: tw ? Number(tw[2]) : null,
      rttUs: rtt ? Number(rtt[1]) * (rtt[2] === 'ms' ? 1000 : 1) : null,
      source: source ? source[1]! : null,
    });
  }
  return { value, malformed };
}

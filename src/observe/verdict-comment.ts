// The packet comment a capture carries for a decision that dropped or reset a segment:
// what `run --pcap` and `replay --out` write, so a Wireshark filter on the reason works on
// both (`frame.comment contains "TCP_REQQFULLDROP"`).

import { COUNTERS } from '../stack/mib.js';
import { VERDICTS } from '../stack/verdict.js';

/** The comment for `verdict` on kernel `profileName`, or undefined when it neither dropped nor reset. */
export function verdictComment(profileName: string, verdict: number): string | undefined {
  const info = VERDICTS[verdict]!;
  if (info.reason === null || (info.action !== 'drop' && info.action !== 'rst')) return undefined;
  const counters = info.counters.map((c) => COUNTERS[c]!.name).join(' ') || 'no counter';
  return `syndrop ${profileName}: ${info.reason} — ${info.text} (${info.kernelFunction}, spec ${info.spec}; ${counters})`;
}

// Which decisions feed which line of the report. A decision is counted by its verdict name, so
// events (exact times) and sampled verdict totals (when the ring overflowed) give the same series.

import { VERDICTS } from '../stack/verdict.js';

export const TRAFFIC_SERIES = ['SYNs in', 'SYN-ACKs out (first)', 'SYN-ACKs retransmitted', 'cookies sent', 'cookies validated'] as const;
export type TrafficSeries = (typeof TRAFFIC_SERIES)[number];

/** The decision taken about a received SYN without ACK: exactly one per SYN (notes excluded). */
const SYN_DECISIONS = [
  'SYN_QUEUED',
  'SYN_COOKIE',
  'SYN_COOKIE_LISTENDROP',
  'DROP_REQQ_FULL',
  'DROP_ACCEPTQ_FULL',
  'DROP_ACCEPTQ_FULL_YOUNG',
  'DROP_PAWS_PASSIVE',
  'DROP_UNPROVEN_PEER',
  'DROP_BROADCAST',
  'REQ_SYN_RETRANSMIT',
  'REQ_SYN_RETRANSMIT_310',
  'REQ_SYN_RESET',
];

const COOKIE_SENT = ['SYN_COOKIE', 'SYN_COOKIE_LISTENDROP'];
/** A valid cookie came back (TcpExtSyncookiesRecv), whatever happened to the connection next. */
const COOKIE_VALIDATED = ['COOKIE_ACCEPTED', 'COOKIE_ACCEPTQ_FULL', 'COOKIE_OPTIONS_BAD'];
/** inet_rtx_syn_ack from a retransmitted SYN (§3.1 R2) or the request timer (§4.1). */
const SYNACK_RETRANSMIT = ['REQ_SYN_RETRANSMIT', 'REQ_SYN_RETRANSMIT_310', 'REQ_TIMEOUT_RETRANSMIT', 'REQ_TIMEOUT_RETRANSMIT_310'];

export interface VerdictClass {
  /** Traffic lines this decision adds one to. */
  traffic: TrafficSeries[];
  /** Drop reason when the packet was dropped or reset (the stacked drop chart), else null. */
  dropReason: string | null;
  /** Per-client lane mark, null for decisions a client does not see. */
  lane: LaneMark[];
}

export const LANE_MARKS = ['SYN in', 'SYN-ACK out', 'established', 'dropped', 'reset'] as const;
export type LaneMark = (typeof LANE_MARKS)[number];

function classOf(name: string, action: string, reason: string | null): VerdictClass {
  const traffic: TrafficSeries[] = [];
  if (SYN_DECISIONS.includes(name)) traffic.push('SYNs in');
  if (SYNACK_RETRANSMIT.includes(name)) traffic.push('SYN-ACKs retransmitted');
  else if (action === 'synack' || action === 'cookie-synack') traffic.push('SYN-ACKs out (first)');
  if (COOKIE_SENT.includes(name)) traffic.push('cookies sent');
  if (COOKIE_VALIDATED.includes(name)) traffic.push('cookies validated');
  // The same rule as `syndrop stats` drops by reason (observe/snapshot.ts dropsByReason).
  const dropReason = reason !== null && (action === 'drop' || action === 'rst') ? reason : null;
  const lane: LaneMark[] = [];
  if (SYN_DECISIONS.includes(name)) lane.push('SYN in');
  if (action === 'synack' || action === 'cookie-synack') lane.push('SYN-ACK out');
  if (action === 'accept') lane.push('established');
  if (dropReason !== null) lane.push(action === 'rst' ? 'reset' : 'dropped');
  return { traffic, dropReason, lane };
}

const CLASSES = new Map(VERDICTS.map((v) => [v.name, classOf(v.name, v.action, v.reason)]));
const UNKNOWN: VerdictClass = { traffic: [], dropReason: null, lane: [] };

/** A verdict name from a recording; names this build does not know count nowhere. */
export function classifyVerdict(name: string): VerdictClass {
  return CLASSES.get(name) ?? UNKNOWN;
}

// Counters under the kernel's nstat names (spec §6), kept in one Float64Array indexed by
// constant so the hot path bumps a number, never allocates. Float64 rather than Uint32:
// a flood passes 2^32 in hours, and doubles stay exact far past that.

import type { CounterPresence } from '../profiles/counter-presence.js';
import { WireError } from '../wire/wire-error.js';

export type { CounterPresence };

export interface CounterInfo {
  /** nstat name, e.g. TcpExtListenOverflows. */
  readonly name: string;
  /** Kernel enum, e.g. LINUX_MIB_LISTENOVERFLOWS; syndrop's own counters have none. */
  readonly kernelEnum: string | null;
  /** Where `netstat -s` prints it: its section header. */
  readonly netstatSection: 'Ip' | 'Icmp' | 'Ip6' | 'Icmp6' | 'Tcp' | 'TcpExt' | 'Syndrop';
  /**
   * net-tools 2.10 phrase with %u for the value; null = printed as `    Name: N`
   * (net-tools prints counters missing from its table that way).
   */
  readonly netstatPhrase: string | null;
  /** What bumps it, in the kernel's words: shown by --prom HELP and `stats --explain`. */
  readonly help: string;
  /** Present on every kernel unless this says otherwise. */
  readonly presentWhen?: keyof CounterPresence;
  /** A gauge (current value), not a monotonic counter. */
  readonly gauge?: boolean;
}

function counter(
  name: string,
  kernelEnum: string | null,
  netstatSection: CounterInfo['netstatSection'],
  netstatPhrase: string | null,
  help: string,
  extra: Partial<Pick<CounterInfo, 'presentWhen' | 'gauge'>> = {},
): CounterInfo {
  return { name, kernelEnum, netstatSection, netstatPhrase, help, ...extra };
}

/** The catalogue. Order = index = the Counter constant below; append only. */
export const COUNTERS: readonly CounterInfo[] = [
  // --- /proc/net/snmp Ip ---
  counter('IpInReceives', 'IPSTATS_MIB_INPKTS', 'Ip', '%u total packets received', 'IPv4 frames read from the TUN device'),
  counter('IpInHdrErrors', 'IPSTATS_MIB_INHDRERRORS', 'Ip', '%u with invalid headers', 'IPv4 header malformed (version, IHL, length, checksum)'),
  counter('IpInAddrErrors', 'IPSTATS_MIB_INADDRERRORS', 'Ip', '%u with invalid addresses', 'destination is not the emulated host'),
  counter('IpInUnknownProtos', 'IPSTATS_MIB_INUNKNOWNPROTOS', 'Ip', '%u with unknown protocol', 'neither TCP nor ICMP'),
  counter('IpInDelivers', 'IPSTATS_MIB_INDELIVERS', 'Ip', '%u incoming packets delivered', 'handed to TCP or ICMP'),
  counter('IpOutRequests', 'IPSTATS_MIB_OUTREQUESTS', 'Ip', '%u requests sent out', 'IPv4 frames written to the TUN device'),
  counter('IpReasmFails', 'IPSTATS_MIB_REASMFAILS', 'Ip', '%u packet reassemblies failed', 'fragments: syndrop does not reassemble, it drops them'),
  // --- Icmp ---
  counter('IcmpInMsgs', 'ICMP_MIB_INMSGS', 'Icmp', '%u ICMP messages received', 'ICMP messages to the emulated host'),
  counter('IcmpInErrors', 'ICMP_MIB_INERRORS', 'Icmp', '%u input ICMP message failed', 'ICMP message malformed or bad checksum'),
  counter('IcmpInEchos', 'ICMP_MIB_INECHOS', 'Icmp', 'echo requests: %u', 'echo requests received'),
  counter('IcmpOutMsgs', 'ICMP_MIB_OUTMSGS', 'Icmp', '%u ICMP messages sent', 'ICMP messages sent'),
  counter('IcmpOutEchoReps', 'ICMP_MIB_OUTECHOREPS', 'Icmp', 'echo replies: %u', 'echo replies sent'),
  // --- /proc/net/snmp Tcp ---
  counter('TcpActiveOpens', 'TCP_MIB_ACTIVEOPENS', 'Tcp', '%u active connection openings', 'connections this host opened (none: syndrop only listens)'),
  counter('TcpPassiveOpens', 'TCP_MIB_PASSIVEOPENS', 'Tcp', '%u passive connection openings', 'child socket created from a request or a cookie (tcp_create_openreq_child)'),
  counter('TcpAttemptFails', 'TCP_MIB_ATTEMPTFAILS', 'Tcp', '%u failed connection attempts', 'RST or SYN received in SYN_RECV (tcp_check_req)'),
  counter('TcpEstabResets', 'TCP_MIB_ESTABRESETS', 'Tcp', '%u connection resets received', 'RST received on an established connection'),
  counter('TcpCurrEstab', 'TCP_MIB_CURRESTAB', 'Tcp', '%u connections established', 'connections currently ESTABLISHED or CLOSE_WAIT', { gauge: true }),
  counter('TcpInSegs', 'TCP_MIB_INSEGS', 'Tcp', '%u segments received', 'TCP segments received with a valid header and checksum'),
  counter('TcpOutSegs', 'TCP_MIB_OUTSEGS', 'Tcp', '%u segments sent out', 'TCP segments sent, retransmissions excluded'),
  counter('TcpRetransSegs', 'TCP_MIB_RETRANSSEGS', 'Tcp', '%u segments retransmitted', 'retransmitted segments, SYN-ACKs included'),
  counter('TcpInErrs', 'TCP_MIB_INERRS', 'Tcp', '%u bad segments received', 'TCP segments with a bad header or checksum'),
  counter('TcpOutRsts', 'TCP_MIB_OUTRSTS', 'Tcp', '%u resets sent', 'RSTs sent (tcp_v4_send_reset and aborts)'),
  counter('TcpInCsumErrors', 'TCP_MIB_CSUMERRORS', 'Tcp', null, 'TCP segments with a bad checksum'),
  // --- /proc/net/netstat TcpExt: the listen path (spec §6) ---
  counter('TcpExtSyncookiesSent', 'LINUX_MIB_SYNCOOKIESSENT', 'TcpExt', '%u SYN cookies sent', 'each SYN-ACK whose ISN is a syncookie (cookie_v4_init_sequence)'),
  counter('TcpExtSyncookiesRecv', 'LINUX_MIB_SYNCOOKIESRECV', 'TcpExt', '%u SYN cookies received', 'an ACK that validated as a syncookie (cookie_v4_check)'),
  counter('TcpExtSyncookiesFailed', 'LINUX_MIB_SYNCOOKIESFAILED', 'TcpExt', '%u invalid SYN cookies received', 'an ACK that failed cookie validation (3.10: also when no recent overflow)'),
  counter('TcpExtEmbryonicRsts', 'LINUX_MIB_EMBRYONICRSTS', 'TcpExt', '%u resets received for embryonic SYN_RECV sockets', 'request sock reset: RST/SYN in SYN_RECV, or tcp_abort_on_overflow'),
  counter('TcpExtTW', 'LINUX_MIB_TIMEWAITED', 'TcpExt', '%u TCP sockets finished time wait in fast timer', '3.10: TIME_WAIT ended by the fast (recycle) timer; 6.x: +1 on entering TIME_WAIT'),
  counter('TcpExtTWRecycled', 'LINUX_MIB_TIMEWAITRECYCLED', 'TcpExt', '%u time wait sockets recycled by time stamp', 'TIME_WAIT 4-tuple reused by an outgoing connect (never on the listen path)'),
  // net-tools 2.10 has a phrase for TWKilled and TCPTimeouts but its unsorted table makes
  // bsearch miss them: real `netstat -s` prints `TWKilled: N` / `TCPTimeouts: N`.
  counter('TcpExtTWKilled', 'LINUX_MIB_TIMEWAITKILLED', 'TcpExt', null, 'TIME_WAIT ended by the slow timer, or killed by a new SYN'),
  counter('TcpExtPAWSPassive', 'LINUX_MIB_PAWSPASSIVEREJECTED', 'TcpExt', '%u passive connections rejected because of time stamp', 'SYN rejected by the per-host PAWS check of tcp_tw_recycle (tcp_peer_is_proven)', { presentWhen: 'hasPawsPassive' }),
  counter('TcpExtPAWSActive', 'LINUX_MIB_PAWSACTIVEREJECTED', 'TcpExt', '%u active connections rejected because of time stamp', 'client side only'),
  counter('TcpExtPAWSEstab', 'LINUX_MIB_PAWSESTABREJECTED', 'TcpExt', '%u packets rejected in established connections because of timestamp', 'PAWS failure in SYN_RECV, ESTABLISHED or (before 6.16) TIME_WAIT'),
  counter('TcpExtTSEcrRejected', 'LINUX_MIB_TSECRREJECTED', 'TcpExt', null, 'third ACK whose TSecr echoes none of our SYN-ACK TSvals (6.15+)', { presentWhen: 'hasTsecrRejected' }),
  counter('TcpExtPAWSTimewait', 'LINUX_MIB_PAWS_TW_REJECTED', 'TcpExt', null, 'PAWS failure of a segment hitting TIME_WAIT (6.16+)', { presentWhen: 'hasPawsTimewait' }),
  counter('TcpExtListenOverflows', 'LINUX_MIB_LISTENOVERFLOWS', 'TcpExt', '%u times the listen queue of a socket overflowed', 'accept queue full: on a SYN (the version\'s rule) or on the third ACK / cookie ACK'),
  counter('TcpExtListenDrops', 'LINUX_MIB_LISTENDROPS', 'TcpExt', '%u SYNs to LISTEN sockets dropped', 'every drop in conn_request and every syn_recv_sock failure (tcp_listendrop)'),
  counter('TcpExtTCPReqQFullDoCookies', 'LINUX_MIB_TCPREQQFULLDOCOOKIES', 'TcpExt', null, 'SYN queue full (or tcp_syncookies=2): answered with a cookie (tcp_syn_flood_action)'),
  counter('TcpExtTCPReqQFullDrop', 'LINUX_MIB_TCPREQQFULLDROP', 'TcpExt', null, 'SYN queue full and syncookies off (tcp_syn_flood_action)'),
  counter('TcpExtTCPTimeouts', 'LINUX_MIB_TCPTIMEOUTS', 'TcpExt', null, 'each SYN-ACK timer expiry, the final one included (tcp_syn_ack_timeout)'),
  counter('TcpExtTCPSynRetrans', 'LINUX_MIB_TCPSYNRETRANS', 'TcpExt', null, 'SYN-ACK retransmissions (4.x+)', { presentWhen: 'hasSynRetransCounters' }),
  counter('TcpExtTCPACKSkippedSynRecv', 'LINUX_MIB_TCPACKSKIPPEDSYNRECV', 'TcpExt', null, 'duplicate SYN for a pending request not answered: rate limit (tcp_oow_rate_limited)', { presentWhen: 'hasSynRetransCounters' }),
  counter('TcpExtTCPACKSkippedTimeWait', 'LINUX_MIB_TCPACKSKIPPEDTIMEWAIT', 'TcpExt', null, 'segment to TIME_WAIT not answered: rate limit', { presentWhen: 'hasSynRetransCounters' }),
  counter('TcpExtTCPChallengeACK', 'LINUX_MIB_TCPCHALLENGEACK', 'TcpExt', null, 'challenge ACK sent for an in-window RST with the wrong sequence (RFC 5961)'),
  counter('TcpExtTCPDeferAcceptDrop', 'LINUX_MIB_TCPDEFERACCEPTDROP', 'TcpExt', null, 'bare third ACK dropped under TCP_DEFER_ACCEPT'),
  counter('TcpExtTCPTimeWaitOverflow', 'LINUX_MIB_TCPTIMEWAITOVERFLOW', 'TcpExt', null, 'TIME_WAIT bucket not created: tcp_max_tw_buckets reached'),
  counter('TcpExtTCPAbortOnData', 'LINUX_MIB_TCPABORTONDATA', 'TcpExt', '%u connections reset due to unexpected data', 'data received after the application closed'),
  counter('TcpExtTCPAbortOnTimeout', 'LINUX_MIB_TCPABORTONTIMEOUT', 'TcpExt', '%u connections aborted due to timeout', 'connection given up after too many retransmissions'),
  // --- syndrop's own: every frame read is either accepted or rejected for one reason ---
  counter('SyndropRxFrames', null, 'Syndrop', null, 'frames read from the TUN device'),
  counter('SyndropRxAccepted', null, 'Syndrop', null, 'frames that passed every wire check and reached TCP or ICMP'),
  counter('SyndropRxTruncated', null, 'Syndrop', null, 'rejected: shorter than the headers or lengths they announce (IHL or total length beyond the frame)'),
  counter('SyndropRxBadVersion', null, 'Syndrop', null, 'rejected: not IPv4'),
  counter('SyndropRxBadIhl', null, 'Syndrop', null, 'rejected: IPv4 header length below 20 bytes'),
  counter('SyndropRxBadTotalLength', null, 'Syndrop', null, 'rejected: IPv4 total length below the header length'),
  counter('SyndropRxBadIpChecksum', null, 'Syndrop', null, 'rejected: IPv4 header checksum'),
  counter('SyndropRxFragment', null, 'Syndrop', null, 'rejected: IPv4 fragment (not reassembled)'),
  counter('SyndropRxNotForUs', null, 'Syndrop', null, 'rejected: destination is not the emulated host (nor broadcast/multicast)'),
  counter('SyndropRxUnknownProto', null, 'Syndrop', null, 'rejected: neither TCP nor ICMP'),
  counter('SyndropRxBadDataOffset', null, 'Syndrop', null, 'rejected: TCP data offset below 5 or beyond the segment'),
  counter('SyndropRxBadTcpChecksum', null, 'Syndrop', null, 'rejected: TCP checksum'),
  counter('SyndropRxBadIcmp', null, 'Syndrop', null, 'rejected: ICMP too short or bad checksum'),
  counter('SyndropRxSyn', null, 'Syndrop', null, 'SYNs (without ACK) received, valid or not for a listener'),
  counter('SyndropTxSynAck', null, 'Syndrop', null, 'SYN-ACKs sent, retransmissions and cookies included'),
  counter('SyndropTxFrames', null, 'Syndrop', null, 'frames written to the TUN device'),
  counter('SyndropTxDropped', null, 'Syndrop', null, 'frames the TUN device refused (queue full)'),
  counter('SyndropEventsLost', null, 'Syndrop', null, 'events overwritten in the ring before a reader took them'),
  // --- /proc/net/snmp6 (nstat prints them; `netstat -s` only with -6): IPv6 has its own IP
  // and ICMP counters, while the TCP ones above are shared by both families as in Linux ---
  counter('Ip6InReceives', 'IPSTATS_MIB_INPKTS', 'Ip6', null, 'IPv6 packets read from the TUN device'),
  counter('Ip6InHdrErrors', 'IPSTATS_MIB_INHDRERRORS', 'Ip6', null, 'IPv6 header malformed (version, truncated extension header)'),
  counter('Ip6InTruncatedPkts', 'IPSTATS_MIB_INTRUNCATEDPKTS', 'Ip6', null, 'IPv6 payload length beyond the packet (ipv6_rcv)'),
  counter('Ip6InAddrErrors', 'IPSTATS_MIB_INADDRERRORS', 'Ip6', null, 'destination is not the emulated host'),
  counter('Ip6InUnknownProtos', 'IPSTATS_MIB_INUNKNOWNPROTOS', 'Ip6', null, 'next header neither TCP nor ICMPv6 nor a known extension header'),
  counter('Ip6InDelivers', 'IPSTATS_MIB_INDELIVERS', 'Ip6', null, 'handed to TCP or ICMPv6'),
  counter('Ip6OutRequests', 'IPSTATS_MIB_OUTREQUESTS', 'Ip6', null, 'IPv6 packets written to the TUN device'),
  counter('Ip6ReasmFails', 'IPSTATS_MIB_REASMFAILS', 'Ip6', null, 'fragments: syndrop does not reassemble, it drops them'),
  counter('Icmp6InMsgs', 'ICMP6_MIB_INMSGS', 'Icmp6', null, 'ICMPv6 messages to the emulated host'),
  counter('Icmp6InErrors', 'ICMP6_MIB_INERRORS', 'Icmp6', null, 'ICMPv6 message too short or bad checksum'),
  counter('Icmp6OutMsgs', 'ICMP6_MIB_OUTMSGS', 'Icmp6', null, 'ICMPv6 messages sent'),
  counter('Icmp6InEchos', null, 'Icmp6', null, 'ICMPv6 echo requests received (the per-type Icmp6InType128 counter)'),
  counter('Icmp6OutEchoReplies', null, 'Icmp6', null, 'ICMPv6 echo replies sent (the per-type Icmp6OutType129 counter)'),
  counter('SyndropRxBadPayloadLength', null, 'Syndrop', null, 'rejected: IPv6 payload length beyond the frame'),
  counter('SyndropRxMartianSource', null, 'Syndrop', null, 'rejected: IPv4 source in 0.0.0.0/8 (martian, ip_route_input_slow)'),
];

function indexOf(name: string): number {
  const i = COUNTERS.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`unknown counter ${name}`);
  return i;
}

/** Counter indices. `Counter.ListenDrops` reads better than a string on the hot path. */
export const Counter = {
  IpInReceives: indexOf('IpInReceives'),
  IpInHdrErrors: indexOf('IpInHdrErrors'),
  IpInAddrErrors: indexOf('IpInAddrErrors'),
  IpInUnknownProtos: indexOf('IpInUnknownProtos'),
  IpInDelivers: indexOf('IpInDelivers'),
  IpOutRequests: indexOf('IpOutRequests'),
  IpReasmFails: indexOf('IpReasmFails'),
  IcmpInMsgs: indexOf('IcmpInMsgs'),
  IcmpInErrors: indexOf('IcmpInErrors'),
  IcmpInEchos: indexOf('IcmpInEchos'),
  IcmpOutMsgs: indexOf('IcmpOutMsgs'),
  IcmpOutEchoReps: indexOf('IcmpOutEchoReps'),
  ActiveOpens: indexOf('TcpActiveOpens'),
  PassiveOpens: indexOf('TcpPassiveOpens'),
  AttemptFails: indexOf('TcpAttemptFails'),
  EstabResets: indexOf('TcpEstabResets'),
  CurrEstab: indexOf('TcpCurrEstab'),
  InSegs: indexOf('TcpInSegs'),
  OutSegs: indexOf('TcpOutSegs'),
  RetransSegs: indexOf('TcpRetransSegs'),
  InErrs: indexOf('TcpInErrs'),
  OutRsts: indexOf('TcpOutRsts'),
  InCsumErrors: indexOf('TcpInCsumErrors'),
  SyncookiesSent: indexOf('TcpExtSyncookiesSent'),
  SyncookiesRecv: indexOf('TcpExtSyncookiesRecv'),
  SyncookiesFailed: indexOf('TcpExtSyncookiesFailed'),
  EmbryonicRsts: indexOf('TcpExtEmbryonicRsts'),
  TW: indexOf('TcpExtTW'),
  TWRecycled: indexOf('TcpExtTWRecycled'),
  TWKilled: indexOf('TcpExtTWKilled'),
  PAWSPassive: indexOf('TcpExtPAWSPassive'),
  PAWSActive: indexOf('TcpExtPAWSActive'),
  PAWSEstab: indexOf('TcpExtPAWSEstab'),
  PAWSTimewait: indexOf('TcpExtPAWSTimewait'),
  TSEcrRejected: indexOf('TcpExtTSEcrRejected'),
  ListenOverflows: indexOf('TcpExtListenOverflows'),
  ListenDrops: indexOf('TcpExtListenDrops'),
  TCPReqQFullDrop: indexOf('TcpExtTCPReqQFullDrop'),
  TCPReqQFullDoCookies: indexOf('TcpExtTCPReqQFullDoCookies'),
  TCPTimeouts: indexOf('TcpExtTCPTimeouts'),
  TCPSynRetrans: indexOf('TcpExtTCPSynRetrans'),
  TCPACKSkippedSynRecv: indexOf('TcpExtTCPACKSkippedSynRecv'),
  TCPACKSkippedTimeWait: indexOf('TcpExtTCPACKSkippedTimeWait'),
  TCPChallengeACK: indexOf('TcpExtTCPChallengeACK'),
  TCPDeferAcceptDrop: indexOf('TcpExtTCPDeferAcceptDrop'),
  TCPTimeWaitOverflow: indexOf('TcpExtTCPTimeWaitOverflow'),
  TCPAbortOnData: indexOf('TcpExtTCPAbortOnData'),
  TCPAbortOnTimeout: indexOf('TcpExtTCPAbortOnTimeout'),
  RxFrames: indexOf('SyndropRxFrames'),
  RxAccepted: indexOf('SyndropRxAccepted'),
  RxTruncated: indexOf('SyndropRxTruncated'),
  RxBadVersion: indexOf('SyndropRxBadVersion'),
  RxBadIhl: indexOf('SyndropRxBadIhl'),
  RxBadTotalLength: indexOf('SyndropRxBadTotalLength'),
  RxBadIpChecksum: indexOf('SyndropRxBadIpChecksum'),
  RxFragment: indexOf('SyndropRxFragment'),
  RxNotForUs: indexOf('SyndropRxNotForUs'),
  RxUnknownProto: indexOf('SyndropRxUnknownProto'),
  RxBadDataOffset: indexOf('SyndropRxBadDataOffset'),
  RxBadTcpChecksum: indexOf('SyndropRxBadTcpChecksum'),
  RxBadIcmp: indexOf('SyndropRxBadIcmp'),
  RxSyn: indexOf('SyndropRxSyn'),
  TxSynAck: indexOf('SyndropTxSynAck'),
  TxFrames: indexOf('SyndropTxFrames'),
  TxDropped: indexOf('SyndropTxDropped'),
  EventsLost: indexOf('SyndropEventsLost'),
  Ip6InReceives: indexOf('Ip6InReceives'),
  Ip6InHdrErrors: indexOf('Ip6InHdrErrors'),
  Ip6InTruncatedPkts: indexOf('Ip6InTruncatedPkts'),
  Ip6InAddrErrors: indexOf('Ip6InAddrErrors'),
  Ip6InUnknownProtos: indexOf('Ip6InUnknownProtos'),
  Ip6InDelivers: indexOf('Ip6InDelivers'),
  Ip6OutRequests: indexOf('Ip6OutRequests'),
  Ip6ReasmFails: indexOf('Ip6ReasmFails'),
  Icmp6InMsgs: indexOf('Icmp6InMsgs'),
  Icmp6InErrors: indexOf('Icmp6InErrors'),
  Icmp6OutMsgs: indexOf('Icmp6OutMsgs'),
  Icmp6InEchos: indexOf('Icmp6InEchos'),
  Icmp6OutEchoReplies: indexOf('Icmp6OutEchoReplies'),
  RxBadPayloadLength: indexOf('SyndropRxBadPayloadLength'),
  RxMartianSource: indexOf('SyndropRxMartianSource'),
} as const;

export type CounterIndex = (typeof Counter)[keyof typeof Counter];

export function newCounterArray(): Float64Array {
  return new Float64Array(COUNTERS.length);
}

/** Names this kernel has, in catalogue order: what nstat on that kernel would list. */
export function presentCounters(presence: CounterPresence): CounterInfo[] {
  return COUNTERS.filter((c) => c.presentWhen === undefined || presence[c.presentWhen]);
}

/**
 * Catalogue indices in the order nstat lists them: /proc/net/snmp (Ip, Icmp, Tcp), then
 * /proc/net/snmp6, then /proc/net/netstat (TcpExt) — then syndrop's own.
 */
export const COUNTER_PROC_ORDER: readonly number[] = (() => {
  const file = (section: CounterInfo['netstatSection']): number =>
    section === 'Ip6' || section === 'Icmp6' ? 1 : section === 'TcpExt' ? 2 : section === 'Syndrop' ? 3 : 0;
  return COUNTERS.map((_, i) => i).sort((a, b) => file(COUNTERS[a]!.netstatSection) - file(COUNTERS[b]!.netstatSection) || a - b);
})();

/** name → value for the counters this kernel has (the shape of `stats --json`), in nstat's order. */
export function snapshotCounters(values: Float64Array, presence: CounterPresence): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of COUNTER_PROC_ORDER) {
    const c = COUNTERS[i]!;
    if (c.presentWhen === undefined || presence[c.presentWhen]) out[c.name] = values[i]!;
  }
  return out;
}

/** The syndrop counter each rejection by a checked view bumps (index = WireError code). */
export const WIRE_ERROR_COUNTERS: readonly number[] = (() => {
  const byError: number[] = [];
  byError[WireError.Ok] = Counter.RxAccepted;
  byError[WireError.Truncated] = Counter.RxTruncated;
  byError[WireError.BadVersion] = Counter.RxBadVersion;
  byError[WireError.BadIhl] = Counter.RxBadIhl;
  byError[WireError.BadTotalLength] = Counter.RxBadTotalLength;
  byError[WireError.BadIpChecksum] = Counter.RxBadIpChecksum;
  byError[WireError.Fragment] = Counter.RxFragment;
  byError[WireError.BadDataOffset] = Counter.RxBadDataOffset;
  byError[WireError.BadTcpChecksum] = Counter.RxBadTcpChecksum;
  byError[WireError.BadIcmp] = Counter.RxBadIcmp;
  byError[WireError.BadPayloadLength] = Counter.RxBadPayloadLength;
  return byError;
})();

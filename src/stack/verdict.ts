import { Counter } from './mib.js';

/**
 * Every decision the stack takes about a packet or a timer, with the counters it bumps.
 * Counters move only through `Host.apply(verdict)`, so counters, events, pcap comments
 * and `explain` cannot disagree (style.md: "one verdict per decision").
 */
export interface VerdictInfo {
  readonly name: string;
  /** What happened to the packet: answered, accepted, dropped silently, reset, or only noted. */
  readonly action: 'synack' | 'cookie-synack' | 'accept' | 'ack' | 'rst' | 'drop' | 'note' | 'reply';
  /** Drop reason (SKB_DROP_REASON_* without prefix, or syndrop's own name); null when not a drop. */
  readonly reason: string | null;
  /**
   * When the reason is also the kernel's: 'dropReasons' = kernels with the drop-reason
   * framework (5.17+), 'listenOverflow' = only where TCP_LISTEN_OVERFLOW exists (6.15+).
   */
  readonly kernelReason: 'dropReasons' | 'listenOverflow' | null;
  /** The kernel function this decision mirrors. */
  readonly kernelFunction: string;
  /** Section of ../shared/spec/linux-listen-path.md that states the rule. */
  readonly spec: string;
  readonly counters: readonly number[];
  /** Plain words for events and explain. */
  readonly text: string;
}

function v(
  name: string,
  action: VerdictInfo['action'],
  reason: string | null,
  kernelFunction: string,
  spec: string,
  counters: number[],
  text: string,
  kernelReason: VerdictInfo['kernelReason'] = null,
): VerdictInfo {
  return Object.freeze({ name, action, reason, kernelReason, kernelFunction, spec, counters: Object.freeze(counters), text });
}

const C = Counter;

export const VERDICTS: readonly VerdictInfo[] = [
  v('NONE', 'note', null, '-', '-', [], 'no decision'),
  // --- SYN on a listener (tcp_conn_request) ---
  v('SYN_QUEUED', 'synack', null, 'tcp_conn_request', '§1.2 D9', [], 'SYN accepted: request queued, SYN-ACK sent'),
  v('SYN_COOKIE', 'cookie-synack', null, 'cookie_v4_init_sequence', '§1.2 D7', [C.SyncookiesSent], 'SYN answered with a syncookie SYN-ACK, nothing stored'),
  v('SYN_COOKIE_LISTENDROP', 'cookie-synack', null, 'tcp_conn_request (drop_and_free)', '§1.1 C10', [C.SyncookiesSent, C.ListenDrops], 'SYN answered with a syncookie SYN-ACK; this kernel also counts it as a listen drop'),
  v('FLOOD_DO_COOKIES', 'note', null, 'tcp_syn_flood_action', '§1.3', [C.TCPReqQFullDoCookies], 'SYN queue full (or tcp_syncookies=2): use a cookie'),
  v('FLOOD_WARNING', 'note', null, 'tcp_syn_flood_action', '§1.3', [], 'Possible SYN flooding (logged once per listener)'),
  v('DROP_REQQ_FULL', 'drop', 'TCP_REQQFULLDROP', 'tcp_syn_flood_action', '§1.3, §1.4', [C.TCPReqQFullDrop, C.ListenDrops], 'SYN dropped: SYN queue full and tcp_syncookies=0'),
  v('DROP_ACCEPTQ_FULL', 'drop', 'ACCEPTQ_FULL', 'tcp_conn_request', '§1.2 D2', [C.ListenOverflows, C.ListenDrops], 'SYN dropped: accept queue full'),
  v('DROP_ACCEPTQ_FULL_YOUNG', 'drop', 'ACCEPTQ_FULL_YOUNG', 'tcp_v4_conn_request', '§1.1 C3', [C.ListenOverflows, C.ListenDrops], 'SYN dropped: accept queue full and more than one young request'),
  v('DROP_PAWS_PASSIVE', 'drop', 'PAWS_PASSIVE_PER_HOST', 'tcp_peer_is_proven', '§2.3, §1.1 C8a', [C.PAWSPassive, C.ListenDrops], 'SYN dropped: per-host PAWS (tcp_tw_recycle) saw an older timestamp from this address within 60 s'),
  v('DROP_UNPROVEN_PEER', 'drop', 'UNPROVEN_PEER', 'tcp_peer_is_proven', '§1.1 C8b, §1.2 D5', [C.ListenDrops], 'SYN dropped: syncookies off, SYN queue in its last quarter, peer not proven'),
  v('DROP_BROADCAST', 'drop', 'SYN_TO_BROADCAST', 'tcp_v4_conn_request', '§1.1 C1', [C.ListenDrops], 'SYN to a broadcast or multicast address dropped'),
  v('DROP_SYN_FIN', 'drop', 'TCP_FLAGS', 'tcp_rcv_state_process', '§1.0', [], 'SYN+FIN to a listener discarded', 'dropReasons'),
  v('DROP_LISTEN_RST', 'drop', 'TCP_RESET', 'tcp_rcv_state_process', '§1.0', [], 'RST to a listener ignored', 'dropReasons'),
  v('DROP_LISTEN_OTHER', 'drop', 'TCP_FLAGS', 'tcp_rcv_state_process', '§1.0', [], 'segment without SYN/ACK/RST to a listener discarded', 'dropReasons'),
  v('SYN_TIMEWAIT_REUSE', 'note', null, 'tcp_timewait_state_process', '§1.9', [], 'SYN reused a TIME_WAIT 4-tuple: TIME_WAIT killed; ISN = old snd_nxt + 65537, or a clock ISN where tcp_tw_isn is lost (4.14–6.9, §8c)'),
  // --- segments to a listener without a request: cookies and stray ACKs ---
  v('RST_STRAY_ACK', 'rst', 'NO_SOCKET', 'tcp_v4_send_reset', '§1.0, §8 stray ACK', [C.OutRsts], 'ACK to a listener matches nothing: RST sent'),
  v('COOKIE_NO_RECENT_OVERFLOW', 'rst', 'COOKIE_NO_RECENT_OVERFLOW', 'cookie_v4_check', '§3.4 (3.10)', [C.SyncookiesFailed, C.OutRsts], 'ACK looked like a cookie but no cookie was sent in the last 3 s: counted invalid, RST sent'),
  v('COOKIE_BAD', 'rst', 'COOKIE_INVALID', 'cookie_v4_check', '§3.4', [C.SyncookiesFailed, C.OutRsts], 'invalid syncookie: RST sent'),
  v('COOKIE_OPTIONS_BAD', 'rst', 'COOKIE_OPTIONS', 'cookie_timestamp_decode', '§3.4', [C.SyncookiesRecv, C.OutRsts], 'cookie valid but its timestamp-encoded options are refused by the sysctls: RST sent'),
  v('COOKIE_ACCEPTED', 'accept', null, 'cookie_v4_check', '§3.4', [C.SyncookiesRecv, C.PassiveOpens], 'valid syncookie: connection created'),
  v('COOKIE_ACCEPTQ_FULL', 'drop', 'COOKIE_ACCEPTQ_FULL', 'tcp_v4_syn_recv_sock', '§3.4, §8', [C.SyncookiesRecv, C.ListenOverflows, C.ListenDrops], 'valid syncookie but the accept queue is full: ACK dropped silently (no RST even with tcp_abort_on_overflow)'),
  // --- segments to a port nobody listens on ---
  v('RST_NO_LISTENER', 'rst', 'NO_SOCKET', 'tcp_v4_send_reset', '§9b #102', [C.OutRsts], 'no socket on this port: RST sent', 'dropReasons'),
  v('DROP_NO_SOCKET_RST', 'drop', 'NO_SOCKET', 'tcp_v4_rcv', '§9b #102', [], 'RST to a port with no socket ignored', 'dropReasons'),
  // --- segments for a pending request (tcp_check_req) ---
  v('REQ_SYN_RETRANSMIT', 'synack', null, 'inet_rtx_syn_ack', '§3.1 R2', [C.RetransSegs, C.TCPSynRetrans], 'retransmitted SYN for a pending request: SYN-ACK resent'),
  v('REQ_SYN_RETRANSMIT_310', 'synack', null, 'inet_rtx_syn_ack', '§3.1 R2', [C.RetransSegs], 'retransmitted SYN for a pending request: SYN-ACK resent'),
  v('REQ_OOW_RATELIMITED', 'drop', 'OOW_RATELIMIT', 'tcp_oow_rate_limited', '§3.1 R2/R4, §8', [C.TCPACKSkippedSynRecv], 'answer to a pending request suppressed by tcp_invalid_ratelimit'),
  v('REQ_BAD_ACK', 'rst', 'TCP_ACK_UNSENT_DATA', 'tcp_check_req', '§3.1 R3', [C.OutRsts], 'ACK number does not match the SYN-ACK: RST sent, request kept'),
  v('REQ_OUT_OF_WINDOW', 'ack', 'TCP_OVERWINDOW', 'tcp_check_req', '§3.1 R4', [], 'segment outside the request window: ACK sent'),
  v('REQ_TSECR_REJECT', 'ack', 'TCP_RFC7323_TSECR', 'tcp_check_req', '§3.1 R4 (6.15+)', [C.TSEcrRejected], 'ACK for a pending request echoes a TSecr none of our SYN-ACKs sent: ACK sent', 'dropReasons'),
  v('REQ_PAWS_REJECT', 'ack', 'TCP_RFC7323_PAWS', 'tcp_check_req', '§3.1 R4, §8', [C.PAWSEstab], 'older timestamp for a pending request: ACK sent', 'dropReasons'),
  v('REQ_RESET', 'drop', 'TCP_RESET', 'tcp_check_req', '§3.1 R7', [C.AttemptFails, C.EmbryonicRsts], 'RST for a pending request: request removed', 'dropReasons'),
  v('REQ_SYN_RESET', 'rst', 'TCP_INVALID_SYN', 'tcp_check_req', '§3.1 R7', [C.AttemptFails, C.EmbryonicRsts, C.OutRsts], 'new SYN inside the window of a pending request: RST sent, request removed'),
  v('REQ_CHALLENGE_ACK', 'ack', 'TCP_RESET', 'tcp_check_req', '§8 RST for a pending request', [C.TCPChallengeACK], 'RST in window but not at rcv_nxt: challenge ACK, request kept'),
  v('REQ_NO_ACK', 'drop', 'TCP_FLAGS', 'tcp_check_req', '§3.1 R8', [], 'segment without ACK for a pending request discarded'),
  v('REQ_DEFER_ACCEPT_DROP', 'drop', 'TCP_DEFER_ACCEPT', 'tcp_check_req', '§3.1 R9, §3.3', [C.TCPDeferAcceptDrop], 'bare third ACK dropped under TCP_DEFER_ACCEPT'),
  v('REQ_ACCEPTQ_OVERFLOW', 'drop', 'TCP_LISTEN_OVERFLOW', 'tcp_v4_syn_recv_sock', '§3.1 R10, §3.2', [C.ListenOverflows, C.ListenDrops], 'third ACK dropped: accept queue full; request kept, its SYN-ACK will be retransmitted', 'listenOverflow'),
  v('REQ_ACCEPTQ_OVERFLOW_ABORT', 'rst', 'TCP_LISTEN_OVERFLOW', 'tcp_check_req (abort_on_overflow)', '§3.1 listen_overflow', [C.ListenOverflows, C.ListenDrops, C.EmbryonicRsts, C.OutRsts], 'third ACK with the accept queue full and tcp_abort_on_overflow=1: RST sent, request removed', 'listenOverflow'),
  v('REQ_ESTABLISHED', 'accept', null, 'tcp_check_req', '§3.1 R10–R11', [C.PassiveOpens], 'third ACK: connection established, queued for accept()'),
  // --- request timers (reqsk_timer_handler / inet_csk_reqsk_queue_prune) ---
  v('REQ_TIMEOUT_RETRANSMIT', 'synack', null, 'reqsk_timer_handler', '§4.1', [C.TCPTimeouts, C.RetransSegs, C.TCPSynRetrans], 'request timer: SYN-ACK retransmitted'),
  v('REQ_TIMEOUT_RETRANSMIT_310', 'synack', null, 'inet_csk_reqsk_queue_prune', '§4.1, §4.2', [C.TCPTimeouts, C.RetransSegs], 'request timer: SYN-ACK retransmitted'),
  v('REQ_TIMEOUT_SILENT', 'note', null, 'reqsk_timer_handler', '§3.3, §4.1', [C.TCPTimeouts], 'request timer fired without a retransmission (TCP_DEFER_ACCEPT)'),
  v('REQ_EXPIRED', 'drop', 'REQSK_EXPIRED', 'reqsk_timer_handler', '§4.1', [C.TCPTimeouts], 'request dropped: SYN-ACK retransmissions exhausted'),
  // --- TIME_WAIT (tcp_timewait_state_process, tcp_time_wait) ---
  v('TW_ENTER', 'note', null, 'tcp_time_wait', '§2.4', [], 'connection entered TIME_WAIT'),
  v('TW_ENTER_COUNTED', 'note', null, 'tcp_time_wait', '§8 TcpExtTW', [C.TW], 'connection entered TIME_WAIT (counted on entry, as 5.18+ do)'),
  v('TW_EXPIRED_TW', 'note', null, 'inet_twsk_kill', '§2.4', [C.TW], 'TIME_WAIT ended'),
  v('TW_EXPIRED_KILLED', 'note', null, 'inet_twsk_kill', '§2.4', [C.TWKilled], 'TIME_WAIT ended'),
  v('TW_EXPIRED', 'note', null, 'inet_twsk_kill', '§8', [], 'TIME_WAIT ended'),
  v('TW_PAWS_ESTAB', 'ack', 'TCP_RFC7323_PAWS', 'tcp_timewait_state_process', '§1.9', [C.PAWSEstab], 'older timestamp hit TIME_WAIT: ACK sent', 'dropReasons'),
  v('TW_PAWS_TIMEWAIT', 'ack', 'TCP_RFC7323_TW_PAWS', 'tcp_timewait_state_process', '§1.9, §8', [C.PAWSTimewait], 'older timestamp hit TIME_WAIT: ACK sent', 'dropReasons'),
  v('TW_ACK', 'ack', 'TIMEWAIT', 'tcp_timewait_state_process', '§1.9', [], 'segment to TIME_WAIT answered with an ACK', 'dropReasons'),
  v('TW_ACK_RATELIMITED', 'drop', 'TIMEWAIT', 'tcp_timewait_check_oow_rate_limit', '§8', [C.TCPACKSkippedTimeWait], 'answer from TIME_WAIT suppressed by tcp_invalid_ratelimit', 'dropReasons'),
  v('TW_RST_KILL', 'drop', 'TIMEWAIT', 'tcp_timewait_state_process', '§1.9', [], 'RST killed a TIME_WAIT socket (RFC 1337 assassination)', 'dropReasons'),
  v('TW_SILENT', 'drop', 'TIMEWAIT', 'tcp_timewait_state_process', '§1.9', [], 'segment to TIME_WAIT absorbed', 'dropReasons'),
  v('TW_OVERFLOW', 'note', null, 'tcp_time_wait', '§6', [C.TCPTimeWaitOverflow], 'TIME_WAIT bucket not created: tcp_max_tw_buckets reached'),
  // --- established connections ---
  v('CONN_RESET', 'drop', 'TCP_RESET', 'tcp_reset', '-', [C.EstabResets], 'connection reset by the peer', 'dropReasons'),
  v('CONN_RESET_QUIET', 'drop', 'TCP_RESET', 'tcp_reset', '-', [], 'connection reset by the peer while closing', 'dropReasons'),
  v('CONN_ABORT_TIMEOUT', 'rst', null, 'tcp_write_timeout', '-', [C.TCPAbortOnTimeout], 'connection aborted: too many retransmissions'),
  v('CONN_ABORT_ON_DATA', 'rst', null, 'tcp_rcv_state_process', '-', [C.TCPAbortOnData, C.OutRsts], 'data after the application closed: RST sent'),
  // --- ICMP ---
  v('ICMP_ECHO_REPLY', 'reply', null, 'icmp_echo', '-', [C.IcmpInEchos, C.IcmpOutMsgs, C.IcmpOutEchoReps], 'echo request answered'),
  v('ICMP_IGNORED', 'drop', null, 'icmp_rcv', '-', [], 'ICMP message ignored'),
  // --- malformed frames (syndrop's own accounting; the kernel would drop most in ip_rcv / tcp_v4_rcv) ---
  v('MALFORMED', 'drop', 'MALFORMED', 'ip_rcv / tcp_v4_rcv', '-', [], 'malformed frame counted and dropped'),
  v('NOT_FOR_US', 'drop', 'NOT_FOR_US', 'ip_rcv_finish', '-', [C.IpInAddrErrors, C.RxNotForUs], 'destination is not the emulated host'),
  v('UNKNOWN_PROTO', 'drop', 'UNHANDLED_PROTO', 'ip_local_deliver_finish', '-', [C.IpInUnknownProtos, C.RxUnknownProto], 'protocol not handled by the emulated host'),
  // --- IPv6 (ipv6_rcv, ip6_protocol_deliver_rcu, icmpv6_rcv) and the IPv4 source Linux calls martian ---
  v('ICMP6_ECHO_REPLY', 'reply', null, 'icmpv6_echo_reply', '-', [C.Icmp6InEchos, C.Icmp6OutMsgs, C.Icmp6OutEchoReplies], 'ICMPv6 echo request answered'),
  v('NOT_FOR_US6', 'drop', 'NOT_FOR_US', 'ip6_rcv_finish', '-', [C.Ip6InAddrErrors, C.RxNotForUs], 'destination is not the emulated host'),
  v('UNKNOWN_PROTO6', 'drop', 'UNHANDLED_PROTO', 'ip6_protocol_deliver_rcu', '-', [C.Ip6InUnknownProtos, C.RxUnknownProto], 'next header not handled by the emulated host (unknown extension header or protocol; no ICMPv6 parameter problem is sent)'),
  v('DROP_MARTIAN_SOURCE', 'drop', 'IP_INVALID_SOURCE', 'ip_route_input_slow', '-', [C.RxMartianSource], 'IPv4 source in 0.0.0.0/8: a martian source, dropped before TCP'),
];

function index(name: string): number {
  const i = VERDICTS.findIndex((x) => x.name === name);
  if (i < 0) throw new Error(`unknown verdict ${name}`);
  return i;
}

export const Verdict = Object.freeze(Object.fromEntries(VERDICTS.map((x, i) => [x.name, i]))) as {
  readonly [K in
    | 'NONE'
    | 'SYN_QUEUED'
    | 'SYN_COOKIE'
    | 'SYN_COOKIE_LISTENDROP'
    | 'FLOOD_DO_COOKIES'
    | 'FLOOD_WARNING'
    | 'DROP_REQQ_FULL'
    | 'DROP_ACCEPTQ_FULL'
    | 'DROP_ACCEPTQ_FULL_YOUNG'
    | 'DROP_PAWS_PASSIVE'
    | 'DROP_UNPROVEN_PEER'
    | 'DROP_BROADCAST'
    | 'DROP_SYN_FIN'
    | 'DROP_LISTEN_RST'
    | 'DROP_LISTEN_OTHER'
    | 'SYN_TIMEWAIT_REUSE'
    | 'RST_STRAY_ACK'
    | 'COOKIE_NO_RECENT_OVERFLOW'
    | 'COOKIE_BAD'
    | 'COOKIE_OPTIONS_BAD'
    | 'COOKIE_ACCEPTED'
    | 'COOKIE_ACCEPTQ_FULL'
    | 'RST_NO_LISTENER'
    | 'DROP_NO_SOCKET_RST'
    | 'REQ_SYN_RETRANSMIT'
    | 'REQ_SYN_RETRANSMIT_310'
    | 'REQ_OOW_RATELIMITED'
    | 'REQ_BAD_ACK'
    | 'REQ_OUT_OF_WINDOW'
    | 'REQ_PAWS_REJECT'
    | 'REQ_TSECR_REJECT'
    | 'REQ_RESET'
    | 'REQ_SYN_RESET'
    | 'REQ_CHALLENGE_ACK'
    | 'REQ_NO_ACK'
    | 'REQ_DEFER_ACCEPT_DROP'
    | 'REQ_ACCEPTQ_OVERFLOW'
    | 'REQ_ACCEPTQ_OVERFLOW_ABORT'
    | 'REQ_ESTABLISHED'
    | 'REQ_TIMEOUT_RETRANSMIT'
    | 'REQ_TIMEOUT_RETRANSMIT_310'
    | 'REQ_TIMEOUT_SILENT'
    | 'REQ_EXPIRED'
    | 'TW_ENTER'
    | 'TW_ENTER_COUNTED'
    | 'TW_EXPIRED_TW'
    | 'TW_EXPIRED_KILLED'
    | 'TW_EXPIRED'
    | 'TW_PAWS_ESTAB'
    | 'TW_PAWS_TIMEWAIT'
    | 'TW_ACK'
    | 'TW_ACK_RATELIMITED'
    | 'TW_RST_KILL'
    | 'TW_SILENT'
    | 'TW_OVERFLOW'
    | 'CONN_RESET'
    | 'CONN_RESET_QUIET'
    | 'CONN_ABORT_TIMEOUT'
    | 'CONN_ABORT_ON_DATA'
    | 'ICMP_ECHO_REPLY'
    | 'ICMP_IGNORED'
    | 'MALFORMED'
    | 'NOT_FOR_US'
    | 'UNKNOWN_PROTO'
    | 'ICMP6_ECHO_REPLY'
    | 'NOT_FOR_US6'
    | 'UNKNOWN_PROTO6'
    | 'DROP_MARTIAN_SOURCE']: number;
};

// Fail at load time if the literal type above and the table drift apart.
for (const name of Object.keys(Verdict)) index(name);

export type VerdictId = number;

export function verdictByName(name: string): number {
  return index(name);
}

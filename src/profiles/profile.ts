import type { CounterPresence } from './counter-presence.js';

/**
 * Every behaviour difference between kernel versions, as data (spec §0, §10). The stack
 * reads these switches; it never compares version numbers.
 */
export interface ProfileSwitches {
  /** Accept-queue rule on a SYN (spec §1.1 C3, §1.2 D2, note A): 'young' = full && young > 1. */
  readonly synDropRule: 'young' | 'full';
  /** SYN-queue capacity (spec §5.2 / §5.3): 3.10's power of two vs sk_max_ack_backlog. */
  readonly synQueueSizing: 'pow2' | 'backlog';
  /** SYN queue full test in the backlog sizing (spec §1.4): qlen >= max (≤6.12) or qlen > max (6.13+). */
  readonly synQueueFullCmp: '>=' | '>';
  /** tcp_syncookies=2 means "always" (3.12+ and RHEL7) or acts as 1 (vanilla 3.10) (spec §1.1 notes). */
  readonly syncookiesAlwaysMode: boolean;
  /** tcp_tw_recycle and the per-host PAWS check exist (≤ 4.11, spec §2.5). */
  readonly hasTwRecycle: boolean;
  /**
   * Per-host PAWS on SYN (spec §1.1 C8a, §1.2 D5, §2.3): 'tsOnly' = 3.10 checks only SYNs with
   * timestamps; 'alsoNoTs' = 4.4–4.11 also reject a SYN without timestamps from a fresh host.
   */
  readonly pawsPassiveRule: 'tsOnly' | 'alsoNoTs';
  /**
   * "Unproven peer" rule (spec §1.1 C8b, §1.2 D5'): 'neverProven' = dst is NULL at the check
   * (3.10, 4.4–4.13) so every peer is unproven; 'rttMetric' = proven iff tcp_metrics holds an RTT (4.14+).
   */
  readonly unprovenPeerRule: 'neverProven' | 'rttMetric';
  /** A cookie ACK is accepted only this long after the last overflow (spec §3.4): 3 s (3.10) or 120 s. */
  readonly cookieOverflowWindowMs: number;
  /** Later stable trees also refuse a last-overflow stamp more than 1 s in the future (spec §3.4). */
  readonly cookieRejectFutureOverflow: boolean;
  /** tcp_synq_overflow refreshes its stamp at most once per second (≥ 3.13). */
  readonly cookieOverflowStampEverySecond: boolean;
  /** Cookie minute-counter age accepted: diff < this (3.10: 4, ≥3.13: MAX_SYNCOOKIE_AGE 2). */
  readonly cookieMaxAgeMinutes: number;
  /** MSS table encoded in the cookie (spec §3.4). */
  readonly cookieMssTable: readonly number[];
  /** IPv6's cookie MSS table (net/ipv6/syncookies.c msstab: 8 entries in 3.10, 4 from 3.13). */
  readonly cookieMssTable6: readonly number[];
  /** net.ipv6.auto_flowlabels on by default: replies carry a per-flow hashed flow label. */
  readonly ipv6AutoFlowLabel: boolean;
  /** No recent overflow counts SyncookiesFailed (3.10 only, spec §3.4). */
  readonly syncookiesFailedOnNoOverflow: boolean;
  /** Each cookie SYN-ACK also counts ListenDrops (3.10, 4.4: `goto drop_and_free`, spec §1.1 C10). */
  readonly cookieCountsListenDrop: boolean;
  /** SYN-ACK timers: one 200 ms listener timer (3.10) or one timer per request (4.4+), spec §4.2/§4.3. */
  readonly synackTimer: 'listener200ms' | 'perRequest';
  /** TSval offsets (spec §2.5, §1.10): none, per connection (4.10), per address pair (4.11+), per 4-tuple (measured on 6.18). */
  readonly tsOffsets: 'none' | 'perConn' | 'perPair' | 'perTuple';
  /** A duplicate SYN / out-of-window segment for a request is answered at most once per tcp_invalid_ratelimit (4.x+). */
  readonly requestOowRateLimit: boolean;
  /**
   * Where a segment goes when tcp_check_req hands it back to the listener (an ACK for a
   * pending request with the wrong ack number, spec §3.1 R3): 'listenerRst' = 3.10's
   * tcp_v4_hnd_req returns the listener straight to tcp_rcv_state_process (RST, no cookie
   * check); 'cookieCheck' = 4.4+ reach the listener through tcp_v4_do_rcv, whose cookie check
   * runs first (spec §1.0, §3.4).
   */
  readonly requestRejectedAckPath: 'listenerRst' | 'cookieCheck';
  /**
   * Where a valid segment's TSval becomes ts_recent (spec §3.1 R5): 'request' = tcp_check_req
   * writes req->ts_recent (every kernel until 2025); 'child' = only the child created from
   * the request takes it ("tcp: defer ts_recent changes until req is owned", measured on
   * 6.18 by the differential suite: after a dropped third ACK the retransmitted SYN-ACK still
   * echoes the SYN's TSval).
   */
  readonly requestTsRecentUpdate: 'request' | 'child';
  /**
   * RST for a pending request (spec §8, §8c): 'inWindow' = any in-window RST removes it
   * (tcp_check_req's `flg & (TCP_FLAG_RST|TCP_FLAG_SYN)` → embryonic_reset; measured on
   * 3.10.108, 4.4.1, 4.10.17, 6.1.20, 6.1.170 and 6.12.0); 'exactSeq' = only seq == rcv_nxt
   * removes it, any other in-window RST gets a challenge ACK (RFC 5961 §3.2; measured on 6.18,
   * absent from 6.12.0: an era-F switch).
   */
  readonly requestRstRule: 'inWindow' | 'exactSeq';
  /**
   * 6.15+ ("tcp: be less liberal in TSEcr received while in SYN_RECV state", 2025; 6.14.y
   * stable): an ACK for a request whose TSecr is not between the first and the latest SYN-ACK
   * TSval gets an ACK, is dropped and counts TcpExtTSEcrRejected.
   */
  readonly requestTsecrCheck: boolean;
  /**
   * A SYN that reuses a TIME_WAIT 4-tuple (spec §1.9, §8c): 'continue' = the SYN-ACK's ISN is
   * the old snd_nxt + 65537 (TCP_SKB_CB(skb)->tcp_tw_isn reaches tcp_conn_request); 'clock' =
   * tcp_v4_fill_cb() runs again after `goto process` and clears tcp_tw_isn, so the request is
   * an ordinary one with a clock ISN (and the flood/peer checks apply). 'clock' from
   * "tcp: add tcp_v4_fill_cb()/tcp_v4_restore_cb()" (Oct 2017, 4.14/4.15) until
   * "tcp: replace TCP_SKB_CB(skb)->tcp_tw_isn with a per-cpu field" (6.10); measured clock on
   * 6.1.20 and 6.1.170, +65537 on 4.10.17, 6.12.0 and 6.18.
   */
  readonly timewaitSynIsn: 'continue' | 'clock';
  /** Counter bumped by a PAWS-rejected segment hitting TIME_WAIT (spec §1.9, §8). */
  readonly timewaitPawsCounter: 'PAWSEstab' | 'PAWSTimewait';
  /**
   * When TcpExtTW / TcpExtTWKilled move (spec §2.4, §8c): when the TIME_WAIT ends, TWKilled for
   * a short one (3.5 × RTO under tw_recycle, ≤ 4 s) and TW otherwise (3.10's two timer wheels,
   * 4.x tw_timer_handler); or when the socket enters TIME_WAIT (__inet_twsk_schedule, 5.18+).
   */
  readonly timewaitCounting: 'atExpiry' | 'onEnter';
  /** Third-ACK overflow carries the kernel drop reason TCP_LISTEN_OVERFLOW (6.15+, spec §8b). */
  readonly listenOverflowDropReason: boolean;
  /** skb drop reasons exist at all (5.17+), so kernel names can be shown for NO_SOCKET etc. */
  readonly hasDropReasons: boolean;
  /** Text of the one-time flood warning (spec §1.3). */
  readonly synFloodLog: 'v3.10' | 'v4.4' | 'v6.2';
  /**
   * tcp_select_initial_window's cap on the initial receive window, in segments of the MSS
   * (spec §1.10, §8c): 10 (3.10: 14480 with TS), 20 (4.x: 28960), 0 = none, the window is the
   * receive space rounded down to the MSS, at most 65535 (5.x+: 65160 with TS, 64240 without,
   * 65000 for a 1300-byte cookie MSS).
   */
  readonly initialRcvWndSegments: number;
  /**
   * Without window scaling the advertised window of a full socket shrinks by the sequence
   * number the peer's FIN consumed (tcp_select_window never shrinks below the current window,
   * and the current window lost the FIN): 64239 after a FIN on 6.1; 3.10 and 4.x keep 14600 /
   * 29200 (spec §8c).
   */
  readonly unscaledWindowLosesFin: boolean;
  /**
   * __tcp_select_window rounds the free space down to the scale unit before using it as the
   * new window ("make sure we don't increase it due to wscale"): once the application has read,
   * the window stays at round_down(free space) (65152 = 509 × 128) instead of rounding the initial
   * window up (510). Measured on 6.1.192 and 6.12.118 (verify --vm); invisible at wscale 10.
   */
  readonly windowRoundsFreeSpaceDown: boolean;
  /**
   * IP id of the segments the per-netns control socket sends for a request, a TIME_WAIT
   * bucket or a listener (ACKs and RSTs, spec §8c): 'hashed' = the shared ident generator
   * (__ip_select_ident, non-zero: the ctl socket's IP_PMTUDISC_WANT sets ignore_df), measured
   * on 3.10.108, 4.4.1, 4.10.17; 'zero' = DF with id 0 ("ipv4: tcp: send zero IPID for RST and
   * ACK sent in SYN-RECV and TIME-WAIT state", 2018, 4.17), measured on 6.1 and 6.18.
   * SYN-ACKs carry 0 and full sockets a per-socket counter on every kernel.
   */
  readonly ctlReplyIpId: 'hashed' | 'zero';
  /**
   * Ticks per second of the TCP timestamp clock (spec §8c): jiffies up to 4.12, so the build's
   * HZ (1000 on RHEL/CentOS 7 and the self-built kernels of §8a/§8c, 250 on Debian/Ubuntu);
   * 1000 from 4.13 (a 1 ms clock whatever HZ).
   */
  readonly tsClockHz: number;
  /** Counters this kernel has (spec §6). */
  readonly counters: CounterPresence;
}

export type SysctlName =
  | 'net.ipv4.tcp_syncookies'
  | 'net.ipv4.tcp_timestamps'
  | 'net.ipv4.tcp_tw_recycle'
  | 'net.ipv4.tcp_tw_reuse'
  | 'net.core.somaxconn'
  | 'net.ipv4.tcp_max_syn_backlog'
  | 'net.ipv4.tcp_synack_retries'
  | 'net.ipv4.tcp_syn_retries'
  | 'net.ipv4.tcp_abort_on_overflow'
  | 'net.ipv4.tcp_fin_timeout'
  | 'net.ipv4.tcp_max_tw_buckets'
  | 'net.ipv4.tcp_window_scaling'
  | 'net.ipv4.tcp_sack'
  | 'net.ipv4.tcp_invalid_ratelimit'
  | 'net.ipv4.tcp_rfc1337'
  | 'net.ipv4.tcp_ecn'
  | 'net.core.rmem_max'
  | 'net.ipv4.tcp_rmem';

/** Sysctls that hold three integers (min, default, max), as `sysctl` prints them. */
export type VectorSysctlName = 'net.ipv4.tcp_rmem';
export type ScalarSysctlName = Exclude<SysctlName, VectorSysctlName>;
export type SysctlTriple = readonly [number, number, number];

export type SysctlValues = Record<ScalarSysctlName, number> & Record<VectorSysctlName, SysctlTriple>;

export interface Profile {
  /** The canonical `--kernel` name, e.g. '3.10', '6.x'. */
  readonly name: string;
  /** Spec era letter (A–F). */
  readonly era: string;
  readonly description: string;
  readonly aliases: readonly string[];
  readonly switches: ProfileSwitches;
  /** Sysctls this kernel has, with its defaults (spec §7); a name missing here does not exist. */
  readonly sysctlDefaults: Readonly<Partial<SysctlValues>>;
}

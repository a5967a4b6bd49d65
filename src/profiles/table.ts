import type { Profile, ProfileSwitches, SysctlValues } from './profile.js';

// The profile table (spec §0, §7). Each era is a base record; versions and variants
// override only the switches they name. Values marked (inferred) in the spec are
// defaults a user can still override with --sysctl where they are sysctls.

const MSS_TABLE_3_10 = [64, 512, 536, 1024, 1440, 1460, 4312, 8960] as const;
const MSS_TABLE_IPV4 = [536, 1300, 1440, 1460] as const;
// net/ipv6/syncookies.c msstab. 3.10 (SHA-1 cookie_hash, COUNTER_TRIES 4): {64, 512, 536,
// 1280−60, 1480−60, 1500−60, 4460−60, 9000−60}; from 3.13 (the "RFC 2460 §8.3" table, read
// in the 4.x–6.x file): {1280−60, 1480−60, 1500−60, 9000−60}.
const MSS_TABLE_3_10_IPV6 = [64, 512, 536, 1220, 1420, 1440, 4400, 8940] as const;
const MSS_TABLE_IPV6 = [1220, 1420, 1440, 8940] as const;

const eraA: ProfileSwitches = {
  synDropRule: 'young',
  synQueueSizing: 'pow2',
  synQueueFullCmp: '>=',
  syncookiesAlwaysMode: false,
  hasTwRecycle: true,
  pawsPassiveRule: 'tsOnly',
  unprovenPeerRule: 'neverProven',
  cookieOverflowWindowMs: 3_000,
  cookieRejectFutureOverflow: false,
  cookieOverflowStampEverySecond: false,
  cookieMaxAgeMinutes: 4,
  cookieMssTable: MSS_TABLE_3_10,
  cookieMssTable6: MSS_TABLE_3_10_IPV6,
  // auto_flowlabels arrived in 3.17 and is on by default from 4.2 (inferred); 3.10 sends 0.
  ipv6AutoFlowLabel: false,
  syncookiesFailedOnNoOverflow: true,
  cookieCountsListenDrop: true,
  synackTimer: 'listener200ms',
  tsOffsets: 'none',
  requestOowRateLimit: false,
  requestRejectedAckPath: 'listenerRst',
  requestTsRecentUpdate: 'request',
  requestRstRule: 'inWindow',
  requestTsecrCheck: false,
  timewaitSynIsn: 'continue',
  timewaitPawsCounter: 'PAWSEstab',
  timewaitCounting: 'atExpiry',
  listenOverflowDropReason: false,
  hasDropReasons: false,
  synFloodLog: 'v3.10',
  initialRcvWndSegments: 10,
  unscaledWindowLosesFin: false,
  windowRoundsFreeSpaceDown: false,
  ctlReplyIpId: 'hashed',
  tsClockHz: 1000,
  counters: { hasSynRetransCounters: false, hasPawsPassive: true, hasPawsTimewait: false, hasTsecrRejected: false },
};

const eraB: ProfileSwitches = {
  ...eraA,
  synQueueSizing: 'backlog',
  syncookiesAlwaysMode: true,
  pawsPassiveRule: 'alsoNoTs',
  cookieOverflowWindowMs: 120_000,
  cookieOverflowStampEverySecond: true,
  cookieMaxAgeMinutes: 2,
  cookieMssTable: MSS_TABLE_IPV4,
  cookieMssTable6: MSS_TABLE_IPV6,
  ipv6AutoFlowLabel: true,
  syncookiesFailedOnNoOverflow: false,
  cookieCountsListenDrop: false,
  synackTimer: 'perRequest',
  requestOowRateLimit: true,
  requestRejectedAckPath: 'cookieCheck',
  synFloodLog: 'v4.4',
  initialRcvWndSegments: 20,
  counters: { hasSynRetransCounters: true, hasPawsPassive: true, hasPawsTimewait: false, hasTsecrRejected: false },
};

const eraC: ProfileSwitches = { ...eraB, synDropRule: 'full', tsOffsets: 'perConn' };

const eraD: ProfileSwitches = {
  ...eraC,
  hasTwRecycle: false,
  unprovenPeerRule: 'rttMetric',
  timewaitSynIsn: 'clock',
  tsOffsets: 'perPair',
  counters: { hasSynRetransCounters: true, hasPawsPassive: false, hasPawsTimewait: false, hasTsecrRejected: false },
};

const eraE: ProfileSwitches = {
  ...eraD,
  cookieRejectFutureOverflow: true,
  ctlReplyIpId: 'zero',
  initialRcvWndSegments: 0,
  unscaledWindowLosesFin: true,
};

/**
 * 5.18+: TcpExtTW / TWKilled move when the socket enters TIME_WAIT, in __inet_twsk_schedule
 * ("tcp/dccp: no longer use twsk_net(tw) from tw_timer_handler()", net-next January 2022, after
 * 5.17-rc1); measured at entry on 6.1.20, 6.1.170 and 6.18 (spec §2.4, §8c).
 */
const countsTimewaitOnEntry = { timewaitCounting: 'onEnter' } as const;

const eraF: ProfileSwitches = {
  ...eraE,
  requestTsRecentUpdate: 'child',
  requestRstRule: 'exactSeq',
  requestTsecrCheck: true,
  windowRoundsFreeSpaceDown: true,
  timewaitSynIsn: 'continue',
  synQueueFullCmp: '>',
  tsOffsets: 'perTuple',
  timewaitPawsCounter: 'PAWSTimewait',
  timewaitCounting: 'onEnter',
  listenOverflowDropReason: true,
  hasDropReasons: true,
  synFloodLog: 'v6.2',
  counters: { hasSynRetransCounters: true, hasPawsPassive: false, hasPawsTimewait: true, hasTsecrRejected: true },
};

const sysctlsOld: Partial<SysctlValues> = {
  'net.ipv4.tcp_syncookies': 1,
  'net.ipv4.tcp_timestamps': 1,
  'net.ipv4.tcp_tw_recycle': 0,
  'net.ipv4.tcp_tw_reuse': 0,
  'net.core.somaxconn': 128,
  'net.ipv4.tcp_max_syn_backlog': 1024,
  'net.ipv4.tcp_synack_retries': 5,
  'net.ipv4.tcp_syn_retries': 6,
  'net.ipv4.tcp_abort_on_overflow': 0,
  'net.ipv4.tcp_fin_timeout': 60,
  'net.ipv4.tcp_max_tw_buckets': 131072,
  'net.ipv4.tcp_window_scaling': 1,
  'net.ipv4.tcp_sack': 1,
  'net.ipv4.tcp_rfc1337': 0,
  // 2 = answer a peer that asks (ECE|CWR on its SYN), since 2.6.31.
  'net.ipv4.tcp_ecn': 2,
  // tcp_rmem[1] 87380, [2] 6 MiB (the memory-dependent max of a machine with a few GiB or
  // more): wscale 7 (spec §1.10); rmem_max 212992. A small guest has a smaller [2]: with
  // 256 MiB the kernels of §8c offered wscale 5.
  'net.core.rmem_max': 212992,
  'net.ipv4.tcp_rmem': [4096, 87380, 6291456],
};

/** tcp_invalid_ratelimit exists from 4.0 (it rate-limits the out-of-window answers). */
const sysctlsEraB: Partial<SysctlValues> = { ...sysctlsOld, 'net.ipv4.tcp_invalid_ratelimit': 500 };

function without(values: Partial<SysctlValues>, name: keyof SysctlValues): Partial<SysctlValues> {
  const copy = { ...values };
  delete copy[name];
  return copy;
}

const sysctlsEraD = without(sysctlsEraB, 'net.ipv4.tcp_tw_recycle');
const sysctlsEraE: Partial<SysctlValues> = {
  ...sysctlsEraD,
  'net.ipv4.tcp_tw_reuse': 2,
  'net.core.somaxconn': 4096,
  'net.ipv4.tcp_max_syn_backlog': 2048,
  // "tcp: up initial rmem to 128KB and SYN rwin to around 64KB": the receive space gives the
  // 65160 / 64240 SYN-ACK windows of §1.10.
  'net.ipv4.tcp_rmem': [4096, 131072, 6291456],
};

/** 6.x: tcp_rmem[2] 32 MiB on the host (24 GiB): wscale 10 (spec §1.10, host-kernel-facts). */
const sysctlsEraF: Partial<SysctlValues> = { ...sysctlsEraE, 'net.ipv4.tcp_rmem': [4096, 131072, 33554432] };

function profile(
  name: string,
  era: string,
  description: string,
  aliases: string[],
  switches: ProfileSwitches,
  sysctlDefaults: Partial<SysctlValues>,
): Profile {
  return Object.freeze({
    name,
    era,
    description,
    aliases: Object.freeze(aliases),
    switches: Object.freeze({ ...switches, counters: Object.freeze({ ...switches.counters }) }),
    sysctlDefaults: Object.freeze({ ...sysctlDefaults }),
  });
}

/** 6.1.141+ (§8a, §8c): the 6.13 SYN-queue comparison backported, everything else 6.1's. */
const sixOneLate: ProfileSwitches = { ...eraE, ...countsTimewaitOnEntry, hasDropReasons: true, synQueueFullCmp: '>' };

/** 6.12.0 (§8a, §8c): era E counting, 6.2+ flood text, and tcp_tw_isn no longer lost (6.10). */
const sixTwelve: ProfileSwitches = { ...eraE, ...countsTimewaitOnEntry, hasDropReasons: true, synFloodLog: 'v6.2', timewaitSynIsn: 'continue' };

/**
 * Debian and Ubuntu build with HZ=250: up to 4.12 their TSvals step by 1 every 4 ms (spec
 * §8c). The profiles their aliases name (ubuntu16.04 → 4.4-late, debian9 → 4.9-late) carry it.
 */
const debianUbuntuHz = { tsClockHz: 250 } as const;

/** Newest last; `6.x` is the default. */
export const PROFILES: readonly Profile[] = [
  profile('3.10', 'A', 'vanilla 3.10: young rule, 200 ms prune timer, tcp_syncookies=2 acts as 1', [], eraA, sysctlsOld),
  profile(
    'centos7',
    'A',
    "RHEL/CentOS 7: 3.10 with RHEL's tcp_syncookies=2 backport; young rule kept",
    ['rhel7'],
    { ...eraA, syncookiesAlwaysMode: true, synFloodLog: 'v4.4' },
    sysctlsOld,
  ),
  profile('4.4', 'B', '4.4.1 as first released (measured, §8a): young rule, per-request SYN-ACK timers', [], { ...eraB, cookieCountsListenDrop: true }, sysctlsEraB),
  profile('4.4-late', 'B', '4.4.178+ (measured, §8a): stable backport of the "full" SYN rule; ubuntu16.04 = an updated Xenial 4.4.0 kernel, which takes the 4.4.y stable updates; HZ=250 TS clock (4 ms steps)', ['ubuntu16.04'], { ...eraB, cookieCountsListenDrop: true, synDropRule: 'full', ...debianUbuntuHz }, sysctlsEraB),
  profile('4.9', 'B', '4.9.154 as released (measured, §8a): young rule', [], eraB, sysctlsEraB),
  profile('4.9-late', 'B', '4.9.166+ (4.9.337 measured, §8a): stable backport of the "full" SYN rule; debian9 = Debian 9\'s last kernel, 4.9.337; HZ=250 TS clock (4 ms steps)', ['debian9'], { ...eraB, synDropRule: 'full', ...debianUbuntuHz }, sysctlsEraB),
  profile('4.10', 'C', '4.10.1–4.10.17 (measured, §8a, §8c): first release dropping SYNs when the accept queue is full; random TS offsets per connection', [], eraC, sysctlsEraB),
  profile('4.15', 'D', 'tcp_tw_recycle removed (4.12); TS offsets per address pair; ubuntu18.04 = Bionic\'s 4.15.0', ['ubuntu18.04'], eraD, sysctlsEraD),
  profile('4.19', 'D', 'tcp_tw_reuse default 2; ACKs and RSTs of the control socket carry IP id 0 (4.17+); debian10 = Buster\'s 4.19.y (4.19.222 measured, §8a)', ['debian10'], { ...eraD, ctlReplyIpId: 'zero' }, { ...sysctlsEraD, 'net.ipv4.tcp_tw_reuse': 2 }),
  profile('5.4', 'E', 'somaxconn 4096, tcp_max_syn_backlog max(128, ehash/128); ubuntu20.04 = Focal\'s 5.4.0 (5.4.59 measured, §8a)', ['ubuntu20.04'], eraE, sysctlsEraE),
  profile('5.10', 'E', 'debian11 = Bullseye\'s 5.10.y', ['debian11'], eraE, sysctlsEraE),
  profile('5.15', 'E', 'ubuntu22.04 = Jammy\'s 5.15.0 (5.15.0 measured, §8a)', ['ubuntu22.04'], eraE, sysctlsEraE),
  profile('6.1', 'E', '6.1.0–6.1.140 (6.1.20 measured, §8a, §8c): drop reasons exist (5.17+), none on the listen path', [], { ...eraE, ...countsTimewaitOnEntry, hasDropReasons: true }, sysctlsEraE),
  profile('6.1-late', 'E', '6.1.141+ (6.1.158, 6.1.170 measured, §8a, §8c): the 6.13 SYN-queue comparison (qlen > backlog), old flood text', [], sixOneLate, sysctlsEraE),
  profile(
    '6.1-latest',
    'E',
    "Debian 12's current 6.1.y (6.1.192 measured by verify --vm): 6.1-late plus two later stable backports, the RFC 5961 exact-seq RST for a request (challenge ACK) and ts_recent left to the child; debian12 = an updated Debian 12 (6.1.0-57)",
    ['debian12'],
    { ...sixOneLate, requestRstRule: 'exactSeq', requestTsRecentUpdate: 'child', windowRoundsFreeSpaceDown: true },
    sysctlsEraE,
  ),
  profile('6.8', 'E', 'flood warning names address:port (6.2+); ubuntu24.04 = Noble\'s 6.8.0', ['ubuntu24.04'], { ...eraE, ...countsTimewaitOnEntry, hasDropReasons: true, synFloodLog: 'v6.2' }, sysctlsEraE),
  profile('6.12', 'E', '6.12.0 as released (measured, §8a, §8c): SYN queue holds the backlog (>=), any in-window RST removes a request, the TIME_WAIT reuse ISN continues (+65537, fixed in 6.10)', [], sixTwelve, sysctlsEraE),
  profile(
    '6.12-late',
    'E',
    "6.12.y with the stable backports of the 6.13 SYN-queue comparison (qlen > backlog), the RFC 5961 exact-seq RST for a request and ts_recent left to the child (measured on Debian's 6.12.118 by verify --vm); debian13 = Trixie's 6.12.y",
    ['debian13'],
    { ...sixTwelve, synQueueFullCmp: '>', requestTsRecentUpdate: 'child', requestRstRule: 'exactSeq', windowRoundsFreeSpaceDown: true },
    sysctlsEraE,
  ),
  profile(
    '6.x',
    'F',
    'newest (6.13+, the host runs 6.18): both queues hold backlog + 1; TCP_LISTEN_OVERFLOW drop reason',
    ['6.13', '6.18', 'latest'],
    eraF,
    sysctlsEraF,
  ),
];

export const DEFAULT_PROFILE_NAME = '6.x';

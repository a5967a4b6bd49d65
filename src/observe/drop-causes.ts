// The one rule model behind `syndrop explain` (the emulated server) and `syndrop doctor`
// (a real host or a bundle from one): for each cause of a SYN drop, what is dropped, the
// rule of that kernel version, the spec section and the fix, in one wording. The two front
// ends gather their own evidence (events and verdicts here, counter deltas, ss lines and
// kernel log lines there) and take everything else from this file.

/** The profile switches the wording depends on (spec §0). */
export interface RuleSwitches {
  synDropRule: string;
  hasTwRecycle: boolean;
  synQueueFullCmp: string;
  synQueueSizing: string;
}

export interface RuleContext {
  switches: RuleSwitches;
  sysctls: Readonly<Record<string, number>>;
  /** The listener as `ADDR:PORT`, or 'the listener' when it is not known. */
  where: string;
  /** Who reads the fix: the emulator has `syndrop sysctl`/`events`, a real host has sysctl and ss. */
  audience: 'emulator' | 'host';
}

export type Severity = 'drop' | 'warning' | 'info';

/** The shared part of a finding: everything but the evidence and the counts. */
export interface CauseText {
  severity: Severity;
  title: string;
  what: string;
  rule: string;
  spec: string;
  fix: string[];
}

/** A finding as both front ends print it. */
export interface FindingBlock extends CauseText {
  count: number;
  since: string | null;
  last: string | null;
  /** Counter rate over the reading interval (doctor's live mode); explain has none. */
  rate?: string | null;
  evidence: string[];
}

const sysctlText = (ctx: RuleContext, name: string): number | string => ctx.sysctls[name] ?? '?';

/** Per-host PAWS on SYN under tcp_tw_recycle (spec §2.3, §1.1 C8a, §1.2 D5). */
export function pawsCause(ctx: RuleContext, behindNat: boolean): CauseText {
  const emulatorHint = ctx.audience === 'emulator' ? '   (syndrop sysctl net.ipv4.tcp_tw_recycle=0)' : '';
  return {
    severity: 'drop',
    title: behindNat ? 'SYNs from clients behind a NAT dropped by tcp_tw_recycle' : 'SYNs dropped by the per-host PAWS check (tcp_tw_recycle)',
    what: `SYNs to ${ctx.where} dropped silently; clients see only SYN retransmits, "sometimes it connects, sometimes not"`,
    rule:
      'tcp_tw_recycle=1 makes the server remember the last TSval per peer address for 60 s (TCP_PAWS_MSL) after a connection it closed; a SYN from that address whose TSval is more than 1 behind is dropped (tcp_peer_is_proven). Hosts behind one NAT share the address but not the clock.',
    spec: '§2.3, §1.1 C8a, §1.2 D5',
    fix: [
      `sysctl -w net.ipv4.tcp_tw_recycle=0${emulatorHint}`,
      'tcp_tw_recycle was removed in Linux 4.12 because of exactly this; upgrade, or never enable it on servers reachable through NAT',
    ],
  };
}

/** The accept queue (completed handshakes) is full (spec §1.5, §1.1 C3 / §1.2 D2, §3.1 R10). */
export function acceptOverflowCause(ctx: RuleContext): CauseText {
  return {
    severity: 'drop',
    title: 'Accept queue overflow: the application accepts too slowly',
    what: `connections to ${ctx.where} dropped because the accept queue (completed handshakes waiting for accept()) is full`,
    rule:
      ctx.switches.synDropRule === 'young'
        ? 'accept queue full and more than one young request → the SYN is dropped; otherwise the SYN-ACK still goes out and the third ACK overflows (3.10 / 4.4 / 4.9 as released)'
        : 'accept queue full → every SYN is dropped (4.10+, commit 5ea8ea2cb7f1); a third ACK that finds it full is dropped too',
    spec: '§1.5, §1.1 C3 / §1.2 D2, §3.1 R10',
    fix: [
      'make the application call accept() faster (more workers, shorter work per connection): raising the backlog only delays the overflow',
      `the backlog is min(listen() backlog, net.core.somaxconn = ${sysctlText(ctx, 'net.core.somaxconn')}); raise both only to absorb short bursts`,
      'net.ipv4.tcp_abort_on_overflow=1 makes clients fail fast with RST instead of hanging',
    ],
  };
}

/** `ss -lnt` evidence for a listener's accept queue (spec §5.5). */
export function acceptQueueEvidence(recvQ: number, sendQ: number): string {
  return `ss -lnt: Recv-Q ${recvQ} / Send-Q ${sendQ} (accept queue holds Send-Q + 1)`;
}

/** What this kernel does with a SYN while the accept queue is full (spec §1.1 C3, §1.2 D2). */
export function synDropRuleEvidence(ctx: RuleContext, droppedSyns: number): string {
  const how = ctx.switches.synDropRule === 'young' ? 'this kernel drops only when more than one young request waits' : 'this kernel drops every SYN while the queue is full';
  return `${droppedSyns} SYNs dropped at SYN time (${how})`;
}

/** SYN queue full and tcp_syncookies=0 (spec §1.3, §1.4). */
export function synQueueFullCause(ctx: RuleContext): CauseText {
  const sw = ctx.switches;
  const full = sw.synQueueSizing === 'pow2' ? 'qlen ≥ 2^max_qlen_log' : `qlen ${sw.synQueueFullCmp} backlog`;
  return {
    severity: 'drop',
    title: 'SYN queue full with syncookies off: SYN flood or slow handshakes',
    what: `SYNs to ${ctx.where} dropped because the SYN queue (half-open requests) is full and tcp_syncookies=0`,
    rule: `SYN queue full (${full}) and tcp_syncookies=0 → tcp_syn_flood_action drops the SYN`,
    spec: '§1.3, §1.4',
    fix: [
      'sysctl -w net.ipv4.tcp_syncookies=1 (answer with cookies when the queue is full)',
      ctx.audience === 'emulator'
        ? 'find the flood source: syndrop events --reason TCP_REQQFULLDROP'
        : 'find the flood source: ss -n state syn-recv lists the half-open peers; the kernel log names the listener ("Possible SYN flooding on port …")',
    ],
  };
}

/** The last-quarter rule for peers without a remembered RTT (spec §1.1 C8b, §1.2 D5). */
export function unprovenPeerCause(_ctx: RuleContext): CauseText {
  return {
    severity: 'drop',
    title: 'New peers dropped: SYN queue in its last quarter and syncookies off',
    what: `SYNs from peers without a remembered RTT dropped while the SYN queue holds more than 3/4 of tcp_max_syn_backlog`,
    rule: 'syncookies=0 && (tcp_max_syn_backlog − qlen) < tcp_max_syn_backlog/4 && !tcp_peer_is_proven → drop (only ListenDrops counts it)',
    spec: '§1.1 C8b, §1.2 D5',
    fix: ['sysctl -w net.ipv4.tcp_syncookies=1', 'raise net.ipv4.tcp_max_syn_backlog'],
  };
}

export function maxSynBacklogEvidence(ctx: RuleContext): string {
  return `net.ipv4.tcp_max_syn_backlog = ${sysctlText(ctx, 'net.ipv4.tcp_max_syn_backlog')}`;
}

/** SYN cookies answered for the listener (spec §1.3, §1.7, §3.4). */
export function cookiesCause(ctx: RuleContext): CauseText {
  return {
    severity: 'warning',
    title: 'SYN cookies in use',
    what: 'connections are being answered with stateless SYN cookies: they work, but without timestamps in the SYN they lose window scaling and SACK',
    rule: (ctx.sysctls['net.ipv4.tcp_syncookies'] ?? 0) === 2 ? 'tcp_syncookies=2: every SYN gets a cookie' : 'the SYN queue was full: tcp_syn_flood_action chose a cookie',
    spec: '§1.3, §3.4',
    fix: ['if this is a flood, cookies are doing their job; if not, the SYN queue is too small for the load: raise the listen() backlog and net.core.somaxconn'],
  };
}

/** Counter evidence shared by every cookie finding. */
export function cookieCounterEvidence(counters: Readonly<Record<string, number>>): string[] {
  const get = (name: string): number => counters[name] ?? 0;
  return [
    `TcpExtSyncookiesSent ${get('TcpExtSyncookiesSent')}, Recv ${get('TcpExtSyncookiesRecv')}, Failed ${get('TcpExtSyncookiesFailed')}`,
    `TcpExtTCPReqQFullDoCookies ${get('TcpExtTCPReqQFullDoCookies')}`,
  ];
}

/** Nothing listens on the port (spec §9b #102). */
export function noListenerCause(ctx: RuleContext, refused: number, ports: string[]): CauseText {
  return {
    severity: 'info',
    title: 'Connections refused: nothing listens on the port',
    what: `${refused} segments answered with RST because no socket matched${ports.length > 0 ? ` (ports ${ports.join(', ')})` : ''}`,
    rule: 'no socket for the 4-tuple or the port → tcp_v4_send_reset',
    spec: '§9b #102',
    fix: [ctx.audience === 'emulator' ? 'point the client at the listening port, or start syndrop run with --port' : 'point the client at the listening port, or start the service'],
  };
}

/** Half-open requests whose SYN-ACK retransmissions ran out (spec §4.1–§4.3). */
export function requestsExpiredCause(ctx: RuleContext, expired: number): CauseText {
  return {
    severity: 'warning',
    title: 'Half-open requests expired without a third ACK',
    what: `${expired} requests were dropped after their SYN-ACK retransmissions ran out`,
    rule: 'request timer: num_timeout ≥ tcp_synack_retries (lowered when the SYN queue is more than half full of old requests)',
    spec: '§4.1–§4.3',
    fix: [
      ctx.audience === 'emulator'
        ? 'spoofed SYNs (a flood) or a path dropping SYN-ACKs/ACKs: check with syndrop events --reason REQSK_EXPIRED and a capture (--pcap)'
        : 'spoofed SYNs (a flood) or a path dropping SYN-ACKs/ACKs: check with ss -n state syn-recv and a capture (tcpdump "tcp[tcpflags] & tcp-syn != 0")',
    ],
  };
}

/** listen()'s backlog cut to net.core.somaxconn (spec §5.1, §5.5). */
export function backlogClampedCause(ctx: RuleContext): CauseText {
  const somaxconn = sysctlText(ctx, 'net.core.somaxconn');
  return {
    severity: 'warning',
    title: 'Listen backlog clamped by net.core.somaxconn',
    what: `the accept queue of ${ctx.where} is limited to net.core.somaxconn = ${somaxconn}, whatever backlog the application passed to listen()`,
    rule: 'listen(fd, backlog): backlog = min((unsigned) backlog, net.core.somaxconn), read once at listen() time; the accept queue holds backlog + 1',
    spec: '§5.1, §5.5',
    fix: [
      `raise net.core.somaxconn (sysctl -w net.core.somaxconn=N) above ${somaxconn}, then restart the service or make it call listen() again: the limit is taken at listen() time`,
      'and pass the backlog you want to listen() (nginx: listen … backlog=N; -1 means somaxconn)',
    ],
  };
}

/** tcp_syn_flood_action's one-time warning (spec §1.3). */
export function floodLogCause(ctx: RuleContext, sendingCookies: boolean): CauseText {
  return {
    severity: sendingCookies ? 'warning' : 'drop',
    title: `Kernel log: "Possible SYN flooding" on ${ctx.where}`,
    what: `the SYN queue of ${ctx.where} was full and the kernel ${sendingCookies ? 'answered with SYN cookies' : 'dropped SYNs (tcp_syncookies=0)'}; it logs this once per listener`,
    rule: 'SYN queue full (or tcp_syncookies=2) → tcp_syn_flood_action warns once per listener: "Sending cookies" when tcp_syncookies ≠ 0, else "Dropping request"; 6.2+ name the listener as address:port',
    spec: '§1.3',
    fix: sendingCookies ? cookiesCause(ctx).fix : synQueueFullCause(ctx).fix,
  };
}

/** One finding as text: the layout `syndrop explain` and `syndrop doctor` share. */
export function renderFindingBlock(finding: FindingBlock, index: number): string[] {
  const lines = [`${index + 1}. ${finding.title}  [${finding.severity}, ${finding.count}]`, `   What:     ${finding.what}`];
  if (finding.since !== null) lines.push(`   Since:    ${finding.since}${finding.last !== null && finding.last !== finding.since ? ` (last ${finding.last})` : ''}`);
  if (finding.rate) lines.push(`   Rate:     ${finding.rate}`);
  lines.push(`   Rule:     ${finding.rule} (spec ${finding.spec})`);
  for (const e of finding.evidence) lines.push(`   Evidence: ${e}`);
  for (const f of finding.fix) lines.push(`   Fix:      ${f}`);
  lines.push('');
  return lines;
}

// `syndrop explain`: turns counters, events, sysctls and the profile into a short
// diagnosis per problem — what is dropped, since when, by which rule, the evidence, the fix.
// Pure: the running instance hands in its snapshot.

import type { EventRecord } from './snapshot.js';
import type { ListenerSnapshot } from './ss.js';

export interface ExplainInput {
  profile: { name: string; description: string; switches: { synDropRule: string; hasTwRecycle: boolean; synQueueFullCmp: string; synQueueSizing: string } };
  sysctls: Record<string, number>;
  counters: Record<string, number>;
  verdicts: Record<string, number>;
  listeners: ListenerSnapshot[];
  /** Recent events (the ring), oldest first. */
  events: EventRecord[];
}

export interface Problem {
  id: 'paws-nat' | 'paws-passive' | 'accept-overflow' | 'syn-queue-full' | 'unproven-peer' | 'cookies' | 'no-listener' | 'requests-expired';
  severity: 'drop' | 'warning' | 'info';
  title: string;
  /** What is dropped, in plain words. */
  what: string;
  count: number;
  /** First and last time seen (ISO), when events still hold them. */
  since: string | null;
  last: string | null;
  rule: string;
  spec: string;
  evidence: string[];
  fix: string[];
}

const get = (record: Record<string, number>, name: string): number => record[name] ?? 0;

function timesOf(events: EventRecord[], verdicts: string[]): { since: string | null; last: string | null; matching: EventRecord[] } {
  const matching = events.filter((e) => verdicts.includes(e.verdict));
  return { since: matching[0]?.time ?? null, last: matching.at(-1)?.time ?? null, matching };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function address(endpoint: string): string {
  return endpoint.split(':')[0]!;
}

/** Does one address show TSvals that cannot come from one clock? (NAT evidence) */
function unrelatedClocks(events: EventRecord[], peer: string): { clocks: number; samples: Array<{ t: number; tsval: number }> } {
  const samples = events
    .filter((e) => address(e.src) === peer && e.tsval !== null && (e.flags === 'S' || e.verdict === 'DROP_PAWS_PASSIVE'))
    .map((e) => ({ t: e.t, tsval: e.tsval! }));
  // Group samples into clocks: a sample continues a clock if its TSval advanced by about
  // the elapsed time (±1 s of skew at 1000 Hz, +1 s grace for 100/250 Hz clients).
  const clocks: Array<{ t: number; tsval: number }> = [];
  for (const s of samples) {
    const same = clocks.find((c) => {
      const advanced = (s.tsval - c.tsval) | 0;
      return advanced >= -1 && advanced <= Math.max(2000, (s.t - c.t) * 1.1 + 1000);
    });
    if (same !== undefined) {
      same.t = s.t;
      same.tsval = s.tsval;
    } else clocks.push({ ...s });
  }
  return { clocks: clocks.length, samples };
}

export function explain(input: ExplainInput): Problem[] {
  const { counters, verdicts, events, sysctls, profile } = input;
  const problems: Problem[] = [];
  const listener = input.listeners[0];
  const where = listener ? `${listener.localAddress}:${listener.localPort}` : 'the listener';

  // --- per-host PAWS (tw_recycle) ---
  const paws = get(counters, 'TcpExtPAWSPassive') || get(verdicts, 'DROP_PAWS_PASSIVE');
  if (paws > 0) {
    const { since, last, matching } = timesOf(events, ['DROP_PAWS_PASSIVE']);
    const peers = unique(matching.map((e) => address(e.src)));
    const evidence = [`TcpExtPAWSPassive = ${paws}: SYNs rejected by the per-host timestamp check`];
    let natPeer: string | null = null;
    for (const peer of peers) {
      const { clocks, samples } = unrelatedClocks(events, peer);
      if (clocks >= 2) {
        natPeer = peer;
        const values = samples.slice(0, 4).map((s) => s.tsval).join(', ');
        evidence.push(`one source address ${peer}, ${clocks} unrelated TSval clocks (${values}…) → several clients behind a NAT`);
      }
    }
    if (peers.length > 0 && natPeer === null) evidence.push(`rejected peers: ${peers.slice(0, 5).join(', ')}`);
    evidence.push(`net.ipv4.tcp_tw_recycle = ${sysctls['net.ipv4.tcp_tw_recycle'] ?? 0}, net.ipv4.tcp_timestamps = ${sysctls['net.ipv4.tcp_timestamps'] ?? 0}`);
    problems.push({
      id: natPeer !== null ? 'paws-nat' : 'paws-passive',
      severity: 'drop',
      title: natPeer !== null ? 'SYNs from clients behind a NAT dropped by tcp_tw_recycle' : 'SYNs dropped by the per-host PAWS check (tcp_tw_recycle)',
      what: `SYNs to ${where} dropped silently; clients see only SYN retransmits, "sometimes it connects, sometimes not"`,
      count: paws,
      since,
      last,
      rule:
        'tcp_tw_recycle=1 makes the server remember the last TSval per peer address for 60 s (TCP_PAWS_MSL) after a connection it closed; a SYN from that address whose TSval is more than 1 behind is dropped (tcp_peer_is_proven). Hosts behind one NAT share the address but not the clock.',
      spec: '§2.3, §1.1 C8a, §1.2 D5',
      evidence,
      fix: [
        'sysctl -w net.ipv4.tcp_tw_recycle=0   (syndrop sysctl net.ipv4.tcp_tw_recycle=0)',
        'tcp_tw_recycle was removed in Linux 4.12 because of exactly this; upgrade, or never enable it on servers reachable through NAT',
      ],
    });
  }

  // --- accept queue overflow ---
  const overflows = get(counters, 'TcpExtListenOverflows');
  if (overflows > 0) {
    const verdictNames = ['DROP_ACCEPTQ_FULL', 'DROP_ACCEPTQ_FULL_YOUNG', 'REQ_ACCEPTQ_OVERFLOW', 'REQ_ACCEPTQ_OVERFLOW_ABORT', 'COOKIE_ACCEPTQ_FULL'];
    const { since, last } = timesOf(events, verdictNames);
    const atSyn = get(verdicts, 'DROP_ACCEPTQ_FULL') + get(verdicts, 'DROP_ACCEPTQ_FULL_YOUNG');
    const atAck = get(verdicts, 'REQ_ACCEPTQ_OVERFLOW') + get(verdicts, 'COOKIE_ACCEPTQ_FULL');
    const resets = get(verdicts, 'REQ_ACCEPTQ_OVERFLOW_ABORT');
    const evidence = [`TcpExtListenOverflows = ${overflows}, TcpExtListenDrops = ${get(counters, 'TcpExtListenDrops')}`];
    if (listener) evidence.push(`ss -lnt: Recv-Q ${listener.acceptQueueLength} / Send-Q ${listener.acceptQueueMax} (accept queue holds Send-Q + 1)`);
    if (atSyn > 0) evidence.push(`${atSyn} SYNs dropped at SYN time (${profile.switches.synDropRule === 'young' ? 'this kernel drops only when more than one young request waits' : 'this kernel drops every SYN while the queue is full'})`);
    if (atAck > 0) evidence.push(`${atAck} third ACKs dropped: those clients think they are connected while the server retransmits its SYN-ACK`);
    if (resets > 0) evidence.push(`${resets} clients reset (tcp_abort_on_overflow=1): they see "connection reset by peer"`);
    problems.push({
      id: 'accept-overflow',
      severity: 'drop',
      title: 'Accept queue overflow: the application accepts too slowly',
      what: `connections to ${where} dropped because the accept queue (completed handshakes waiting for accept()) is full`,
      count: overflows,
      since,
      last,
      rule:
        profile.switches.synDropRule === 'young'
          ? 'accept queue full and more than one young request → the SYN is dropped; otherwise the SYN-ACK still goes out and the third ACK overflows (3.10 / 4.4 / 4.9 as released)'
          : 'accept queue full → every SYN is dropped (4.10+, commit 5ea8ea2cb7f1); a third ACK that finds it full is dropped too',
      spec: '§1.5, §1.1 C3 / §1.2 D2, §3.1 R10',
      evidence,
      fix: [
        'make the application call accept() faster (more workers, shorter work per connection): raising the backlog only delays the overflow',
        `the backlog is min(listen() backlog, net.core.somaxconn = ${sysctls['net.core.somaxconn'] ?? '?'}); raise both only to absorb short bursts`,
        'net.ipv4.tcp_abort_on_overflow=1 makes clients fail fast with RST instead of hanging',
      ],
    });
  }

  // --- SYN queue full, cookies off ---
  const reqqDrop = get(counters, 'TcpExtTCPReqQFullDrop');
  if (reqqDrop > 0) {
    const { since, last, matching } = timesOf(events, ['DROP_REQQ_FULL']);
    const sources = unique(matching.map((e) => address(e.src)));
    problems.push({
      id: 'syn-queue-full',
      severity: 'drop',
      title: 'SYN queue full with syncookies off: SYN flood or slow handshakes',
      what: `SYNs to ${where} dropped because the SYN queue (half-open requests) is full and tcp_syncookies=0`,
      count: reqqDrop,
      since,
      last,
      rule: `SYN queue full (${profile.switches.synQueueSizing === 'pow2' ? 'qlen ≥ 2^max_qlen_log' : `qlen ${profile.switches.synQueueFullCmp} backlog`}) and tcp_syncookies=0 → tcp_syn_flood_action drops the SYN`,
      spec: '§1.3, §1.4',
      evidence: [
        `TcpExtTCPReqQFullDrop = ${reqqDrop}, TcpExtListenDrops = ${get(counters, 'TcpExtListenDrops')}`,
        listener ? `SYN queue ${listener.synQueueLength}/${listener.synQueueMax} half-open requests` : '',
        sources.length > 0 ? `${sources.length} distinct source address(es) among recent drops` : '',
      ].filter((x) => x !== ''),
      fix: ['sysctl -w net.ipv4.tcp_syncookies=1 (answer with cookies when the queue is full)', 'find the flood source: syndrop events --reason TCP_REQQFULLDROP'],
    });
  }

  // --- unproven peers ---
  const unproven = get(verdicts, 'DROP_UNPROVEN_PEER');
  if (unproven > 0) {
    const { since, last } = timesOf(events, ['DROP_UNPROVEN_PEER']);
    problems.push({
      id: 'unproven-peer',
      severity: 'drop',
      title: 'New peers dropped: SYN queue in its last quarter and syncookies off',
      what: `SYNs from peers without a remembered RTT dropped while the SYN queue holds more than 3/4 of tcp_max_syn_backlog`,
      count: unproven,
      since,
      last,
      rule: 'syncookies=0 && (tcp_max_syn_backlog − qlen) < tcp_max_syn_backlog/4 && !tcp_peer_is_proven → drop (only ListenDrops counts it)',
      spec: '§1.1 C8b, §1.2 D5',
      evidence: [`ListenDrops without ListenOverflows/TCPReqQFullDrop: ${unproven} drops by this rule`, `net.ipv4.tcp_max_syn_backlog = ${sysctls['net.ipv4.tcp_max_syn_backlog'] ?? '?'}`],
      fix: ['sysctl -w net.ipv4.tcp_syncookies=1', 'raise net.ipv4.tcp_max_syn_backlog'],
    });
  }

  // --- cookies in use ---
  const cookiesSent = get(counters, 'TcpExtSyncookiesSent');
  if (cookiesSent > 0) {
    problems.push({
      id: 'cookies',
      severity: 'warning',
      title: 'SYN cookies in use',
      what: 'connections are being answered with stateless SYN cookies: they work, but without timestamps in the SYN they lose window scaling and SACK',
      count: cookiesSent,
      since: timesOf(events, ['SYN_COOKIE', 'SYN_COOKIE_LISTENDROP']).since,
      last: timesOf(events, ['SYN_COOKIE', 'SYN_COOKIE_LISTENDROP']).last,
      rule: (sysctls['net.ipv4.tcp_syncookies'] ?? 0) === 2 ? 'tcp_syncookies=2: every SYN gets a cookie' : 'the SYN queue was full: tcp_syn_flood_action chose a cookie',
      spec: '§1.3, §3.4',
      evidence: [
        `TcpExtSyncookiesSent ${cookiesSent}, Recv ${get(counters, 'TcpExtSyncookiesRecv')}, Failed ${get(counters, 'TcpExtSyncookiesFailed')}`,
        `TcpExtTCPReqQFullDoCookies ${get(counters, 'TcpExtTCPReqQFullDoCookies')}`,
      ],
      fix: ['if this is a flood, cookies are doing their job; if not, the SYN queue is too small for the load: raise the listen() backlog and net.core.somaxconn'],
    });
  }

  // --- refused: no listener ---
  const refused = get(verdicts, 'RST_NO_LISTENER');
  if (refused > 0) {
    const { since, last, matching } = timesOf(events, ['RST_NO_LISTENER']);
    const ports = unique(matching.map((e) => e.dst.split(':')[1]));
    problems.push({
      id: 'no-listener',
      severity: 'info',
      title: 'Connections refused: nothing listens on the port',
      what: `${refused} segments answered with RST because no socket matched${ports.length > 0 ? ` (ports ${ports.join(', ')})` : ''}`,
      count: refused,
      since,
      last,
      rule: 'no socket for the 4-tuple or the port → tcp_v4_send_reset',
      spec: '§9b #102',
      evidence: [`TcpOutRsts = ${get(counters, 'TcpOutRsts')}`],
      fix: ['point the client at the listening port, or start syndrop run with --port'],
    });
  }

  // --- requests expiring ---
  const expired = get(verdicts, 'REQ_EXPIRED');
  if (expired > 0) {
    const { since, last } = timesOf(events, ['REQ_EXPIRED']);
    problems.push({
      id: 'requests-expired',
      severity: 'warning',
      title: 'Half-open requests expired without a third ACK',
      what: `${expired} requests were dropped after their SYN-ACK retransmissions ran out`,
      count: expired,
      since,
      last,
      rule: 'request timer: num_timeout ≥ tcp_synack_retries (lowered when the SYN queue is more than half full of old requests)',
      spec: '§4.1–§4.3',
      evidence: [`TcpExtTCPTimeouts = ${get(counters, 'TcpExtTCPTimeouts')}, TcpRetransSegs = ${get(counters, 'TcpRetransSegs')}`],
      fix: ['spoofed SYNs (a flood) or a path dropping SYN-ACKs/ACKs: check with syndrop events --reason REQSK_EXPIRED and a capture (--pcap)'],
    });
  }
  return problems;
}

export function renderExplain(problems: Problem[], profileName: string): string {
  if (problems.length === 0) return `syndrop explain (kernel ${profileName}): no drops found — counters show no listen-path problem.\n`;
  const lines: string[] = [`syndrop explain (kernel ${profileName}): ${problems.length} finding(s)`, ''];
  problems.forEach((p, i) => {
    lines.push(`${i + 1}. ${p.title}  [${p.severity}, ${p.count}]`);
    lines.push(`   What:     ${p.what}`);
    if (p.since !== null) lines.push(`   Since:    ${p.since}${p.last !== null && p.last !== p.since ? ` (last ${p.last})` : ''}`);
    lines.push(`   Rule:     ${p.rule} (spec ${p.spec})`);
    for (const e of p.evidence) lines.push(`   Evidence: ${e}`);
    for (const f of p.fix) lines.push(`   Fix:      ${f}`);
    lines.push('');
  });
  return lines.join('\n');
}

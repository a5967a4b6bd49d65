// `syndrop stats --netstat`: net-tools 2.10 `netstat -s` (statistics.c, read; checked
// byte for byte against the installed netstat 2.10 reading a crafted /proc/net/snmp and
// /proc/net/netstat). Pure: values in, text out.
//
// How net-tools prints, and what this port keeps:
// - Sections follow the /proc file (Ip, Icmp, Tcp, then TcpExt); counters within a section
//   follow the file's column order. syndrop's values record plays the file: its order is
//   kept, and syndrop's own counters come last under `Syndrop:` (net-tools prints any
//   section it has no table for with the same `Title:` header).
// - Each name is looked up with bsearch(3) in a per-section table that claims to be sorted
//   but is not. glibc's bsearch then misses some entries that ARE in the table, and those
//   print in the "try our best" form `    Name: N`. Real 2.10 output shows this for
//   `TCPTimeouts: N`, `TWKilled: N`, `Forwarding: 2`. We run the same bsearch on the same
//   table order, so we miss exactly the same names.
// - `number` entries print even when 0 (all of Tcp:, and Ip/Icmp totals); `opt_number`
//   entries (all of TcpExt:) print only when non-zero; unknown names print only when
//   non-zero; ICMP histogram entries print under "ICMP input/output histogram:" at indent
//   8 when non-zero, the title itself once per run of entries even if all are zero.
// - `%llu` of the value, C locale (no translations).

import { COUNTERS, type CounterInfo } from '../stack/mib.js';
import { formatUnsigned } from './format.js';

const enum Kind {
  Number = 0,
  OptNumber = 1,
  Forward = 2,
  InputIcmp = 3,
  OutputIcmp = 4,
  RtoAlgorithm = 5,
}

const STATIC = 1 << 16; // I_STATIC: configuration, printed only with print_static (never by -s)
const TITLE = 1 << 17; // I_TITLE: histogram entry with a title line

/** Indent per state (statistics.c states[]). */
const INDENT: Record<Kind, number> = {
  [Kind.Number]: 4,
  [Kind.OptNumber]: 4,
  [Kind.Forward]: 4,
  [Kind.InputIcmp]: 8,
  [Kind.OutputIcmp]: 8,
  [Kind.RtoAlgorithm]: 0,
};

const STATE_TITLE: Partial<Record<Kind, string>> = {
  [Kind.InputIcmp]: 'ICMP input histogram:',
  [Kind.OutputIcmp]: 'ICMP output histogram:',
};

type Entry = readonly [title: string, phrase: string, type: number];

const N = Kind.Number;
const O = Kind.OptNumber;
const IN_H = Kind.InputIcmp | TITLE;
const OUT_H = Kind.OutputIcmp | TITLE;

// The tables, in net-tools 2.10 source order (the order bsearch probes). Phrases are
// net-tools' own with %llu → %u, the form mib.ts uses.
const IP_TABLE: readonly Entry[] = [
  ['DefaultTTL', 'Default TTL is %u', N | STATIC],
  ['Forwarding', 'Forwarding is %s', Kind.Forward | STATIC],
  ['ForwDatagrams', '%u forwarded', N],
  ['FragCreates', '%u fragments created', O],
  ['FragFails', '%u outgoing packets failed fragmentation', O],
  ['FragOKs', '%u outgoing packets fragmented ok', O],
  ['InAddrErrors', '%u with invalid addresses', O],
  ['InDelivers', '%u incoming packets delivered', N],
  ['InDiscards', '%u incoming packets discarded', N],
  ['InHdrErrors', '%u with invalid headers', O],
  ['InReceives', '%u total packets received', N],
  ['InUnknownProtos', '%u with unknown protocol', O],
  ['OutDiscards', '%u outgoing packets dropped', O],
  ['OutNoRoutes', '%u dropped because of missing route', O],
  ['OutRequests', '%u requests sent out', N],
  ['ReasmFails', '%u packet reassemblies failed', O],
  ['ReasmOKs', '%u packets reassembled ok', O],
  ['ReasmReqds', '%u reassemblies required', O],
  ['ReasmTimeout', '%u fragments dropped after timeout', O],
];

const ICMP_TABLE: readonly Entry[] = [
  ['InAddrMaskReps', 'address mask replies: %u', IN_H],
  ['InAddrMasks', 'address mask request: %u', IN_H],
  ['InDestUnreachs', 'destination unreachable: %u', IN_H],
  ['InEchoReps', 'echo replies: %u', IN_H],
  ['InEchos', 'echo requests: %u', IN_H],
  ['InErrors', '%u input ICMP message failed', N],
  ['InMsgs', '%u ICMP messages received', N],
  ['InParmProbs', 'wrong parameters: %u', IN_H],
  ['InRedirects', 'redirects: %u', IN_H],
  ['InSrcQuenchs', 'source quenches: %u', IN_H],
  ['InTimeExcds', 'timeout in transit: %u', IN_H],
  ['InTimestampReps', 'timestamp reply: %u', IN_H],
  ['InTimestamps', 'timestamp request: %u', IN_H],
  ['OutAddrMaskReps', 'address mask replies: %u', OUT_H],
  ['OutAddrMasks', 'address mask requests: %u', OUT_H],
  ['OutDestUnreachs', 'destination unreachable: %u', OUT_H],
  ['OutEchoReps', 'echo replies: %u', OUT_H],
  ['OutEchos', 'echo requests: %u', OUT_H],
  ['OutErrors', '%u ICMP messages failed', N],
  ['OutMsgs', '%u ICMP messages sent', N],
  ['OutParmProbs', 'wrong parameters: %u', OUT_H],
  ['OutRedirects', 'redirect: %u', OUT_H],
  ['OutSrcQuenchs', 'source quench: %u', OUT_H],
  ['OutTimeExcds', 'time exceeded: %u', OUT_H],
  ['OutTimestampReps', 'timestamp replies: %u', OUT_H],
  ['OutTimestamps', 'timestamp requests: %u', OUT_H],
];

const TCP_TABLE: readonly Entry[] = [
  ['ActiveOpens', '%u active connection openings', N],
  ['AttemptFails', '%u failed connection attempts', N],
  ['CurrEstab', '%u connections established', N],
  ['EstabResets', '%u connection resets received', N],
  ['InErrs', '%u bad segments received', N],
  ['InSegs', '%u segments received', N],
  ['MaxConn', '', N],
  ['OutRsts', '%u resets sent', N],
  ['OutSegs', '%u segments sent out', N],
  ['PassiveOpens', '%u passive connection openings', N],
  ['RetransSegs', '%u segments retransmitted', N],
  ['RtoAlgorithm', 'RTO algorithm is %s', Kind.RtoAlgorithm | STATIC],
  ['RtoMax', '', N],
  ['RtoMin', '', N],
];

const TCPEXT_TABLE: readonly Entry[] = [
  ['DelayedACKLocked', '%u delayed acks further delayed because of locked socket', O],
  ['DelayedACKLost', 'Quick ack mode was activated %u times', O],
  ['DelayedACKs', '%u delayed acks sent', O],
  ['EmbryonicRsts', '%u resets received for embryonic SYN_RECV sockets', O],
  ['ListenDrops', '%u SYNs to LISTEN sockets dropped', O],
  ['ListenOverflows', '%u times the listen queue of a socket overflowed', O],
  ['LockDroppedIcmps', '%u ICMP packets dropped because socket was locked', O],
  ['OfoPruned', '%u packets dropped from out-of-order queue because of socket buffer overrun', O],
  ['OutOfWindowIcmps', '%u ICMP packets dropped because they were out-of-window', O],
  ['PAWSActive', '%u active connections rejected because of time stamp', O],
  ['PAWSEstab', '%u packets rejected in established connections because of timestamp', O],
  ['PAWSPassive', '%u passive connections rejected because of time stamp', O],
  ['PruneCalled', '%u packets pruned from receive queue because of socket buffer overrun', O],
  ['RcvPruned', '%u packets pruned from receive queue', O],
  ['SockMallocOOM', 'Ran %u times out of system memory during packet sending', O],
  ['SyncookiesFailed', '%u invalid SYN cookies received', O],
  ['SyncookiesRecv', '%u SYN cookies received', O],
  ['SyncookiesSent', '%u SYN cookies sent', O],
  ['TCPAbortFailed', '%u times unable to send RST due to no memory', O],
  ['TCPAbortOnClose', '%u connections reset due to early user close', O],
  ['TCPAbortOnData', '%u connections reset due to unexpected data', O],
  ['TCPAbortOnLinger', '%u connections aborted after user close in linger timeout', O],
  ['TCPAbortOnMemory', '%u connections aborted due to memory pressure', O],
  ['TCPAbortOnSyn', '%u connections reset due to unexpected SYN', O],
  ['TCPAbortOnTimeout', '%u connections aborted due to timeout', O],
  ['TCPDirectCopyFromBacklog', '%u bytes directly in process context from backlog', O],
  ['TCPDirectCopyFromPrequeue', '%u bytes directly received in process context from prequeue', O],
  ['TCPDSACKOfoRecv', '%u DSACKs for out of order packets received', O],
  ['TCPDSACKOfoSent', '%u DSACKs sent for out of order packets', O],
  ['TCPDSACKOldSent', '%u DSACKs sent for old packets', O],
  ['TCPDSACKRecv', '%u DSACKs received', O],
  ['TCPDSackUndo', '%u congestion window recovered without slow start using DSACK', O],
  ['TCPDSACKUndo', '%u congestion windows recovered without slow start by DSACK', O],
  ['TCPFACKReorder', 'Detected reordering %u times using FACK', O],
  ['TCPFastRetrans', '%u fast retransmits', O],
  ['TCPForwardRetrans', '%u forward retransmits', O],
  ['TCPFullUndo', '%u congestion windows fully recovered without slow start', O],
  ['TCPHPAcks', '%u predicted acknowledgments', O],
  ['TCPHPHits', '%u packet headers predicted', N],
  ['TCPHPHitsToUser', '%u packet headers predicted and directly queued to user', O],
  ['TCPLossFailures', '%u timeouts in loss state', O],
  ['TCPLoss', '%u TCP data loss events', O],
  ['TCPLossUndo', '%u congestion windows recovered without slow start after partial ack', O],
  ['TCPLostRetransmits', '%u retransmits lost', O],
  ['TCPMemoryPressures', 'TCP ran low on memory %u times', O],
  ['TCPPartialUndo', '%u congestion windows partially recovered using Hoe heuristic', O],
  ['TCPPrequeued', '%u packets directly queued to recvmsg prequeue', O],
  ['TCPPrequeueDropped', '%u packets dropped from prequeue', O],
  ['TCPPureAcks', '%u acknowledgments not containing data payload received', O],
  ['TCPRcvCollapsed', '%u packets collapsed in receive queue due to low socket buffer', O],
  ['TCPRenoFailures', '%u timeouts after reno fast retransmit', O],
  ['TCPRenoRecoveryFailed', '%u reno fast retransmits failed', O],
  ['TCPRenoRecoveryFail', '%u classic Reno fast retransmits failed', O],
  ['TCPRenoRecovery', '%u times recovered from packet loss due to fast retransmit', O],
  ['TCPRenoReorder', 'Detected reordering %u times using reno fast retransmit', O],
  ['TCPSackFailures', '%u timeouts after SACK recovery', O],
  ['TCPSackRecoveryFail', '%u SACK retransmits failed', O],
  ['TCPSackRecovery', '%u times recovered from packet loss by selective acknowledgements', O],
  ['TCPSACKReneging', '%u bad SACK blocks received', O],
  ['TCPSACKReorder', 'Detected reordering %u times using SACK', O],
  ['TCPSchedulerFailed', '%u times receiver scheduled too late for direct processing', O],
  ['TCPSlowStartRetrans', '%u retransmits in slow start', O],
  ['TCPTimeouts', '%u other TCP timeouts', O],
  ['TCPTSReorder', 'Detected reordering %u times using time stamp', O],
  ['TWKilled', '%u TCP sockets finished time wait in slow timer', O],
  ['TW', '%u TCP sockets finished time wait in fast timer', O],
  ['TWRecycled', '%u time wait sockets recycled by time stamp', O],
];

/** net-tools' snmptabs[] for the sections syndrop has; others print as unknown sections. */
const TABLES: Readonly<Record<string, readonly Entry[]>> = {
  Ip: IP_TABLE,
  Icmp: ICMP_TABLE,
  Tcp: TCP_TABLE,
  TcpExt: TCPEXT_TABLE,
};

/** Section order of `netstat -s`: /proc/net/snmp, then /proc/net/netstat, then ours. */
const SECTION_ORDER = ['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite', 'TcpExt', 'IpExt', 'MPTcpExt', 'Syndrop'];

/** glibc bsearch(3) with strcmp, on the table as it is (not as it should be). */
function bsearchTitle(table: readonly Entry[], key: string): Entry | undefined {
  let low = 0;
  let high = table.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const title = table[mid]![0];
    if (key < title) high = mid;
    else if (key > title) low = mid + 1;
    else return table[mid];
  }
  return undefined;
}

/**
 * What net-tools 2.10 prints for one counter of a section, or null when it prints it in
 * the `Name: N` form (not found by its bsearch). Exposed so tests can hold mib.ts phrases
 * against it.
 */
export function netToolsPhrase(section: string, title: string): string | null {
  const table = TABLES[section];
  if (!table) return null;
  const entry = bsearchTitle(table, title);
  if (!entry || entry[1] === '' || entry[2] & STATIC) return null;
  return entry[1];
}

/**
 * Every counter phrase net-tools 2.10 prints under a section (static entries and ICMP
 * histogram lines left out: they name no counter unambiguously). `syndrop doctor` reads
 * `netstat -s` output back into nstat names with these.
 */
export function netToolsPhrases(section: string): Array<{ title: string; phrase: string }> {
  return (TABLES[section] ?? [])
    .filter(([, phrase, type]) => phrase !== '' && !(type & STATIC) && !(type & TITLE))
    .map(([title, phrase]) => ({ title, phrase }));
}

const byName: ReadonlyMap<string, CounterInfo> = new Map(COUNTERS.map((c) => [c.name, c]));

/** Split an nstat name into its /proc section and the column title. */
export function splitCounterName(name: string): { section: string; title: string } {
  const info = byName.get(name);
  if (info) return { section: info.netstatSection, title: name.slice(info.netstatSection.length) };
  // Longest known prefix first: TcpExt before Tcp, IcmpMsg before Icmp, IpExt before Ip.
  for (const section of ['MPTcpExt', 'TcpExt', 'IpExt', 'IcmpMsg', 'UdpLite', 'Syndrop', 'Icmp', 'Tcp', 'Udp', 'Ip']) {
    if (name.startsWith(section) && name.length > section.length) return { section, title: name.slice(section.length) };
  }
  return { section: 'Syndrop', title: name };
}

/** net-tools' printval() state machine for one section. */
class SectionPrinter {
  private state: Kind = Kind.Number;
  out = '';

  constructor(private readonly table: readonly Entry[] | undefined) {}

  print(title: string, value: number): void {
    const entry = this.table ? bsearchTitle(this.table, title) : undefined;
    const text = formatUnsigned(value);
    if (!entry) {
      // "try our best": only non-zero, at the indent of the current state
      if (value !== 0) this.line(INDENT[this.state], `${title}: ${text}`);
      return;
    }
    let type = entry[2];
    if (type & STATIC) return; // print_static is never set by `netstat -s`
    if (entry[1] === '') return;
    if (type & TITLE) {
      type &= ~TITLE;
      if (this.state !== type) this.line(INDENT[this.state], STATE_TITLE[type as Kind]!);
    }
    let kind = type as Kind;
    let buf = '';
    switch (kind) {
      case Kind.OptNumber:
        if (value !== 0) buf = entry[1].replace('%u', text);
        break;
      case Kind.Number:
        buf = entry[1].replace('%u', text);
        break;
      case Kind.Forward: // unreachable: static
        kind = Kind.Number;
        buf = entry[1].replace('%s', value === 2 ? 'enabled' : 'disabled');
        break;
      case Kind.InputIcmp:
      case Kind.OutputIcmp:
        if (value > 0) buf = entry[1].replace('%u', text);
        break;
      case Kind.RtoAlgorithm:
        break;
    }
    if (buf) this.line(INDENT[kind], buf);
    this.state = kind;
  }

  private line(indent: number, text: string): void {
    this.out += ' '.repeat(indent) + text + '\n';
  }
}

/**
 * `netstat -s` for the given counters (nstat names → values). Sections appear when at
 * least one of their counters is in `values`, as net-tools prints a header for every
 * section line of /proc even when nothing under it is printed.
 */
export function renderNetstat(values: Readonly<Record<string, number>>): string {
  const bySection = new Map<string, [string, number][]>();
  for (const name of Object.keys(values)) {
    const { section, title } = splitCounterName(name);
    // /proc/net/snmp6 is read by `netstat -s -6` only; plain `netstat -s` shows IPv4's MIBs.
    if (section === 'Ip6' || section === 'Icmp6') continue;
    let list = bySection.get(section);
    if (!list) bySection.set(section, (list = []));
    list.push([title, values[name]!]);
  }
  const sections = [...bySection.keys()].sort((a, b) => rank(a) - rank(b));
  let out = '';
  for (const section of sections) {
    out += `${section}:\n`;
    const printer = new SectionPrinter(TABLES[section]);
    for (const [title, value] of bySection.get(section)!) printer.print(title, value);
    out += printer.out;
  }
  return out;
}

function rank(section: string): number {
  const i = SECTION_ORDER.indexOf(section);
  return i < 0 ? SECTION_ORDER.length - 1 : i; // unknown sections just before Syndrop
}

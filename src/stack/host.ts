// The emulated host: demux, the listen path, timers. Pure and deterministic — frames and
// a virtual clock in, frames out through the TxRing — so every kernel rule is testable
// with crafted frames (design.md "Data flow").

import type { Profile } from '../profiles/profile.js';
import type { Sysctls } from '../profiles/sysctl.js';
import { isMulticastOrBroadcast } from '../wire/addr.js';
import { SegmentSpec, writeIcmpEchoReply, writeTcpSegment } from '../wire/builder.js';
import { IcmpType, IcmpView } from '../wire/icmp.js';
import { IpProtocol, Ipv4View } from '../wire/ipv4.js';
import { TcpFlag, TcpView } from '../wire/tcp.js';
import { TcpOptions } from '../wire/tcp-options.js';
import { WIRE_ERROR_COUNTERS, WireError } from '../wire/wire-error.js';
import { Connection, ConnState, type ConnectionHandler, type ConnectionHost } from './conn.js';
import { EVENT_HAS_TS, EventRing } from './events.js';
import { FlowTable } from './flow-table.js';
import { HostKeys, hsiphash3, hsiphash4, seededRandom } from './hash.js';
import { Listener } from './listener.js';
import { TcpMetrics } from './metrics.js';
import { Counter, newCounterArray } from './mib.js';
import { ReqFlag, RequestPool } from './reqsk.js';
import {
  checkCookie,
  cookieMinute,
  cookieMssIndex,
  cookieTimestamp,
  decodeCookieOptions,
  makeCookie,
  type DecodedCookieOptions,
} from './syncookies.js';
import { TimerHeap } from './timers.js';
import { TCP_TIMEWAIT_LEN_MS, TimewaitPool } from './timewait.js';
import { TxRing } from './tx.js';
import { Verdict, VERDICTS } from './verdict.js';

/** TCP_TIMEOUT_INIT (RFC 6298): first SYN-ACK retransmission after 1 s. */
export const TCP_TIMEOUT_INIT = 1000;
export const TCP_RTO_MAX = 120_000;
/** 3.10's listener prune timer period (TCP_SYNQ_INTERVAL, spec §4.2). */
export const TCP_SYNQ_INTERVAL = 200;
/** TCP_PAWS_MSL / TCP_PAWS_WINDOW (spec §2.3). */
export const TCP_PAWS_MSL_SEC = 60;
export const TCP_PAWS_WINDOW = 1;
/** TCP_MSS_DEFAULT: assumed when a SYN has no MSS option (spec §1.1 C5). */
export const TCP_MSS_DEFAULT = 536;

const FLOW_REQUEST = 1;
const FLOW_CONN = 2;
const FLOW_TIMEWAIT = 3;

export interface HostConfig {
  profile: Profile;
  sysctls: Sysctls;
  /** The emulated host's address (10.77.0.2 in the lab). */
  address: number;
  /** Prefix length of the emulated network, for the directed broadcast address. */
  prefixLength?: number;
  /** Our MSS: route MTU − 40 (1460 on a 1500-byte TUN). */
  mss?: number;
  /** Seed for keys and clock bases; random when absent. */
  seed?: number;
  tx?: TxRing;
  eventCapacity?: number;
}

/** Accept behaviour of the application on one listener (src/app drives it). */
export interface AcceptPolicy {
  /** accept() calls per second; Infinity = at once, 0 = never. */
  ratePerSecond: number;
  paused: boolean;
  handler: ConnectionHandler | null;
}

export class Host implements ConnectionHost {
  readonly profile: Profile;
  readonly sysctls: Sysctls;
  readonly address: number;
  readonly broadcast: number;
  readonly ourMss: number;
  readonly counters = newCounterArray();
  /** Per-verdict totals (drops by reason, `syndrop top`). */
  readonly verdictCounts: Float64Array = new Float64Array(VERDICTS.length);
  readonly events: EventRing;
  readonly tx: TxRing;
  readonly keys: HostKeys;
  readonly metrics = new TcpMetrics();
  readonly listeners: Listener[] = [];
  readonly acceptPolicies: AcceptPolicy[] = [];
  readonly requests = new RequestPool();
  readonly timewait = new TimewaitPool();
  readonly connections = new Map<number, Connection>();
  /** Log lines the kernel would print (flood warning), for `syndrop run`'s stderr. */
  readonly kernelLog: string[] = [];
  now = 0;

  private readonly flows: FlowTable;
  private readonly requestTimers = new TimerHeap();
  private readonly timewaitTimers = new TimerHeap();
  private readonly connTimers = new TimerHeap();
  private nextConnId = 1;
  private readonly tsClockBase: number;
  private readonly cookieClockBase: number;
  private readonly acceptTokens: number[] = [];
  private lastAcceptTick = 0;

  // Reused per frame: the hot path allocates nothing.
  private readonly ip = new Ipv4View(new Uint8Array(0));
  private readonly tcp = new TcpView(new Uint8Array(0));
  private readonly icmp = new IcmpView(new Uint8Array(0));
  private readonly options = new TcpOptions();
  private readonly spec = new SegmentSpec();
  private readonly cookieOptions: DecodedCookieOptions = { ok: true, sackOk: false, peerWindowScale: -1, timestamps: false };
  /** The segment being processed, for events. */
  private segPeerAddr = 0;
  private segPeerPort = 0;
  private segLocalPort = 0;
  private segSeq = 0;
  private segAck = 0;
  private segFlags = 0;

  constructor(config: HostConfig) {
    this.profile = config.profile;
    this.sysctls = config.sysctls;
    this.address = config.address >>> 0;
    const prefix = config.prefixLength ?? 24;
    this.broadcast = (this.address | (2 ** (32 - prefix) - 1)) >>> 0;
    this.ourMss = config.mss ?? 1460;
    const random = seededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.keys = new HostKeys(random);
    this.tsClockBase = random();
    this.cookieClockBase = random() * 1000;
    this.flows = new FlowTable(this.keys.flow);
    this.tx = config.tx ?? new TxRing();
    this.events = new EventRing(config.eventCapacity ?? 65536);
  }

  get switches() {
    return this.profile.switches;
  }

  // ------------------------------------------------------------------ sockets

  /** listen(port, backlog); a second call on the same port only updates the backlog (spec §5.1). */
  listen(port: number, backlog: number, policy?: Partial<AcceptPolicy>): Listener {
    let listener = this.listeners.find((l) => l.port === port);
    const first = listener === undefined;
    if (listener === undefined) {
      listener = new Listener(this.listeners.length, port);
      this.listeners.push(listener);
      this.acceptPolicies.push({ ratePerSecond: Infinity, paused: false, handler: null });
      this.acceptTokens.push(0);
    }
    listener.listen(
      backlog,
      this.sysctls.get('net.core.somaxconn'),
      this.sysctls.get('net.ipv4.tcp_max_syn_backlog'),
      this.switches,
      first,
    );
    Object.assign(this.acceptPolicies[listener.index]!, policy ?? {});
    return listener;
  }

  listenerFor(port: number): Listener | undefined {
    for (const l of this.listeners) if (l.port === port) return l;
    return undefined;
  }

  /**
   * accept() on a listener: the oldest child, handed to the policy's handler, or null.
   * A child the peer already reset is still returned (the application then sees it closed).
   */
  accept(listener: Listener): Connection | null {
    const conn = listener.dequeueAccepted();
    if (conn === null) return null;
    const handler = this.acceptPolicies[listener.index]!.handler;
    if (conn.isClosed()) {
      conn.accepted = true;
      if (handler !== null) {
        handler.onAccepted(conn);
        handler.onClosed(conn, 'reset');
      }
      return conn;
    }
    if (handler !== null) conn.deliverAccepted(handler);
    else conn.accepted = true;
    return conn;
  }

  // ------------------------------------------------------------------ clock

  /** Our TCP timestamp clock (ms, HZ=1000 profiles) before any per-flow offset. */
  tsNow(): number {
    return (this.tsClockBase + Math.floor(this.now)) >>> 0;
  }

  /**
   * The seconds clock of ts_recent_stamp / tcpm_ts_stamp (get_seconds(), later
   * ktime_get_seconds()). The kernel's is never 0 by the time a connection exists, and 0
   * means "no stamp" in all those fields (spec §2.2, §2.3); virtual time starts at 0, so the
   * first virtual second reads as 1 to keep a stamp taken then from looking absent.
   */
  private nowSeconds(): number {
    return Math.max(1, Math.floor(this.now / 1000));
  }

  /** secure_tcp_sequence_number: keyed hash of the 4-tuple + a 64 ns clock (spec §1.10). */
  private secureIsn(peerAddr: number, peerPort: number, localPort: number): number {
    const h = hsiphash4(this.keys.isn0, this.keys.isn1, peerAddr, this.address, ((peerPort << 16) | localPort) >>> 0, 0);
    return (h + Math.floor(this.now * 15625)) >>> 0;
  }

  /** TSval offset of a flow (spec §2.5): none, per connection / 4-tuple, or per address pair. */
  tsOffsetFor(peerAddr: number, peerPort: number, localPort: number): number {
    const mode = this.switches.tsOffsets;
    if (mode === 'none' || this.sysctls.get('net.ipv4.tcp_timestamps') === 2) return 0;
    const ports = mode === 'perPair' ? 0 : ((peerPort << 16) | localPort) >>> 0;
    return hsiphash3(this.keys.ts0, this.keys.ts1, peerAddr, this.address, ports);
  }

  // ------------------------------------------------------------------ verdicts

  /** Bumps the verdict's counters and records it: the only place counters move for decisions. */
  apply(verdict: number, aux = 0, listener?: Listener): number {
    const info = VERDICTS[verdict]!;
    const counters = info.counters;
    for (let i = 0; i < counters.length; i++) this.counters[counters[i]!]!++;
    this.verdictCounts[verdict]!++;
    if (listener !== undefined && counters.includes(Counter.ListenDrops)) listener.drops++;
    const hasTs = this.options.hasTimestamps;
    this.events.record(
      this.now,
      verdict,
      this.segPeerAddr,
      this.segPeerPort,
      this.address,
      this.segLocalPort,
      this.segSeq,
      this.segAck,
      this.segFlags | (hasTs ? EVENT_HAS_TS : 0),
      hasTs ? this.options.tsVal : 0,
      hasTs ? this.options.tsEcr : 0,
      aux,
    );
    return verdict;
  }

  /** Verdict bookkeeping for timer events: the request's flow stands in for "the segment". */
  private setEventFlow(peerAddr: number, peerPort: number, localPort: number, seq: number, ack: number): void {
    this.segPeerAddr = peerAddr;
    this.segPeerPort = peerPort;
    this.segLocalPort = localPort;
    this.segSeq = seq;
    this.segAck = ack;
    this.segFlags = 0;
    this.options.hasTimestamps = false;
  }

  // ------------------------------------------------------------------ input

  /** One frame from the TUN. Returns the verdict of its last decision (for pcap comments). */
  receive(buf: Uint8Array, off: number, len: number, now: number): number {
    this.now = now;
    const c = this.counters;
    c[Counter.RxFrames]!++;
    c[Counter.IpInReceives]!++;
    const ipError = Ipv4View.check(buf, off, len);
    if (ipError !== WireError.Ok) {
      c[ipError === WireError.Fragment ? Counter.IpReasmFails : Counter.IpInHdrErrors]!++;
      return this.rejectMalformed(ipError);
    }
    const ip = this.ip.reset(buf, off, len);
    const src = ip.srcAddr;
    const dst = ip.dstAddr;
    this.segPeerAddr = src;
    this.segPeerPort = 0;
    this.segLocalPort = 0;
    this.segSeq = this.segAck = this.segFlags = 0;
    this.options.hasTimestamps = false;
    const toBroadcast = dst === this.broadcast || isMulticastOrBroadcast(dst);
    if (dst !== this.address && !toBroadcast) return this.apply(Verdict.NOT_FOR_US);
    const protocol = ip.protocol;
    if (protocol === IpProtocol.TCP) {
      const tcpError = TcpView.check(buf, ip.payloadOffset, ip.payloadLength, src, dst, this.options);
      if (tcpError !== WireError.Ok) {
        c[Counter.InErrs]!++;
        if (tcpError === WireError.BadTcpChecksum) c[Counter.InCsumErrors]!++;
        return this.rejectMalformed(tcpError);
      }
      c[Counter.RxAccepted]!++;
      c[Counter.IpInDelivers]!++;
      c[Counter.InSegs]!++;
      const tcp = this.tcp.reset(buf, ip.payloadOffset, ip.payloadLength);
      this.segPeerPort = tcp.srcPort;
      this.segLocalPort = tcp.dstPort;
      this.segSeq = tcp.seq;
      this.segAck = tcp.ack;
      this.segFlags = tcp.flags;
      if ((tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) c[Counter.RxSyn]!++;
      this.applySysctlsToOptions();
      return this.tcpReceive(src, toBroadcast);
    }
    if (protocol === IpProtocol.ICMP) {
      if (IcmpView.check(buf, ip.payloadOffset, ip.payloadLength) !== WireError.Ok) {
        c[Counter.IcmpInErrors]!++;
        return this.rejectMalformed(WireError.BadIcmp);
      }
      c[Counter.RxAccepted]!++;
      c[Counter.IpInDelivers]!++;
      c[Counter.IcmpInMsgs]!++;
      return this.icmpReceive(buf, ip.payloadOffset, ip.payloadLength, src, toBroadcast);
    }
    return this.apply(Verdict.UNKNOWN_PROTO);
  }

  private rejectMalformed(error: number): number {
    this.counters[WIRE_ERROR_COUNTERS[error]!]!++;
    return this.apply(Verdict.MALFORMED, error);
  }

  /** tcp_parse_options records options only when the sysctls allow them (spec §1.7). */
  private applySysctlsToOptions(): void {
    const o = this.options;
    if (o.hasTimestamps && this.sysctls.get('net.ipv4.tcp_timestamps') === 0) o.hasTimestamps = false;
    if (o.sackPermitted && this.sysctls.get('net.ipv4.tcp_sack') === 0) o.sackPermitted = false;
    if (o.hasWindowScale && this.sysctls.get('net.ipv4.tcp_window_scaling') === 0) o.hasWindowScale = false;
  }

  private icmpReceive(buf: Uint8Array, off: number, len: number, src: number, toBroadcast: boolean): number {
    const icmp = this.icmp.reset(buf, off, len);
    // icmp_echo_ignore_broadcasts defaults to 1.
    if (icmp.type !== IcmpType.ECHO_REQUEST || toBroadcast) return this.apply(Verdict.ICMP_IGNORED);
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = src;
    spec.dontFragment = false;
    const at = this.tx.reserve();
    this.tx.commit(writeIcmpEchoReply(this.tx.slab, at, spec, buf, off, len));
    this.counters[Counter.IpOutRequests]!++;
    return this.apply(Verdict.ICMP_ECHO_REPLY);
  }

  /** tcp_v4_rcv: ehash (request, full socket, TIME_WAIT), then the listener (spec §1.0). */
  private tcpReceive(src: number, toBroadcast: boolean): number {
    const tcp = this.tcp;
    const sport = tcp.srcPort;
    const dport = tcp.dstPort;
    const flow = toBroadcast ? -1 : this.flows.get(src, sport, dport);
    if (flow >= 0) {
      const kind = flow & 3;
      const index = flow >>> 2;
      if (kind === FLOW_REQUEST) {
        const verdict = this.checkReq(index);
        if (verdict !== Verdict.NONE) return verdict;
        // tcp_check_req handed the segment back to the listener (§3.1 R3). 3.10 answers it
        // from tcp_rcv_state_process (LISTEN + ACK → RST) without a cookie check, so no
        // SyncookiesFailed (spec §1.0, §9a #46); 4.4+ go on to the listener path below.
        if (this.switches.requestRejectedAckPath === 'listenerRst') {
          this.sendReset();
          return this.apply(Verdict.REQ_BAD_ACK);
        }
      } else if (kind === FLOW_CONN) {
        return this.connReceive(this.connections.get(index)!);
      } else {
        const verdict = this.timewaitReceive(index);
        if (verdict !== Verdict.SYN_TIMEWAIT_REUSE) return verdict;
        return this.listenerReceive(src, toBroadcast, this.twIsn);
      }
    }
    return this.listenerReceive(src, toBroadcast, 0);
  }

  /** A segment for a listening port with no matching flow (spec §1.0). */
  private listenerReceive(src: number, toBroadcast: boolean, isn: number): number {
    const tcp = this.tcp;
    const listener = this.listenerFor(tcp.dstPort);
    const flags = tcp.flags;
    if (listener === undefined) {
      if ((flags & TcpFlag.RST) !== 0 || toBroadcast) return this.apply(Verdict.DROP_NO_SOCKET_RST);
      this.sendReset();
      return this.apply(Verdict.RST_NO_LISTENER);
    }
    if ((flags & TcpFlag.SYN) === 0) {
      if ((flags & TcpFlag.ACK) !== 0 && (flags & TcpFlag.RST) === 0) return this.cookieCheck(listener, src);
      if ((flags & TcpFlag.RST) !== 0) return this.apply(Verdict.DROP_LISTEN_RST);
      return this.apply(Verdict.DROP_LISTEN_OTHER);
    }
    if ((flags & TcpFlag.ACK) !== 0) {
      this.sendReset();
      return this.apply(Verdict.RST_STRAY_ACK);
    }
    if ((flags & TcpFlag.RST) !== 0) return this.apply(Verdict.DROP_LISTEN_RST);
    if ((flags & TcpFlag.FIN) !== 0) return this.apply(Verdict.DROP_SYN_FIN);
    return this.connRequest(listener, src, toBroadcast, isn);
  }

  // ------------------------------------------------------------------ tcp_conn_request

  /**
   * tcp_v4_conn_request + tcp_conn_request (spec §1.1 C1–C11 for 3.10, §1.2 D1–D9 for 4.4+).
   * `isn` ≠ 0: the SYN reused a TIME_WAIT 4-tuple (§1.9) and skips the flood and peer checks.
   */
  private connRequest(listener: Listener, src: number, toBroadcast: boolean, isn: number): number {
    const sw = this.switches;
    const sysctls = this.sysctls;
    // C1 / 4.4+ tcp_v4_conn_request: broadcast or multicast destination.
    if (toBroadcast) return this.apply(Verdict.DROP_BROADCAST, 0, listener);
    const syncookies = sysctls.get('net.ipv4.tcp_syncookies');
    const alwaysCookies = syncookies === 2 && sw.syncookiesAlwaysMode;
    let wantCookie = false;
    // C2 / D1: SYN queue full (or tcp_syncookies=2) → tcp_syn_flood_action (§1.3).
    if (isn === 0 && (alwaysCookies || listener.synQueueFull(sw))) {
      wantCookie = this.synFloodAction(listener, syncookies, alwaysCookies);
      if (!wantCookie) return this.apply(Verdict.DROP_REQQ_FULL, listener.qlen, listener);
    }
    // C3 / D2: accept queue full (§1.5), with the version's young rule (note A).
    if (listener.acceptQueueFull()) {
      if (sw.synDropRule === 'full') return this.apply(Verdict.DROP_ACCEPTQ_FULL, listener.acceptQueueLength, listener);
      if (listener.young > 1) return this.apply(Verdict.DROP_ACCEPTQ_FULL_YOUNG, listener.young, listener);
    }
    // C5 / D4: options that survive into the request (§1.7).
    const o = this.options;
    const tcp = this.tcp;
    const mss = o.hasMss ? o.mss : TCP_MSS_DEFAULT;
    let sackOk = o.sackPermitted;
    let peerWindowScale = o.hasWindowScale ? o.windowScale : -1;
    const tstampOk = o.hasTimestamps;
    if (wantCookie && !tstampOk) {
      // tcp_clear_options: a cookie without timestamps cannot carry wscale or SACK.
      sackOk = false;
      peerWindowScale = -1;
    }
    const sport = tcp.srcPort;
    const dport = tcp.dstPort;
    const tsOffset = tstampOk ? this.tsOffsetFor(src, sport, dport) : 0;
    if (wantCookie) return this.sendCookieSynAck(listener, src, sport, dport, mss, sackOk, peerWindowScale, tstampOk, tsOffset);
    if (isn === 0) {
      // C8a/C8b, D5/D5': the per-host PAWS check (tw_recycle) or the unproven-peer rule.
      const verdict = this.peerChecks(listener, src, syncookies, tstampOk);
      if (verdict !== Verdict.NONE) return verdict;
      isn = this.secureIsn(src, sport, dport);
    }
    // C11 / D9: queue the request; send the SYN-ACK.
    const slot = this.requests.allocate();
    const r = this.requests;
    r.peerAddr[slot] = src;
    r.peerPort[slot] = sport;
    r.localPort[slot] = dport;
    r.listener[slot] = listener.index;
    r.rcvIsn[slot] = tcp.seq;
    r.sntIsn[slot] = isn;
    r.tsRecent[slot] = tstampOk ? o.tsVal : 0;
    r.tsOffset[slot] = tsOffset;
    r.mss[slot] = mss;
    r.peerWindowScale[slot] = peerWindowScale;
    if (sackOk) r.flags[slot]! |= ReqFlag.SACK;
    if (tstampOk) r.flags[slot]! |= ReqFlag.TIMESTAMPS;
    r.sentAt[slot] = this.now;
    this.flows.set(src, sport, dport, (slot << 2) | FLOW_REQUEST);
    if (listener.qlen === 0) listener.pruneTimerStart = this.now;
    listener.qlen++;
    listener.young++;
    this.scheduleRequestTimer(slot, listener, this.now + TCP_TIMEOUT_INIT);
    this.sendRequestSynAck(slot, isn, false);
    return this.apply(Verdict.SYN_QUEUED, listener.qlen, listener);
  }

  /** tcp_syn_flood_action (spec §1.3): cookie or drop, and the once-per-listener warning. */
  private synFloodAction(listener: Listener, syncookies: number, alwaysCookies: boolean): boolean {
    const want = syncookies !== 0;
    if (want) this.apply(Verdict.FLOOD_DO_COOKIES, 0, listener);
    // The warning: once per listener; 4.4+ skip it when tcp_syncookies=2.
    const quiet = alwaysCookies && this.switches.synFloodLog !== 'v3.10';
    if (!listener.synfloodWarned && !quiet) {
      listener.synfloodWarned = true;
      this.kernelLog.push(this.floodWarning(listener, want));
      this.apply(Verdict.FLOOD_WARNING, want ? 1 : 0, listener);
    }
    return want;
  }

  /** The log line, word for word per version (spec §1.3). */
  floodWarning(listener: Listener, cookies: boolean): string {
    const action = cookies ? 'Sending cookies' : 'Dropping request';
    switch (this.switches.synFloodLog) {
      case 'v3.10':
        return `TCP: TCP: Possible SYN flooding on port ${listener.port}. ${action}.  Check SNMP counters.`;
      case 'v4.4':
        return `TCP: request_sock_TCP: Possible SYN flooding on port ${listener.port}. ${action}.  Check SNMP counters.`;
      default:
        return `TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:${listener.port}. ${action}.`;
    }
  }

  /** C8a/C8b (3.10), D5 (4.4–4.11), D5' (4.12+). Returns NONE to go on. */
  private peerChecks(listener: Listener, src: number, syncookies: number, tstampOk: boolean): number {
    const sw = this.switches;
    const twRecycle = sw.hasTwRecycle && this.sysctls.get('net.ipv4.tcp_tw_recycle') !== 0;
    // 3.10 takes the tw_recycle branch only when the SYN has timestamps; 4.4–4.11 always.
    if (twRecycle && (tstampOk || sw.pawsPassiveRule === 'alsoNoTs')) {
      if (!this.peerIsProvenPaws(src, tstampOk)) return this.apply(Verdict.DROP_PAWS_PASSIVE, 0, listener);
      return Verdict.NONE;
    }
    const maxSynBacklog = this.sysctls.get('net.ipv4.tcp_max_syn_backlog');
    if (syncookies === 0 && maxSynBacklog - listener.qlen < maxSynBacklog >> 2 && !this.peerIsProven(src)) {
      return this.apply(Verdict.DROP_UNPROVEN_PEER, listener.qlen, listener);
    }
    return Verdict.NONE;
  }

  /** tcp_peer_is_proven(req, dst, paws_check=true) (spec §2.3). */
  private peerIsProvenPaws(src: number, tstampOk: boolean): boolean {
    const entry = this.metrics.lookup(src);
    // tcpm_ts_stamp 0 = nothing remembered: never "fresh" (the kernel's seconds clock is far from 0).
    if (entry === undefined || entry.tsStamp === 0 || this.nowSeconds() - entry.tsStamp >= TCP_PAWS_MSL_SEC) return true;
    if (!tstampOk) return false; // 4.4: `|| !timestamps`
    return ((entry.ts - this.options.tsVal) | 0) <= TCP_PAWS_WINDOW;
  }

  /** tcp_peer_is_proven(req, dst, paws_check=false): dst is NULL before 4.14 (spec §1.1 notes). */
  private peerIsProven(src: number): boolean {
    if (this.switches.unprovenPeerRule === 'neverProven') return false;
    const entry = this.metrics.lookup(src);
    return entry !== undefined && entry.rtt !== 0;
  }

  private sendCookieSynAck(
    listener: Listener,
    src: number,
    sport: number,
    dport: number,
    mss: number,
    sackOk: boolean,
    peerWindowScale: number,
    tstampOk: boolean,
    tsOffset: number,
  ): number {
    const sw = this.switches;
    const table = sw.cookieMssTable;
    const mssIndex = cookieMssIndex(table, mss);
    const minute = cookieMinute(this.cookieClockBase, this.now);
    const isn = makeCookie(this.keys, src, this.address, sport, dport, this.tcp.seq, minute, mssIndex);
    // tcp_synq_overflow: remember when the last cookie went out (≥3.13: at most once a second).
    if (!sw.cookieOverflowStampEverySecond || this.now > listener.lastOverflow + 1000) listener.lastOverflow = this.now;
    const spec = this.synAckSpec(src, sport, dport, isn, this.tcp.seq, Math.min(mss, table[mssIndex]!), sackOk, peerWindowScale, tstampOk);
    if (tstampOk) {
      spec.tsVal = (cookieTimestamp(this.tsNow(), peerWindowScale, sackOk) + tsOffset) >>> 0;
      spec.tsEcr = this.options.tsVal;
    }
    spec.mss = this.ourMss;
    this.emit(spec);
    return this.apply(sw.cookieCountsListenDrop ? Verdict.SYN_COOKIE_LISTENDROP : Verdict.SYN_COOKIE, mssIndex, listener);
  }

  /** The SYN-ACK for a queued request (tcp_make_synack): options as Linux writes them (spec §1.10). */
  private sendRequestSynAck(slot: number, isn: number, retransmit: boolean): void {
    const r = this.requests;
    const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
    const spec = this.synAckSpec(
      r.peerAddr[slot]!,
      r.peerPort[slot]!,
      r.localPort[slot]!,
      isn,
      r.rcvIsn[slot]!,
      r.mss[slot]!,
      (r.flags[slot]! & ReqFlag.SACK) !== 0,
      r.peerWindowScale[slot]!,
      tstampOk,
    );
    if (tstampOk) {
      spec.tsVal = (this.tsNow() + r.tsOffset[slot]!) >>> 0;
      spec.tsEcr = r.tsRecent[slot]!;
    }
    this.emit(spec);
    if (retransmit) r.numRetrans[slot]!++;
  }

  private synAckSpec(
    peerAddr: number,
    peerPort: number,
    localPort: number,
    isn: number,
    clientIsn: number,
    _mss: number,
    sackOk: boolean,
    peerWindowScale: number,
    tstampOk: boolean,
  ): SegmentSpec {
    const sw = this.switches;
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = peerAddr;
    spec.srcPort = localPort;
    spec.dstPort = peerPort;
    spec.seq = isn;
    spec.ack = (clientIsn + 1) >>> 0;
    spec.flags = TcpFlag.SYN | TcpFlag.ACK;
    spec.window = tstampOk ? sw.synackWindowWithTs : sw.synackWindowNoTs;
    spec.mss = this.ourMss;
    spec.sackPermitted = sackOk;
    spec.windowScale = peerWindowScale >= 0 ? sw.synackWindowScale : -1;
    spec.hasTimestamps = tstampOk;
    return spec;
  }

  private emit(spec: SegmentSpec): void {
    const at = this.tx.reserve();
    this.tx.commit(writeTcpSegment(this.tx.slab, at, spec));
    if ((spec.flags & TcpFlag.SYN) !== 0) this.counters[Counter.TxSynAck]!++;
    this.counters[Counter.OutSegs]!++;
    this.counters[Counter.IpOutRequests]!++;
  }

  /** tcp_v4_send_reset for the current segment (spec §8 stray ACK: seq = its ack, window 0). */
  private sendReset(): void {
    const tcp = this.tcp;
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = this.segPeerAddr;
    spec.srcPort = tcp.dstPort;
    spec.dstPort = tcp.srcPort;
    if ((tcp.flags & TcpFlag.ACK) !== 0) {
      spec.seq = tcp.ack;
      spec.flags = TcpFlag.RST;
    } else {
      const synFin = ((tcp.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((tcp.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
      spec.ack = (tcp.seq + tcp.payloadLength + synFin) >>> 0;
      spec.flags = TcpFlag.RST | TcpFlag.ACK;
    }
    this.emit(spec);
  }

  // ------------------------------------------------------------------ cookie_v4_check

  /** A bare ACK to a listener: a syncookie, or a stray segment (spec §3.4). */
  private cookieCheck(listener: Listener, src: number): number {
    const sw = this.switches;
    const tcp = this.tcp;
    const syncookies = this.sysctls.get('net.ipv4.tcp_syncookies');
    if (syncookies === 0) {
      this.sendReset();
      return this.apply(Verdict.RST_STRAY_ACK);
    }
    const sinceOverflow = this.now - listener.lastOverflow;
    const noRecentOverflow =
      sinceOverflow > sw.cookieOverflowWindowMs || (sw.cookieRejectFutureOverflow && sinceOverflow < -1000);
    if (noRecentOverflow) {
      this.sendReset();
      return this.apply(sw.syncookiesFailedOnNoOverflow ? Verdict.COOKIE_NO_RECENT_OVERFLOW : Verdict.RST_STRAY_ACK);
    }
    const minute = cookieMinute(this.cookieClockBase, this.now);
    const cookie = (tcp.ack - 1) >>> 0;
    const clientIsn = (tcp.seq - 1) >>> 0;
    const mssIndex = checkCookie(
      this.keys,
      src,
      this.address,
      tcp.srcPort,
      tcp.dstPort,
      cookie,
      clientIsn,
      minute,
      sw.cookieMaxAgeMinutes,
      sw.cookieMssTable.length,
    );
    if (mssIndex < 0) {
      this.sendReset();
      return this.apply(Verdict.COOKIE_BAD);
    }
    const o = this.options;
    const tsOffset = o.hasTimestamps ? this.tsOffsetFor(src, tcp.srcPort, tcp.dstPort) : 0;
    const decoded = decodeCookieOptions(
      this.cookieOptions,
      o.hasTimestamps,
      (o.tsEcr - tsOffset) >>> 0,
      this.sysctls.get('net.ipv4.tcp_timestamps'),
      this.sysctls.get('net.ipv4.tcp_sack'),
      this.sysctls.get('net.ipv4.tcp_window_scaling'),
    );
    if (!decoded.ok) {
      this.sendReset();
      return this.apply(Verdict.COOKIE_OPTIONS_BAD);
    }
    if (listener.acceptQueueFull()) return this.apply(Verdict.COOKIE_ACCEPTQ_FULL, listener.acceptQueueLength, listener);
    const conn = this.createChild(
      listener,
      src,
      tcp.srcPort,
      tcp.dstPort,
      cookie,
      clientIsn,
      sw.cookieMssTable[mssIndex]!,
      decoded.peerWindowScale,
      decoded.sackOk,
      decoded.timestamps,
      tsOffset,
      o.hasTimestamps ? o.tsVal : 0,
      -1,
    );
    this.apply(Verdict.COOKIE_ACCEPTED, mssIndex, listener);
    this.childReceive(conn);
    return Verdict.COOKIE_ACCEPTED;
  }

  // ------------------------------------------------------------------ tcp_check_req

  /** A segment for a pending request (spec §3.1). Returns NONE to hand it to the listener. */
  private checkReq(slot: number): number {
    const r = this.requests;
    const sw = this.switches;
    const tcp = this.tcp;
    const o = this.options;
    const listener = this.listeners[r.listener[slot]!]!;
    const seq = tcp.seq;
    let flags = tcp.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN);
    const rcvIsn = r.rcvIsn[slot]!;
    const rcvNxt = (rcvIsn + 1) >>> 0;
    const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
    // R1: PAWS against the SYN's timestamp (paws window 0 here).
    const tsRecent = r.tsRecent[slot]!;
    const pawsReject = o.hasTimestamps && tstampOk && tsRecent !== 0 && ((tsRecent - o.tsVal) | 0) > 0;
    // R2: a retransmitted SYN → SYN-ACK again.
    if (seq === rcvIsn && flags === TcpFlag.SYN && !pawsReject) {
      if (sw.requestOowRateLimit && this.oowRateLimited(r.lastOowAck, slot)) {
        return this.apply(Verdict.REQ_OOW_RATELIMITED, 0, listener);
      }
      this.sendRequestSynAck(slot, r.sntIsn[slot]!, true);
      this.scheduleRequestTimer(slot, listener, this.now + Math.min(TCP_TIMEOUT_INIT * 2 ** r.numTimeout[slot]!, TCP_RTO_MAX));
      return this.apply(sw.counters.hasSynRetransCounters ? Verdict.REQ_SYN_RETRANSMIT : Verdict.REQ_SYN_RETRANSMIT_310, 0, listener);
    }
    // R3: an ACK for something we did not send → the listener answers with RST.
    if ((flags & TcpFlag.ACK) !== 0 && tcp.ack !== ((r.sntIsn[slot]! + 1) >>> 0)) {
      return Verdict.NONE;
    }
    // R4: PAWS or out of window → ACK (rate limited on 4.x+).
    const window = tstampOk ? sw.synackWindowWithTs : sw.synackWindowNoTs;
    if (pawsReject || !inWindow(seq, (seq + tcp.payloadLength) >>> 0, rcvNxt, (rcvNxt + window) >>> 0)) {
      if ((flags & TcpFlag.RST) === 0) {
        if (sw.requestOowRateLimit && this.oowRateLimited(r.lastOowAck, slot)) {
          return this.apply(Verdict.REQ_OOW_RATELIMITED, 0, listener);
        }
        this.sendRequestAck(slot);
      }
      return this.apply(pawsReject ? Verdict.REQ_PAWS_REJECT : Verdict.REQ_OUT_OF_WINDOW, 0, listener);
    }
    // R5: remember the newest timestamp.
    if (o.hasTimestamps && ((seq - rcvNxt) | 0) <= 0) r.tsRecent[slot] = o.tsVal;
    // R6: a SYN at the request's own ISN is the handshake's, not a new one.
    if (seq === rcvIsn) flags &= ~TcpFlag.SYN;
    // R7: RST or SYN → embryonic reset (RFC 5961 refinement for RST on 4.x+).
    if ((flags & TcpFlag.RST) !== 0) {
      if (sw.requestRstRule === 'exactSeq' && seq !== rcvNxt) {
        this.sendRequestAck(slot);
        return this.apply(Verdict.REQ_CHALLENGE_ACK, 0, listener);
      }
      this.dropRequest(slot, listener);
      return this.apply(Verdict.REQ_RESET, 0, listener);
    }
    if ((flags & TcpFlag.SYN) !== 0) {
      this.sendReset();
      this.dropRequest(slot, listener);
      return this.apply(Verdict.REQ_SYN_RESET, 0, listener);
    }
    // R8: no ACK → drop.
    if ((flags & TcpFlag.ACK) === 0) return this.apply(Verdict.REQ_NO_ACK, 0, listener);
    // R9: TCP_DEFER_ACCEPT holds bare ACKs.
    if (r.numTimeout[slot]! < listener.deferAcceptRetrans && tcp.payloadLength === 0) {
      r.flags[slot]! |= ReqFlag.ACKED;
      return this.apply(Verdict.REQ_DEFER_ACCEPT_DROP, 0, listener);
    }
    // R10: syn_recv_sock: accept queue full → listen_overflow.
    if (listener.acceptQueueFull()) {
      if (this.sysctls.get('net.ipv4.tcp_abort_on_overflow') === 0) {
        r.flags[slot]! |= ReqFlag.ACKED;
        return this.apply(Verdict.REQ_ACCEPTQ_OVERFLOW, listener.acceptQueueLength, listener);
      }
      this.sendReset();
      this.dropRequest(slot, listener);
      return this.apply(Verdict.REQ_ACCEPTQ_OVERFLOW_ABORT, listener.acceptQueueLength, listener);
    }
    // R11: the child takes over; the request leaves the SYN queue.
    const conn = this.createChild(
      listener,
      r.peerAddr[slot]!,
      r.peerPort[slot]!,
      r.localPort[slot]!,
      r.sntIsn[slot]!,
      rcvIsn,
      r.mss[slot]!,
      r.peerWindowScale[slot]!,
      (r.flags[slot]! & ReqFlag.SACK) !== 0,
      tstampOk,
      r.tsOffset[slot]!,
      r.tsRecent[slot]!,
      r.numRetrans[slot] === 0 ? this.now - r.sentAt[slot]! : -1,
    );
    this.dropRequest(slot, listener);
    this.apply(Verdict.REQ_ESTABLISHED, listener.acceptQueueLength, listener);
    this.childReceive(conn);
    return Verdict.REQ_ESTABLISHED;
  }

  /** __tcp_oow_rate_limited: at most one answer per tcp_invalid_ratelimit ms. */
  private oowRateLimited(lastAnswer: Float64Array, slot: number): boolean {
    const elapsed = this.now - lastAnswer[slot]!;
    if (elapsed >= 0 && elapsed < this.sysctls.get('net.ipv4.tcp_invalid_ratelimit')) {
      return true;
    }
    lastAnswer[slot] = this.now;
    return false;
  }

  /** tcp_v4_reqsk_send_ack: seq snt_isn+1, ack rcv_nxt, our window, TSecr = ts_recent. */
  private sendRequestAck(slot: number): void {
    const r = this.requests;
    const sw = this.switches;
    const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = r.peerAddr[slot]!;
    spec.srcPort = r.localPort[slot]!;
    spec.dstPort = r.peerPort[slot]!;
    spec.seq = (r.sntIsn[slot]! + 1) >>> 0;
    spec.ack = (r.rcvIsn[slot]! + 1) >>> 0;
    spec.flags = TcpFlag.ACK;
    const ws = r.peerWindowScale[slot]! >= 0 ? sw.synackWindowScale : 0;
    spec.window = (tstampOk ? sw.synackWindowWithTs : sw.synackWindowNoTs) >>> ws;
    if (tstampOk) {
      spec.hasTimestamps = true;
      spec.tsVal = (this.tsNow() + r.tsOffset[slot]!) >>> 0;
      spec.tsEcr = r.tsRecent[slot]!;
    }
    this.emit(spec);
  }

  /** inet_csk_reqsk_queue_drop: unlink, fix qlen/young, stop the timer. */
  private dropRequest(slot: number, listener: Listener): void {
    const r = this.requests;
    // The child may already own the 4-tuple (it replaces the request in the ehash).
    if (this.flows.get(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!) === ((slot << 2) | FLOW_REQUEST)) {
      this.flows.delete(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!);
    }
    this.requestTimers.cancel(slot);
    listener.qlen--;
    if (r.numTimeout[slot] === 0) listener.young--;
    r.free(slot);
  }

  private scheduleRequestTimer(slot: number, listener: Listener, at: number): void {
    if (this.switches.synackTimer === 'listener200ms') {
      // 3.10: one listener timer, first at +1 s after the queue became non-empty, then every
      // 200 ms; expiries take effect on its ticks (spec §4.2).
      const first = listener.pruneTimerStart + TCP_TIMEOUT_INIT;
      at = at <= first ? first : first + Math.ceil((at - first) / TCP_SYNQ_INTERVAL) * TCP_SYNQ_INTERVAL;
    }
    this.requestTimers.schedule(slot, at);
  }

  // ------------------------------------------------------------------ children

  private createChild(
    listener: Listener,
    peerAddr: number,
    peerPort: number,
    localPort: number,
    iss: number,
    irs: number,
    peerMss: number,
    peerWindowScale: number,
    sackOk: boolean,
    timestamps: boolean,
    tsOffset: number,
    tsRecent: number,
    rttSample: number,
  ): Connection {
    const id = this.nextConnId++;
    const mss = Math.min(peerMss, this.ourMss) - (timestamps ? 12 : 0);
    const conn = new Connection(
      this,
      id,
      listener.index,
      this.address,
      localPort,
      peerAddr,
      peerPort,
      iss,
      irs,
      mss,
      peerWindowScale,
      this.switches.synackWindowScale,
      sackOk,
      timestamps,
      tsOffset,
    );
    conn.tsRecent = tsRecent;
    conn.tsRecentStamp = timestamps ? this.nowSeconds() : 0;
    if (rttSample >= 0) conn.sampleRtt(rttSample);
    this.connections.set(id, conn);
    this.flows.set(peerAddr, peerPort, localPort, (id << 2) | FLOW_CONN);
    listener.enqueueAccepted(conn);
    this.counters[Counter.CurrEstab]!++;
    // tcp_init_metrics looks the peer up with create semantics.
    this.metrics.getOrCreate(peerAddr, this.now);
    return conn;
  }

  /** The third ACK (or cookie ACK) is processed by the new child (tcp_child_process). */
  private childReceive(conn: Connection): void {
    const tcp = this.tcp;
    const owed = conn.receiveSegment(tcp.flags, tcp.seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength);
    if (owed && !conn.isClosed()) this.sendConnAck(conn);
    this.drainAccepts();
  }

  // ------------------------------------------------------------------ established

  private connReceive(conn: Connection): number {
    const tcp = this.tcp;
    const o = this.options;
    const flags = tcp.flags;
    const seq = tcp.seq;
    const length = tcp.payloadLength + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    // PAWS (tcp_validate_incoming).
    if (conn.timestamps && o.hasTimestamps && ((conn.tsRecent - o.tsVal) | 0) > 0 && (flags & TcpFlag.RST) === 0) {
      this.counters[Counter.PAWSEstab]!++;
      this.sendConnAck(conn);
      return Verdict.NONE;
    }
    const rcvWindow = conn.window << conn.ourWindowScale;
    if (!inWindow(seq, (seq + length) >>> 0, conn.rcvNxt, (conn.rcvNxt + Math.max(rcvWindow, 1)) >>> 0)) {
      if ((flags & TcpFlag.RST) === 0) this.sendConnAck(conn);
      return Verdict.NONE;
    }
    if ((flags & TcpFlag.RST) !== 0) {
      if (seq !== conn.rcvNxt) {
        this.sendConnAck(conn);
        this.counters[Counter.TCPChallengeACK]!++;
        return Verdict.NONE;
      }
      this.connResetByPeer(conn);
      return Verdict.CONN_RESET;
    }
    if ((flags & TcpFlag.SYN) !== 0) {
      // RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK.
      this.sendConnAck(conn);
      this.counters[Counter.TCPChallengeACK]!++;
      return Verdict.NONE;
    }
    if ((flags & TcpFlag.ACK) === 0) return Verdict.NONE;
    if (o.hasTimestamps && conn.timestamps && ((seq - conn.rcvNxt) | 0) <= 0) {
      conn.tsRecent = o.tsVal;
      conn.tsRecentStamp = this.nowSeconds();
    }
    const owed = conn.receiveSegment(flags, seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength);
    if (owed && !conn.isClosed() && this.connections.has(conn.id)) this.sendConnAck(conn);
    else if (owed && this.timewaitJustEntered >= 0) this.sendTimewaitAck(this.timewaitJustEntered);
    this.timewaitJustEntered = -1;
    return Verdict.NONE;
  }

  /** Set while a FIN moves a connection to TIME_WAIT, so its ACK goes out from the bucket. */
  private timewaitJustEntered = -1;

  sendConnSegment(conn: Connection, flags: number, seq: number, data: Uint8Array | null, dataOffset: number, dataLength: number): void {
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = conn.peerAddr;
    spec.srcPort = conn.localPort;
    spec.dstPort = conn.peerPort;
    spec.seq = seq;
    spec.ack = (flags & TcpFlag.ACK) !== 0 ? conn.rcvNxt : 0;
    spec.flags = flags;
    spec.window = conn.window;
    if (conn.timestamps && (flags & TcpFlag.RST) === 0) {
      spec.hasTimestamps = true;
      spec.tsVal = (this.tsNow() + conn.tsOffset) >>> 0;
      spec.tsEcr = conn.tsRecent;
    }
    if (data !== null && dataLength > 0) {
      spec.payload = data;
      spec.payloadOffset = dataOffset;
      spec.payloadLength = dataLength;
    }
    this.emit(spec);
    if ((flags & TcpFlag.RST) !== 0) this.counters[Counter.OutRsts]!++;
  }

  private sendConnAck(conn: Connection): void {
    this.sendConnSegment(conn, TcpFlag.ACK, conn.sndNxt, null, 0, 0);
  }

  scheduleConnTimer(conn: Connection, at: number): void {
    this.connTimers.schedule(conn.id, at);
  }

  cancelConnTimer(conn: Connection): void {
    this.connTimers.cancel(conn.id);
  }

  connRetransmitted(_conn: Connection, segments: number): void {
    this.counters[Counter.RetransSegs]! += segments;
  }

  connAborted(conn: Connection): void {
    this.setEventFlow(conn.peerAddr, conn.peerPort, conn.localPort, conn.sndNxt, conn.rcvNxt);
    this.sendConnSegment(conn, TcpFlag.RST | TcpFlag.ACK, conn.sndNxt, null, 0, 0);
    this.apply(Verdict.CONN_ABORT_TIMEOUT);
    this.removeConn(conn, 'timeout');
  }

  connResetByPeer(conn: Connection): void {
    const counted = conn.state === ConnState.ESTABLISHED || conn.state === ConnState.CLOSE_WAIT;
    this.apply(counted ? Verdict.CONN_RESET : Verdict.CONN_RESET_QUIET);
    this.removeConn(conn, 'reset');
  }

  connFinished(conn: Connection): void {
    // LAST_ACK → CLOSED: tcp_update_metrics then tcp_done.
    if (conn.srtt > 0) this.metrics.updateRtt(conn.peerAddr, conn.srtt, this.now);
    this.removeConn(conn, 'closed');
  }

  private removeConn(conn: Connection, why: 'closed' | 'reset' | 'timeout'): void {
    if (conn.isClosed()) return;
    const wasEstablished = conn.state === ConnState.ESTABLISHED || conn.state === ConnState.CLOSE_WAIT;
    conn.state = ConnState.CLOSED;
    if (wasEstablished) this.counters[Counter.CurrEstab]!--;
    this.connections.delete(conn.id);
    this.flows.delete(conn.peerAddr, conn.peerPort, conn.localPort);
    this.connTimers.cancel(conn.id);
    if (conn.handler !== null) conn.handler.onClosed(conn, why);
  }

  /** tcp_time_wait (spec §2.2, §2.4): the bucket, the recycle timeout, the metrics stamp. */
  connEnterTimewait(conn: Connection): void {
    const tw = this.timewait;
    const sw = this.switches;
    if (tw.live >= this.sysctls.get('net.ipv4.tcp_max_tw_buckets')) {
      this.setEventFlow(conn.peerAddr, conn.peerPort, conn.localPort, conn.sndNxt, conn.rcvNxt);
      this.apply(Verdict.TW_OVERFLOW);
      this.removeConn(conn, 'closed');
      return;
    }
    const twRecycle = sw.hasTwRecycle && this.sysctls.get('net.ipv4.tcp_tw_recycle') !== 0;
    let recycleOk = false;
    if (twRecycle && conn.tsRecentStamp !== 0) {
      recycleOk = this.metrics.rememberStamp(conn.peerAddr, conn.tsRecent, conn.tsRecentStamp, this.nowSeconds(), true, this.now);
    }
    // tcp_update_metrics: the RTT makes the peer "proven" (spec §2.2).
    if (conn.srtt > 0) this.metrics.updateRtt(conn.peerAddr, conn.srtt, this.now);
    const slot = tw.allocate();
    tw.peerAddr[slot] = conn.peerAddr;
    tw.peerPort[slot] = conn.peerPort;
    tw.localPort[slot] = conn.localPort;
    tw.sndNxt[slot] = conn.sndNxt;
    tw.rcvNxt[slot] = conn.rcvNxt;
    tw.tsRecent[slot] = conn.tsRecent;
    tw.tsRecentStamp[slot] = conn.timestamps ? conn.tsRecentStamp : 0;
    tw.tsOffset[slot] = conn.tsOffset;
    tw.window[slot] = conn.window;
    tw.createdAt[slot] = this.now;
    // 3.5 × RTO when recycling (rto << 2) − (rto >> 1), else TCP_TIMEWAIT_LEN.
    const rto = conn.rto;
    tw.recycleTimeout[slot] = recycleOk ? rto * 4 - Math.floor(rto / 2) : 0;
    const lifetime = recycleOk ? tw.recycleTimeout[slot]! : TCP_TIMEWAIT_LEN_MS;
    this.removeConn(conn, 'closed');
    this.flows.set(conn.peerAddr, conn.peerPort, conn.localPort, (slot << 2) | FLOW_TIMEWAIT);
    this.timewaitTimers.schedule(slot, this.now + lifetime);
    this.timewaitJustEntered = slot;
    this.setEventFlow(conn.peerAddr, conn.peerPort, conn.localPort, conn.sndNxt, conn.rcvNxt);
    this.apply(sw.timewaitCounting === 'onEnter' ? Verdict.TW_ENTER_COUNTED : Verdict.TW_ENTER, lifetime);
  }

  // ------------------------------------------------------------------ TIME_WAIT input

  /** ISN for a SYN accepted by TIME_WAIT (tw_snd_nxt + 65535 + 2). */
  private twIsn = 0;

  /** tcp_timewait_state_process (spec §1.9). */
  private timewaitReceive(slot: number): number {
    const tw = this.timewait;
    const tcp = this.tcp;
    const o = this.options;
    const sw = this.switches;
    const flags = tcp.flags;
    const seq = tcp.seq;
    const rcvNxt = tw.rcvNxt[slot]!;
    const tsRecent = tw.tsRecent[slot]!;
    const hasStamp = tw.tsRecentStamp[slot] !== 0;
    const pawsReject = hasStamp && o.hasTimestamps && ((tsRecent - o.tsVal) | 0) > TCP_PAWS_WINDOW;
    const isRst = (flags & TcpFlag.RST) !== 0;
    const isSyn = (flags & TcpFlag.SYN) !== 0;
    const isAck = (flags & TcpFlag.ACK) !== 0;
    const endSeq = (seq + tcp.payloadLength + (isSyn ? 1 : 0) + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0)) >>> 0;
    // In-window bare ACK or RST at rcv_nxt.
    if (!pawsReject && seq === rcvNxt && (endSeq === seq || isRst)) {
      if (isRst && this.sysctls.get('net.ipv4.tcp_rfc1337') === 0) {
        this.killTimewait(slot);
        return this.apply(Verdict.TW_RST_KILL);
      }
      if (!isRst) this.timewaitTimers.schedule(slot, this.now + this.timewaitLifetime(slot));
      return this.apply(Verdict.TW_SILENT);
    }
    // A new SYN: higher sequence, or a newer timestamp.
    if (
      isSyn &&
      !isRst &&
      !isAck &&
      !pawsReject &&
      (((seq - rcvNxt) | 0) > 0 || (o.hasTimestamps && ((tsRecent - o.tsVal) | 0) < 0))
    ) {
      let isn = (tw.sndNxt[slot]! + 65535 + 2) >>> 0;
      if (isn === 0) isn = 1;
      this.twIsn = isn;
      this.killTimewait(slot);
      this.apply(Verdict.SYN_TIMEWAIT_REUSE, isn);
      return Verdict.SYN_TIMEWAIT_REUSE;
    }
    if (isRst) return this.apply(Verdict.TW_SILENT);
    if (pawsReject || isAck) this.timewaitTimers.schedule(slot, this.now + TCP_TIMEWAIT_LEN_MS);
    const pawsVerdict = sw.timewaitPawsCounter === 'PAWSTimewait' ? Verdict.TW_PAWS_TIMEWAIT : Verdict.TW_PAWS_ESTAB;
    if (sw.requestOowRateLimit && this.oowRateLimited(tw.lastOowAck, slot)) {
      if (pawsReject) this.apply(pawsVerdict);
      return this.apply(Verdict.TW_ACK_RATELIMITED);
    }
    this.sendTimewaitAck(slot);
    return this.apply(pawsReject ? pawsVerdict : Verdict.TW_ACK);
  }

  private timewaitLifetime(slot: number): number {
    const recycle = this.timewait.recycleTimeout[slot]!;
    return recycle > 0 ? recycle : TCP_TIMEWAIT_LEN_MS;
  }

  /** tcp_v4_timewait_ack: seq tw_snd_nxt, ack tw_rcv_nxt, TS of the old connection. */
  private sendTimewaitAck(slot: number): void {
    const tw = this.timewait;
    const spec = this.spec.reset();
    spec.srcAddr = this.address;
    spec.dstAddr = tw.peerAddr[slot]!;
    spec.srcPort = tw.localPort[slot]!;
    spec.dstPort = tw.peerPort[slot]!;
    spec.seq = tw.sndNxt[slot]!;
    spec.ack = tw.rcvNxt[slot]!;
    spec.flags = TcpFlag.ACK;
    spec.window = tw.window[slot]!;
    if (tw.tsRecentStamp[slot] !== 0) {
      spec.hasTimestamps = true;
      spec.tsVal = (this.tsNow() + tw.tsOffset[slot]!) >>> 0;
      spec.tsEcr = tw.tsRecent[slot]!;
    }
    this.emit(spec);
  }

  private killTimewait(slot: number): void {
    const tw = this.timewait;
    this.flows.delete(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!);
    this.timewaitTimers.cancel(slot);
    tw.free(slot);
  }

  // ------------------------------------------------------------------ timers

  /** Earliest pending timer (virtual ms), Infinity if none. */
  nextTimerAt(): number {
    let at = Math.min(this.requestTimers.peekTime(), this.timewaitTimers.peekTime(), this.connTimers.peekTime());
    for (let i = 0; i < this.listeners.length; i++) {
      const policy = this.acceptPolicies[i]!;
      if (this.listeners[i]!.acceptQueueLength > 0 && !policy.paused && policy.ratePerSecond > 0) {
        at = Math.min(at, this.now + (policy.ratePerSecond === Infinity ? 0 : 1000 / policy.ratePerSecond));
      }
    }
    return at;
  }

  /** Runs every timer due at or before `now`, in time order. */
  tick(now: number): void {
    for (;;) {
      const requestAt = this.requestTimers.peekTime();
      const timewaitAt = this.timewaitTimers.peekTime();
      const connAt = this.connTimers.peekTime();
      const at = Math.min(requestAt, timewaitAt, connAt);
      if (at > now) break;
      this.now = Math.max(this.now, at);
      if (at === requestAt) this.requestTimerFired(this.requestTimers.pop());
      else if (at === timewaitAt) this.timewaitExpired(this.timewaitTimers.pop());
      else {
        const conn = this.connections.get(this.connTimers.pop());
        if (conn !== undefined) conn.onRetransmitTimer();
      }
    }
    this.now = Math.max(this.now, now);
    this.drainAccepts();
  }

  /** reqsk_timer_handler / inet_csk_reqsk_queue_prune for one request (spec §4.1–§4.3). */
  private requestTimerFired(slot: number): void {
    const r = this.requests;
    const sw = this.switches;
    const listener = this.listeners[r.listener[slot]!]!;
    this.setEventFlow(r.peerAddr[slot]!, r.peerPort[slot]!, r.localPort[slot]!, r.sntIsn[slot]!, r.rcvIsn[slot]!);
    const maxRetries = listener.synRetries || this.sysctls.get('net.ipv4.tcp_synack_retries');
    const thresh = this.retryThreshold(listener, maxRetries);
    const k = r.numTimeout[slot]!;
    const acked = (r.flags[slot]! & ReqFlag.ACKED) !== 0;
    const defer = listener.deferAcceptRetrans;
    let expire: boolean;
    let resend: boolean;
    if (defer === 0) {
      expire = k >= thresh;
      resend = true;
    } else {
      // max_retries becomes rskq_defer_accept (spec §3.3, §4.2, §4.3 syn_ack_recalc).
      expire = k >= thresh && (!acked || k >= defer);
      resend = !acked || k >= defer - 1;
    }
    if (!expire) {
      if (k === 0) listener.young--;
      r.numTimeout[slot] = k + 1;
      this.scheduleRequestTimer(slot, listener, this.now + Math.min(TCP_TIMEOUT_INIT * 2 ** (k + 1), TCP_RTO_MAX));
      if (resend) {
        this.sendRequestSynAck(slot, r.sntIsn[slot]!, true);
        this.apply(sw.counters.hasSynRetransCounters ? Verdict.REQ_TIMEOUT_RETRANSMIT : Verdict.REQ_TIMEOUT_RETRANSMIT_310, k + 1, listener);
      } else {
        this.apply(Verdict.REQ_TIMEOUT_SILENT, k + 1, listener);
      }
      return;
    }
    this.dropRequest(slot, listener);
    this.apply(Verdict.REQ_EXPIRED, k, listener);
  }

  /** "Reserve half of the queue for young requests" (spec §4.2 for 3.10, §4.3 for 4.4+). */
  private retryThreshold(listener: Listener, maxRetries: number): number {
    // 3.10's inet_csk_reqsk_queue_prune computes thresh once per 200 ms run, from qlen and
    // young as they were when the run began, then applies it to every request expiring in
    // that run (spec §4.2); 4.4+ recompute it per request timer (spec §4.3).
    if (this.switches.synackTimer === 'listener200ms') {
      if (listener.pruneRunAt !== this.now) {
        listener.pruneRunAt = this.now;
        listener.pruneRunThresh = this.computeRetryThreshold(listener, maxRetries);
      }
      return listener.pruneRunThresh;
    }
    return this.computeRetryThreshold(listener, maxRetries);
  }

  private computeRetryThreshold(listener: Listener, maxRetries: number): number {
    let thresh = maxRetries;
    const qlen = listener.qlen;
    const pressure =
      this.switches.synQueueSizing === 'pow2'
        ? qlen >> (listener.maxQlenLog - 1) !== 0
        : qlen * 2 > Math.max(8, listener.maxAckBacklog);
    if (pressure) {
      let young2 = listener.young * 2;
      while (thresh > 2) {
        if (qlen < young2) break;
        thresh--;
        young2 *= 2;
      }
    }
    return thresh;
  }

  private timewaitExpired(slot: number): void {
    const tw = this.timewait;
    const sw = this.switches;
    this.setEventFlow(tw.peerAddr[slot]!, tw.peerPort[slot]!, tw.localPort[slot]!, tw.sndNxt[slot]!, tw.rcvNxt[slot]!);
    const short = tw.recycleTimeout[slot]! > 0;
    this.killTimewait(slot);
    if (sw.timewaitCounting === 'fastTimerTW') this.apply(short ? Verdict.TW_EXPIRED_TW : Verdict.TW_EXPIRED_KILLED);
    else if (sw.timewaitCounting === 'expiryKilledIfShort') this.apply(short ? Verdict.TW_EXPIRED_KILLED : Verdict.TW_EXPIRED_TW);
    else this.apply(Verdict.TW_EXPIRED);
  }

  /** The application's accept() calls, per listener policy. */
  drainAccepts(): void {
    const elapsed = Math.max(0, this.now - this.lastAcceptTick);
    this.lastAcceptTick = this.now;
    for (let i = 0; i < this.listeners.length; i++) {
      const listener = this.listeners[i]!;
      const policy = this.acceptPolicies[i]!;
      if (policy.paused || policy.ratePerSecond <= 0) continue;
      if (policy.ratePerSecond === Infinity) {
        while (listener.acceptQueueLength > 0) this.accept(listener);
        continue;
      }
      let tokens = Math.min(this.acceptTokens[i]! + (elapsed * policy.ratePerSecond) / 1000, Math.max(1, policy.ratePerSecond));
      while (tokens >= 1 && listener.acceptQueueLength > 0) {
        this.accept(listener);
        tokens -= 1;
      }
      this.acceptTokens[i] = tokens;
    }
  }

  // ------------------------------------------------------------------ views for observers

  /** Requests of one listener (for `ss -a`). */
  *requestSlots(): Generator<number> {
    for (let slot = 0; slot < this.requests.highWater; slot++) if (this.requests.isLive(slot)) yield slot;
  }

  requestExpiresAt(slot: number): number {
    return this.requestTimers.timeOf(slot);
  }

  *timewaitSlots(): Generator<number> {
    for (let slot = 0; slot < this.timewait.highWater; slot++) if (this.timewait.inUse[slot] === 1) yield slot;
  }

  timewaitExpiresAt(slot: number): number {
    return this.timewaitTimers.timeOf(slot);
  }
}

/** tcp_in_window: seq at the left edge, or the segment overlaps [left, right). */
function inWindow(seq: number, endSeq: number, left: number, right: number): boolean {
  if (seq === left) return true;
  if (((endSeq - left) | 0) > 0 && ((seq - right) | 0) < 0) return true;
  return seq === right && seq === endSeq;
}

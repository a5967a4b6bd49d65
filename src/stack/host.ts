// The emulated host: demux, the listen path, timers. Pure and deterministic — frames and
// a virtual clock in, frames out through the TxRing — so every kernel rule is testable
// with crafted frames (design.md "Data flow"). The kernel functions themselves live in
// their own modules (conn-request, check-req, cookie-check, reqsk-timer, timewait-input,
// established), which work on the Host's internal state: members below without `private`
// are shared with them, not a public API.

import type { Profile } from '../profiles/profile.js';
import type { Sysctls } from '../profiles/sysctl.js';
import { isMulticastOrBroadcast } from '../wire/addr.js';
import { SegmentSpec, writeIcmpEchoReply, writeTcpSegment } from '../wire/builder.js';
import { IcmpType, IcmpView } from '../wire/icmp.js';
import { IpProtocol, Ipv4Field, Ipv4View, readI32, readU32 } from '../wire/ipv4.js';
import { TcpField, TcpFlag, TcpView } from '../wire/tcp.js';
import { TcpOptions } from '../wire/tcp-options.js';
import { WIRE_ERROR_COUNTERS, WireError } from '../wire/wire-error.js';
import { checkReq } from './check-req.js';
import { Connection, ConnState, type ConnectionHandler, type ConnectionHost } from './conn.js';
import { connRequest } from './conn-request.js';
import { FLOW_CONN, FLOW_REQUEST, FLOW_TIMEWAIT, TCP_MIN_SND_MSS } from './constants.js';
import { cookieCheck } from './cookie-check.js';
import { connReceive } from './established.js';
import { EVENT_HAS_TS, EventRing } from './events.js';
import { FlowTable } from './flow-table.js';
import { HostKeys, hsiphash3, hsiphash4, seededRandom } from './hash.js';
import { Listener } from './listener.js';
import { TcpMetrics } from './metrics.js';
import { Counter, newCounterArray } from './mib.js';
import { requestTimerFired } from './reqsk-timer.js';
import { RequestPool } from './reqsk.js';
import type { DecodedCookieOptions } from './syncookies.js';
import { TimerHeap } from './timers.js';
import { timewaitExpired, timewaitReceive } from './timewait-input.js';
import { TCP_TIMEWAIT_LEN_MS, TimewaitPool } from './timewait.js';
import { TxRing } from './tx.js';
import { Verdict, VERDICTS } from './verdict.js';

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

export { TCP_TIMEOUT_INIT, TCP_RTO_MAX, TCP_SYNQ_INTERVAL, TCP_PAWS_MSL_SEC, TCP_PAWS_WINDOW, TCP_MSS_DEFAULT } from './constants.js';

/** Verdicts that call tcp_listendrop, so they also bump the listener's sk_drops. */
const VERDICT_COUNTS_LISTEN_DROP = Uint8Array.from(VERDICTS, (v) => (v.counters.includes(Counter.ListenDrops) ? 1 : 0));

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

  readonly flows: FlowTable;
  readonly requestTimers = new TimerHeap();
  readonly timewaitTimers = new TimerHeap();
  readonly connTimers = new TimerHeap();
  private nextConnId = 1;
  private readonly tsClockBase: number;
  readonly cookieClockBase: number;
  private readonly acceptTokens: number[] = [];
  private lastAcceptTick = 0;

  // Reused per frame: the hot path allocates nothing.
  readonly ip = new Ipv4View(new Uint8Array(0));
  readonly tcp = new TcpView(new Uint8Array(0));
  readonly icmp = new IcmpView(new Uint8Array(0));
  readonly options = new TcpOptions();
  readonly spec = new SegmentSpec();
  readonly cookieOptions: DecodedCookieOptions = { ok: true, sackOk: false, peerWindowScale: -1, timestamps: false };
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
      this.sysctls.hot.maxSynBacklog,
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
    // int32 bit pattern: callers add their offset and fold with >>> 0 (no boxed uint32).
    return (this.tsClockBase + Math.floor(this.now)) | 0;
  }

  /**
   * The seconds clock of ts_recent_stamp / tcpm_ts_stamp (get_seconds(), later
   * ktime_get_seconds()). The kernel's is never 0 by the time a connection exists, and 0
   * means "no stamp" in all those fields (spec §2.2, §2.3); virtual time starts at 0, so the
   * first virtual second reads as 1 to keep a stamp taken then from looking absent.
   */
  nowSeconds(): number {
    return Math.max(1, Math.floor(this.now / 1000));
  }

  /** secure_tcp_sequence_number: keyed hash of the 4-tuple + a 64 ns clock (spec §1.10). */
  secureIsn(peerAddr: number, peerPort: number, localPort: number): number {
    const h = hsiphash4(this.keys.isn0, this.keys.isn1, peerAddr, this.address, (peerPort << 16) | localPort, 0);
    // int32 bit pattern (no boxed uint32 per SYN); stored in a Uint32Array or written as bytes.
    return (h + Math.floor(this.now * 15625)) | 0;
  }

  /** TSval offset of a flow (spec §2.5): none, per connection / 4-tuple, or per address pair. */
  tsOffsetFor(peerAddr: number, peerPort: number, localPort: number): number {
    const mode = this.switches.tsOffsets;
    if (mode === 'none' || this.sysctls.hot.timestamps === 2) return 0;
    const ports = mode === 'perPair' ? 0 : ((peerPort << 16) | localPort) >>> 0;
    return hsiphash3(this.keys.ts0, this.keys.ts1, peerAddr, this.address, ports);
  }

  // ------------------------------------------------------------------ verdicts

  /** Bumps the verdict's counters and records it: the only place counters move for decisions. */
  apply(verdict: number, aux = 0, listener?: Listener): number {
    this.count(verdict, listener);
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

  /**
   * Counters only, no event: for bookkeeping decisions that the packet's own verdict already
   * tells (tcp_syn_flood_action choosing a cookie runs for every SYN under tcp_syncookies=2).
   */
  count(verdict: number, listener?: Listener): void {
    const counters = VERDICTS[verdict]!.counters;
    for (let i = 0; i < counters.length; i++) this.counters[counters[i]!]!++;
    this.verdictCounts[verdict]!++;
    if (listener !== undefined && VERDICT_COUNTS_LISTEN_DROP[verdict] === 1) listener.drops++;
  }

  /** Verdict bookkeeping for timer events: the request's flow stands in for "the segment". */
  setEventFlow(peerAddr: number, peerPort: number, localPort: number, seq: number, ack: number): void {
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
    // Header fields read once, straight from the checked bytes (RFC 791 offsets): the getters
    // of Ipv4View/TcpView were not all inlined into this long function.
    this.ip.reset(buf, off, len);
    const headerLength = (buf[off]! & 0x0f) << 2;
    const payloadOffset = off + headerLength;
    const payloadLength = ((buf[off + 2]! << 8) | buf[off + 3]!) - headerLength;
    const src = readU32(buf, off + Ipv4Field.SRC_ADDR);
    const dst = readU32(buf, off + Ipv4Field.DST_ADDR);
    this.segPeerAddr = src;
    this.segPeerPort = 0;
    this.segLocalPort = 0;
    this.segSeq = this.segAck = this.segFlags = 0;
    this.options.hasTimestamps = false;
    const toBroadcast = dst === this.broadcast || isMulticastOrBroadcast(dst);
    if (dst !== this.address && !toBroadcast) return this.apply(Verdict.NOT_FOR_US);
    const protocol = buf[off + Ipv4Field.PROTOCOL]!;
    if (protocol === IpProtocol.TCP) {
      const tcpError = TcpView.check(buf, payloadOffset, payloadLength, src, dst, this.options);
      if (tcpError !== WireError.Ok) {
        c[Counter.InErrs]!++;
        if (tcpError === WireError.BadTcpChecksum) c[Counter.InCsumErrors]!++;
        return this.rejectMalformed(tcpError);
      }
      c[Counter.RxAccepted]!++;
      c[Counter.IpInDelivers]!++;
      c[Counter.InSegs]!++;
      this.tcp.reset(buf, payloadOffset, payloadLength);
      const flags = buf[payloadOffset + TcpField.FLAGS]!;
      this.segPeerPort = (buf[payloadOffset]! << 8) | buf[payloadOffset + 1]!;
      this.segLocalPort = (buf[payloadOffset + 2]! << 8) | buf[payloadOffset + 3]!;
      this.segSeq = readI32(buf, payloadOffset + TcpField.SEQ);
      this.segAck = readI32(buf, payloadOffset + TcpField.ACK);
      this.segFlags = flags;
      if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) c[Counter.RxSyn]!++;
      this.applySysctlsToOptions();
      return this.tcpReceive(src, toBroadcast);
    }
    if (protocol === IpProtocol.ICMP) {
      if (IcmpView.check(buf, payloadOffset, payloadLength) !== WireError.Ok) {
        c[Counter.IcmpInErrors]!++;
        return this.rejectMalformed(WireError.BadIcmp);
      }
      c[Counter.RxAccepted]!++;
      c[Counter.IpInDelivers]!++;
      c[Counter.IcmpInMsgs]!++;
      return this.icmpReceive(buf, payloadOffset, payloadLength, src, toBroadcast);
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
    if (o.hasTimestamps && this.sysctls.hot.timestamps === 0) o.hasTimestamps = false;
    if (o.sackPermitted && this.sysctls.hot.sack === 0) o.sackPermitted = false;
    if (o.hasWindowScale && this.sysctls.hot.windowScaling === 0) o.hasWindowScale = false;
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
        const verdict = checkReq(this, index);
        if (verdict !== Verdict.NONE) return verdict;
        // tcp_check_req handed the segment back to the listener (§3.1 R3). 3.10 answers it
        // from tcp_rcv_state_process (LISTEN + ACK → RST) without a cookie check, so no
        // SyncookiesFailed (spec §1.0, §9a #46); 4.4+ go on to the listener path below.
        if (this.switches.requestRejectedAckPath === 'listenerRst') {
          this.sendReset();
          return this.apply(Verdict.REQ_BAD_ACK);
        }
      } else if (kind === FLOW_CONN) {
        return connReceive(this, this.connections.get(index)!);
      } else {
        const verdict = timewaitReceive(this, index);
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
      if ((flags & TcpFlag.ACK) !== 0 && (flags & TcpFlag.RST) === 0) return cookieCheck(this, listener, src);
      if ((flags & TcpFlag.RST) !== 0) return this.apply(Verdict.DROP_LISTEN_RST);
      return this.apply(Verdict.DROP_LISTEN_OTHER);
    }
    if ((flags & TcpFlag.ACK) !== 0) {
      this.sendReset();
      return this.apply(Verdict.RST_STRAY_ACK);
    }
    if ((flags & TcpFlag.RST) !== 0) return this.apply(Verdict.DROP_LISTEN_RST);
    if ((flags & TcpFlag.FIN) !== 0) return this.apply(Verdict.DROP_SYN_FIN);
    return connRequest(this, listener, src, toBroadcast, isn);
  }

  // ------------------------------------------------------------------ output

  /** Writes one segment into the tx ring (the kernel's ip_build_and_send_pkt, here). */
  emit(spec: SegmentSpec): void {
    const at = this.tx.reserve();
    this.tx.commit(writeTcpSegment(this.tx.slab, at, spec));
    if ((spec.flags & TcpFlag.SYN) !== 0) this.counters[Counter.TxSynAck]!++;
    this.counters[Counter.OutSegs]!++;
    this.counters[Counter.IpOutRequests]!++;
  }

  /** tcp_v4_send_reset for the current segment (spec §8 stray ACK: seq = its ack, window 0). */
  sendReset(): void {
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

  // ------------------------------------------------------------------ children

  createChild(
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
    // tcp_mtu_to_mss floors the send MSS at tcp_min_snd_mss; the TS option takes 12 bytes of it.
    const mss = Math.max(TCP_MIN_SND_MSS, Math.min(peerMss, this.ourMss)) - (timestamps ? 12 : 0);
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
  childReceive(conn: Connection): void {
    const tcp = this.tcp;
    const owed = conn.receiveSegment(tcp.flags, tcp.seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength);
    if (owed && !conn.isClosed()) this.sendConnAck(conn);
    this.drainAccepts();
  }

  // ------------------------------------------------------------------ established

  /** Set while a FIN moves a connection to TIME_WAIT, so its ACK goes out from the bucket. */
  timewaitJustEntered = -1;

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

  sendConnAck(conn: Connection): void {
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
    if (conn.rttSamples > 0) this.metrics.updateRtt(conn.peerAddr, conn.srtt, this.now);
    this.removeConn(conn, 'closed');
  }

  connLeftEstablished(_conn: Connection): void {
    this.counters[Counter.CurrEstab]!--;
  }

  private removeConn(conn: Connection, why: 'closed' | 'reset' | 'timeout'): void {
    if (conn.isClosed()) return;
    conn.setState(ConnState.CLOSED);
    this.connections.delete(conn.id);
    this.flows.delete(conn.peerAddr, conn.peerPort, conn.localPort);
    this.connTimers.cancel(conn.id);
    if (conn.handler !== null) conn.handler.onClosed(conn, why);
  }

  /** tcp_time_wait (spec §2.2, §2.4): the bucket, the recycle timeout, the metrics stamp. */
  connEnterTimewait(conn: Connection): void {
    const tw = this.timewait;
    const sw = this.switches;
    if (tw.live >= this.sysctls.hot.maxTwBuckets) {
      this.setEventFlow(conn.peerAddr, conn.peerPort, conn.localPort, conn.sndNxt, conn.rcvNxt);
      this.apply(Verdict.TW_OVERFLOW);
      this.removeConn(conn, 'closed');
      return;
    }
    const twRecycle = sw.hasTwRecycle && this.sysctls.hot.twRecycle !== 0;
    let recycleOk = false;
    if (twRecycle && conn.tsRecentStamp !== 0) {
      recycleOk = this.metrics.rememberStamp(conn.peerAddr, conn.tsRecent, conn.tsRecentStamp, this.nowSeconds(), true, this.now);
    }
    // tcp_update_metrics: the RTT makes the peer "proven" (spec §2.2).
    if (conn.rttSamples > 0) this.metrics.updateRtt(conn.peerAddr, conn.srtt, this.now);
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

  /** ISN for a SYN accepted by TIME_WAIT (tw_snd_nxt + 65535 + 2). */
  twIsn = 0;

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
      if (at === requestAt) requestTimerFired(this, this.requestTimers.pop());
      else if (at === timewaitAt) timewaitExpired(this, this.timewaitTimers.pop());
      else {
        const conn = this.connections.get(this.connTimers.pop());
        if (conn !== undefined) conn.onRetransmitTimer();
      }
    }
    this.now = Math.max(this.now, now);
    this.drainAccepts();
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


// Full sockets: the child a handshake creates (tcp_create_openreq_child, then
// inet_csk_complete_hashdance), the segment that completed it (tcp_child_process), the
// connection's output and timers, and its end. Connections call back through FullSockets.

import { IP_ECN_ECT0 } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { Connection, type ConnectionHost } from './conn.js';
import { unhashConnection } from './conn-table.js';
import { FLOW_CONN, TCP_MIN_SND_MSS } from './constants.js';
import type { Listener } from './listener.js';
import { Counter } from './mib.js';
import { apply, emit } from './output.js';
import { offeredWindowScale } from './receive-window.js';
import { Segment } from './segment.js';
import type { KernelState } from './state.js';
import { enterTimewait } from './timewait-sock.js';
import { Verdict } from './verdict.js';

/**
 * What the child inherits from the request (or the cookie) that made it. One record per host
 * (`KernelState.child`), every field written by the caller before `createChild`: a fresh
 * object per handshake was a fifth of what a connection allocated (its 32-bit fields boxed).
 */
export class ChildParameters {
  peerAddr = 0;
  peerPort = 0;
  localPort = 0;
  iss = 0;
  irs = 0;
  peerMss = 0;
  peerWindowScale = -1;
  sackOk = false;
  timestamps = false;
  tsOffset = 0;
  tsRecent = 0;
  /** rcv_wnd the request (or the cookie's MSS) gave the child (receive-window.ts). */
  rcvWnd = 0;
  /** ECN was negotiated: new data leaves ECT(0)-marked (tcp_ecn_send). */
  ecnOk = false;
  /** The handshake's RTT sample (ms), −1 when the SYN-ACK was retransmitted (Karn). */
  rttSample = -1;
}

/** A connection's calls into the kernel: output, timers, the end of its life. */
export class FullSockets implements ConnectionHost {
  /** Connection transitions are not segments: their events carry the connection's flow. */
  private readonly eventSegment = new Segment();

  constructor(private readonly state: KernelState) {}

  get now(): number {
    return this.state.now;
  }

  sendConnSegment(conn: Connection, flags: number, seq: number, data: Uint8Array | null, dataOffset: number, dataLength: number): void {
    sendConnSegment(this.state, conn, flags, seq, data, dataOffset, dataLength);
  }

  scheduleConnTimer(conn: Connection, at: number): void {
    this.state.connTimers.schedule(conn.id, at);
  }

  cancelConnTimer(conn: Connection): void {
    this.state.connTimers.cancel(conn.id);
  }

  connRetransmitted(_conn: Connection, segments: number): void {
    this.state.counters[Counter.RetransSegs]! += segments;
  }

  connAborted(conn: Connection): void {
    const state = this.state;
    sendConnSegment(state, conn, TcpFlag.RST | TcpFlag.ACK, conn.sndNxt, null, 0, 0);
    apply(state, this.flowOf(conn), Verdict.CONN_ABORT_TIMEOUT);
    unhashConnection(state, conn, 'timeout');
  }

  connFinished(conn: Connection): void {
    // LAST_ACK → CLOSED: tcp_update_metrics then tcp_done.
    if (conn.rttSamples > 0) this.state.metrics.updateRtt(conn.peerAddr, conn.srtt, this.state.now);
    unhashConnection(this.state, conn, 'closed');
  }

  connLeftEstablished(_conn: Connection): void {
    this.state.counters[Counter.CurrEstab]!--;
  }

  connEnterTimewait(conn: Connection): void {
    enterTimewait(this.state, this.flowOf(conn), conn);
  }

  private flowOf(conn: Connection): Segment {
    return this.eventSegment.forFlow(conn.peerAddr, conn.peerPort, conn.localPort, conn.sndNxt, conn.rcvNxt);
  }
}

/** The child socket, hashed and queued for accept() (spec §3.1 R11, §3.4). */
export function createChild(state: KernelState, listener: Listener, child: ChildParameters): Connection {
  const id = state.nextConnId++;
  const { peerAddr, peerPort, localPort, timestamps } = child;
  // tcp_mtu_to_mss floors the send MSS at tcp_min_snd_mss; the TS option takes 12 bytes of it.
  const mss = Math.max(TCP_MIN_SND_MSS, Math.min(child.peerMss, state.mssFor(peerAddr))) - (timestamps ? 12 : 0);
  const conn = new Connection(
    state.connectionHost,
    id,
    listener.index,
    state.address,
    localPort,
    peerAddr,
    peerPort,
    child.iss,
    child.irs,
    mss,
    child.peerWindowScale,
    offeredWindowScale(state.sysctls.hot),
    child.sackOk,
    timestamps,
    child.tsOffset,
  );
  conn.tsRecent = child.tsRecent;
  conn.initialRcvWnd = child.rcvWnd;
  conn.rcvWnd = child.rcvWnd;
  conn.rcvWup = conn.rcvNxt;
  conn.ecnOk = child.ecnOk;
  conn.ipId = state.initialSocketIpId(peerAddr, peerPort, localPort, child.iss);
  conn.windowLosesFin = state.switches.unscaledWindowLosesFin;
  conn.windowRoundsDown = state.switches.windowRoundsFreeSpaceDown;
  conn.tsRecentStamp = timestamps ? state.nowSeconds() : 0;
  if (child.rttSample >= 0) conn.sampleRtt(child.rttSample);
  state.connections.set(id, conn);
  state.flows.set(peerAddr, peerPort, localPort, (id << 2) | FLOW_CONN);
  listener.enqueueAccepted(conn);
  state.counters[Counter.CurrEstab]!++;
  // tcp_init_metrics looks the peer up with create semantics.
  state.metrics.getOrCreate(peerAddr, state.now);
  return conn;
}

/** The third ACK (or cookie ACK) is processed by the new child (tcp_child_process). */
export function childReceive(state: KernelState, seg: Segment, conn: Connection): void {
  const tcp = seg.tcp;
  conn.receiveSegment(tcp.flags, tcp.seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength);
  // A process blocked in accept() wakes up now (sk_data_ready on the listener).
  state.application?.run(state.now);
}

export function sendConnSegment(
  state: KernelState,
  conn: Connection,
  flags: number,
  seq: number,
  data: Uint8Array | null,
  dataOffset: number,
  dataLength: number,
): void {
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = conn.peerAddr;
  spec.srcPort = conn.localPort;
  spec.dstPort = conn.peerPort;
  spec.seq = seq;
  spec.ack = (flags & TcpFlag.ACK) !== 0 ? conn.rcvNxt : 0;
  spec.flags = flags;
  spec.window = conn.selectWindow();
  spec.ipId = conn.ipId;
  conn.ipId = (conn.ipId + 1) & 0xffff;
  if (conn.timestamps && (flags & TcpFlag.RST) === 0) {
    spec.hasTimestamps = true;
    spec.tsVal = (state.tsNow() + conn.tsOffset) >>> 0;
    spec.tsEcr = conn.tsRecent;
  }
  if (data !== null && dataLength > 0) {
    // tcp_ecn_send: new data of an ECN connection is ECT(0); pure ACKs, FINs and
    // retransmissions are not.
    if (conn.ecnOk && ((seq - conn.sndNxt) | 0) >= 0) spec.tos = IP_ECN_ECT0;
    spec.payload = data;
    spec.payloadOffset = dataOffset;
    spec.payloadLength = dataLength;
  }
  emit(state, spec);
  if ((flags & TcpFlag.RST) !== 0) state.counters[Counter.OutRsts]!++;
}

export function sendConnAck(state: KernelState, conn: Connection): void {
  sendConnSegment(state, conn, TcpFlag.ACK, conn.sndNxt, null, 0, 0);
}

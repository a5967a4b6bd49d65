// A minimal full socket (spec §3.1 R10–R11 onwards): enough TCP for real HTTP clients —
// in-order data, immediate ACKs, our data retransmitted on timeout, FIN both ways, RST.
// Not on the SYN path: plain objects are fine here.

import { TcpFlag } from '../wire/tcp.js';
import { selectWindow, windowField } from './receive-window.js';

export const ConnState = {
  ESTABLISHED: 1,
  FIN_WAIT_1: 2,
  FIN_WAIT_2: 3,
  CLOSE_WAIT: 4,
  CLOSING: 5,
  LAST_ACK: 6,
  CLOSED: 7,
} as const;

export type ConnStateValue = (typeof ConnState)[keyof typeof ConnState];

export const CONN_STATE_NAMES: Record<number, string> = {
  1: 'ESTAB',
  2: 'FIN-WAIT-1',
  3: 'FIN-WAIT-2',
  4: 'CLOSE-WAIT',
  5: 'CLOSING',
  6: 'LAST-ACK',
  7: 'CLOSED',
};

/** TCP_RTO_MIN and TCP_RTO_MAX (ms). */
export const TCP_RTO_MIN = 200;
export const TCP_RTO_MAX = 120_000;
/** tcp_retries2 default: give up after this many retransmissions of the same data. */
export const TCP_RETRIES2 = 15;

/** The application's side of a connection (src/app implements it). */
export interface ConnectionHandler {
  onAccepted(conn: Connection): void;
  onData(conn: Connection, data: Uint8Array): void;
  onPeerClosed(conn: Connection): void;
  onClosed(conn: Connection, why: 'closed' | 'reset' | 'timeout'): void;
}

/** What a connection needs from its host: output, timers, and the end of its life. */
export interface ConnectionHost {
  readonly now: number;
  sendConnSegment(conn: Connection, flags: number, seq: number, data: Uint8Array | null, dataOffset: number, dataLength: number): void;
  scheduleConnTimer(conn: Connection, at: number): void;
  cancelConnTimer(conn: Connection): void;
  connRetransmitted(conn: Connection, segments: number): void;
  connAborted(conn: Connection): void;
  connEnterTimewait(conn: Connection): void;
  connFinished(conn: Connection): void;
  /** The connection left ESTABLISHED/CLOSE_WAIT: TcpCurrEstab counts only those two. */
  connLeftEstablished(conn: Connection): void;
}

/**
 * The send buffer of a connection that has written nothing: shared, never written into (write()
 * makes a new array). A fresh Uint8Array (and ArrayBuffer) per connection, with the held-data
 * array, was ~190 of the ~980 bytes a handshake allocated (bench cookieAck path).
 */
const NO_BYTES = new Uint8Array(0);

/** TCP_MIB_CURRESTAB counts ESTABLISHED and CLOSE_WAIT sockets. */
function countedAsEstablished(s: ConnStateValue): boolean {
  return s === ConnState.ESTABLISHED || s === ConnState.CLOSE_WAIT;
}

export class Connection {
  readonly id: number;
  readonly listenerIndex: number;
  readonly localAddr: number;
  readonly localPort: number;
  readonly peerAddr: number;
  readonly peerPort: number;
  private stateValue: ConnStateValue = ConnState.ESTABLISHED;
  /** Our send sequence space. */
  sndUna: number;
  sndNxt: number;
  /** Peer's window in bytes (already scaled). */
  sndWnd = 0;
  rcvNxt: number;
  /** Effective send MSS (peer MSS clamped to ours, minus the TS option when used). */
  mss: number;
  peerWindowScale: number;
  ourWindowScale: number;
  /** The initial receive window of this version (receive-window.ts), which free space returns to once the application has read. */
  initialRcvWnd = 0xffff;
  /** rcv_wnd and rcv_wup: the window last advertised and the rcv_nxt it was advertised at. */
  rcvWnd = 0xffff;
  rcvWup = 0;
  /**
   * What the quick ACK about to leave acknowledges that the application has not read yet:
   * nothing, data, or only a FIN (spec §8c measured the unscaled case only for a FIN).
   */
  private unread: 'none' | 'data' | 'fin' = 'none';
  /** The peer's FIN reached the timewait minisock this socket had become in FIN_WAIT_2. */
  private finMetTimewait = false;
  /** The version lets an unscaled window shrink by what arrived unread (6.1: 64239 after a FIN; 3.10/4.x keep 14600). */
  windowLosesFin = false;
  /** The version rounds free space down to the scale unit (profile windowRoundsFreeSpaceDown). */
  windowRoundsDown = false;
  /** ECN negotiated on the handshake (TCP_ECN_OK). */
  ecnOk = false;
  /** inet_id: the IP id of our next segment, counting up from a random start (spec §8c). */
  ipId = 0;
  sackOk: boolean;
  timestamps: boolean;
  tsRecent = 0;
  /** Seconds when tsRecent was last updated (ts_recent_stamp). */
  tsRecentStamp = 0;
  tsOffset: number;
  srtt = 0;
  /** RTT samples taken; the host's clock is in whole ms, so a LAN sample is often 0. */
  rttSamples = 0;
  rttvar = 0;
  rto = 1000;
  retransmits = 0;
  /** Bytes from sndUna on: unacknowledged, then unsent. */
  private sendBuffer: Uint8Array = NO_BYTES;
  /** The application closed: a FIN follows the data. */
  finQueued = false;
  finSent = false;
  /** Set when accept() took the connection; data arriving before is held. */
  accepted = false;
  /** Data that arrived before accept(), in order; null while there is none (most connections). */
  private heldData: Uint8Array[] | null = null;
  private peerClosedBeforeAccept = false;
  handler: ConnectionHandler | null = null;
  private readonly host: ConnectionHost;

  constructor(
    host: ConnectionHost,
    id: number,
    listenerIndex: number,
    localAddr: number,
    localPort: number,
    peerAddr: number,
    peerPort: number,
    iss: number,
    irs: number,
    mss: number,
    peerWindowScale: number,
    ourWindowScale: number,
    sackOk: boolean,
    timestamps: boolean,
    tsOffset: number,
  ) {
    this.host = host;
    this.id = id;
    this.listenerIndex = listenerIndex;
    this.localAddr = localAddr;
    this.localPort = localPort;
    this.peerAddr = peerAddr;
    this.peerPort = peerPort;
    this.sndUna = (iss + 1) >>> 0;
    this.sndNxt = this.sndUna;
    this.rcvNxt = (irs + 1) >>> 0;
    this.mss = mss;
    this.peerWindowScale = peerWindowScale;
    this.ourWindowScale = peerWindowScale >= 0 ? ourWindowScale : 0;
    this.sackOk = sackOk;
    this.timestamps = timestamps;
    this.tsOffset = tsOffset;
  }

  get state(): ConnStateValue {
    return this.stateValue;
  }

  /** tcp_set_state: TCP_MIB_CURRESTAB counts ESTABLISHED and CLOSE_WAIT sockets. */
  setState(next: ConnStateValue): void {
    const before = this.stateValue;
    this.stateValue = next;
    if (countedAsEstablished(before) && !countedAsEstablished(next)) this.host.connLeftEstablished(this);
  }

  /** RTT sample (tcp_rtt_estimator, RFC 6298), then RTO with the 200 ms floor. */
  sampleRtt(rttMs: number): void {
    if (this.rttSamples++ === 0) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
      this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
    }
    this.rto = Math.min(TCP_RTO_MAX, Math.ceil(this.srtt + Math.max(4 * this.rttvar, TCP_RTO_MIN)));
  }

  /** Bytes the peer may still send beyond rcv_nxt (tcp_receive_window). */
  get receiveWindow(): number {
    return Math.max(0, (this.rcvWup + this.rcvWnd - this.rcvNxt) | 0);
  }

  /**
   * tcp_select_window for the segment about to leave (spec §8c): the window field, and the
   * new rcv_wnd/rcv_wup it commits to. The window never shrinks below what was promised.
   */
  selectWindow(): number {
    const rcvWnd = selectWindow(this.receiveWindow, this.initialRcvWnd, this.ourWindowScale, this.unread, this.windowLosesFin, this.windowRoundsDown);
    this.rcvWnd = rcvWnd;
    this.rcvWup = this.rcvNxt;
    return windowField(rcvWnd, this.ourWindowScale);
  }

  /**
   * tw_rcv_wnd >> tw_rcv_wscale: what the TIME_WAIT bucket will advertise (a plain shift). A
   * closed socket became the timewait minisock on reaching FIN_WAIT_2, before the peer's FIN
   * consumed a sequence number: its window is the one from then.
   */
  get timewaitWindow(): number {
    const bytes = this.receiveWindow + (this.finMetTimewait ? 1 : 0);
    return Math.min(0xffff, bytes >>> this.ourWindowScale);
  }

  get sendQueueBytes(): number {
    return this.sendBuffer.length;
  }


  // --- application side ---

  write(data: Uint8Array): void {
    if (this.finQueued || this.state === ConnState.CLOSED) return;
    if (data.length === 0) return;
    const merged = new Uint8Array(this.sendBuffer.length + data.length);
    merged.set(this.sendBuffer);
    merged.set(data, this.sendBuffer.length);
    this.sendBuffer = merged;
    this.push();
  }

  /** close(): FIN after the queued data (active close if the peer has not closed yet). */
  close(): void {
    if (this.finQueued || this.state === ConnState.CLOSED) return;
    this.finQueued = true;
    if (this.state === ConnState.ESTABLISHED) this.setState(ConnState.FIN_WAIT_1);
    else if (this.state === ConnState.CLOSE_WAIT) this.setState(ConnState.LAST_ACK);
    this.push();
  }

  /** Abort with RST (SO_LINGER 0). */
  abort(): void {
    if (this.state === ConnState.CLOSED) return;
    this.host.sendConnSegment(this, TcpFlag.RST | TcpFlag.ACK, this.sndNxt, null, 0, 0);
    this.host.connFinished(this);
  }

  /** accept() took this connection: hand over what arrived before. */
  deliverAccepted(handler: ConnectionHandler): void {
    this.accepted = true;
    this.handler = handler;
    handler.onAccepted(this);
    const held = this.heldData;
    this.heldData = null;
    if (held !== null) for (const chunk of held) if (this.state !== ConnState.CLOSED) handler.onData(this, chunk);
    if (this.peerClosedBeforeAccept && this.state !== ConnState.CLOSED) handler.onPeerClosed(this);
  }

  // --- output ---

  /** Sends what the peer's window allows, and the FIN once the data is out. */
  push(): void {
    const end = this.sendBuffer.length;
    let offset = (this.sndNxt - this.sndUna) >>> 0;
    const windowLimit = Math.max(this.sndWnd, 0);
    let sent = 0;
    while (offset < end) {
      const inFlight = offset;
      const room = windowLimit - inFlight;
      if (room <= 0) break;
      const length = Math.min(this.mss, end - offset, room);
      const last = offset + length === end;
      const fin = last && this.finQueued && !this.finSent;
      let flags = TcpFlag.ACK;
      if (last) flags |= TcpFlag.PSH;
      if (fin) flags |= TcpFlag.FIN;
      this.host.sendConnSegment(this, flags, this.sndNxt, this.sendBuffer, offset, length);
      this.sndNxt = (this.sndNxt + length + (fin ? 1 : 0)) >>> 0;
      if (fin) this.finSent = true;
      offset += length;
      sent++;
    }
    if (offset === end && this.finQueued && !this.finSent) {
      this.host.sendConnSegment(this, TcpFlag.FIN | TcpFlag.ACK, this.sndNxt, null, 0, 0);
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      this.finSent = true;
      sent++;
    }
    if (sent > 0) this.armRetransmit();
    // Data waits behind a zero window with nothing in flight: the persist timer probes it.
    else if (offset < end && this.sndNxt === this.sndUna) this.armRetransmit();
  }

  private armRetransmit(): void {
    this.host.scheduleConnTimer(this, this.host.now + this.rto * 2 ** Math.min(this.retransmits, 10));
  }

  /** The retransmission timer fired: go back to sndUna (RFC 6298 §5.4–5.6). */
  onRetransmitTimer(): void {
    const persist = this.sndNxt === this.sndUna && this.sendBuffer.length > 0;
    if (this.sndNxt === this.sndUna && !persist) {
      if (this.state === ConnState.FIN_WAIT_2) this.host.connFinished(this);
      return;
    }
    this.retransmits++;
    if (this.retransmits > TCP_RETRIES2) {
      this.host.connAborted(this);
      return;
    }
    const finWasSent = this.finSent;
    this.sndNxt = this.sndUna;
    this.finSent = false;
    const before = this.sndNxt;
    // Probe a closed window with one byte, as the persist timer would.
    const savedWindow = this.sndWnd;
    if (this.sndWnd === 0) this.sndWnd = 1;
    this.push();
    this.sndWnd = savedWindow;
    if (!this.finSent && finWasSent && this.sendBuffer.length === 0) {
      this.host.sendConnSegment(this, TcpFlag.FIN | TcpFlag.ACK, this.sndNxt, null, 0, 0);
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      this.finSent = true;
    }
    const segments = Math.max(1, Math.ceil(((this.sndNxt - before) >>> 0) / Math.max(1, this.mss)));
    if (!persist) this.host.connRetransmitted(this, segments);
    this.armRetransmit();
  }

  // --- input (after the host checked sequence acceptability and PAWS) ---

  /**
   * Processes ACK, data and FIN of an acceptable segment. New data and a FIN are acknowledged
   * at once, before the application sees them: the kernel ACKs in softirq (quick-ACK mode at
   * the start of a connection) and the process reads later, so its answer carries the same
   * ack number and no second pure ACK follows it (spec §8c). Data out of order gets a
   * duplicate ACK. Returns true when the ACK is owed by the TIME_WAIT bucket instead: a FIN
   * reaching a closed socket already in FIN_WAIT_2 meets the timewait minisock that
   * tcp_rcv_state_process made of it (tcp_time_wait(sk, TCP_FIN_WAIT2, …)), whose ACK leaves
   * from the control socket (IP id 0 on 4.17+, measured on 6.18).
   */
  receiveSegment(flags: number, seq: number, ack: number, window: number, data: Uint8Array, dataOffset: number, dataLength: number): boolean {
    let ackOwed = false;
    const wasFinWait2 = this.state === ConnState.FIN_WAIT_2;
    if ((flags & TcpFlag.ACK) !== 0) this.processAck(ack, window);
    if (this.isClosed()) return false;
    let chunk: Uint8Array | null = null;
    // Data: in order only; anything ahead is dropped and re-requested by a duplicate ACK.
    if (dataLength > 0) {
      const skip = (this.rcvNxt - seq) | 0;
      if (skip > 0 && skip < dataLength) {
        dataOffset += skip;
        dataLength -= skip;
        seq = this.rcvNxt;
      }
      if (seq === this.rcvNxt) {
        if (this.state === ConnState.ESTABLISHED || this.state === ConnState.FIN_WAIT_1 || this.state === ConnState.FIN_WAIT_2) {
          this.rcvNxt = (this.rcvNxt + dataLength) >>> 0;
          chunk = data.slice(dataOffset, dataOffset + dataLength);
        }
      }
      ackOwed = true;
    }
    const fin = (flags & TcpFlag.FIN) !== 0 && ((seq + dataLength) >>> 0) === this.rcvNxt;
    if (fin) {
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      ackOwed = true;
    }
    const fromTimewait = fin && wasFinWait2 && chunk === null;
    this.finMetTimewait = fromTimewait;
    // The quick ACK leaves while what arrived is still unread (its window shows it).
    this.unread = chunk !== null ? 'data' : fin ? 'fin' : 'none';
    if (ackOwed && !fromTimewait) this.host.sendConnSegment(this, TcpFlag.ACK, this.sndNxt, null, 0, 0);
    this.unread = 'none';
    if (chunk !== null) this.deliver(chunk);
    if (fin && !this.isClosed()) this.peerFin();
    return fromTimewait;
  }

  isClosed(): boolean {
    return this.state === ConnState.CLOSED;
  }

  private deliver(chunk: Uint8Array): void {
    if (this.accepted && this.handler !== null) this.handler.onData(this, chunk);
    else (this.heldData ??= []).push(chunk);
  }

  private processAck(ack: number, window: number): void {
    this.sndWnd = window << (this.peerWindowScale >= 0 ? this.peerWindowScale : 0);
    const acked = (ack - this.sndUna) | 0;
    const outstanding = (this.sndNxt - this.sndUna) >>> 0;
    if (acked <= 0 || acked > outstanding) {
      // A pure window update (or duplicate ACK) may open room for queued data.
      if (acked === 0) this.push();
      return;
    }
    const finAcked = this.finSent && ack === this.sndNxt;
    const dataAcked = Math.min(acked, this.sendBuffer.length);
    if (dataAcked > 0) this.sendBuffer = this.sendBuffer.subarray(dataAcked);
    this.sndUna = ack;
    this.retransmits = 0;
    if (this.sndNxt === this.sndUna) this.host.cancelConnTimer(this);
    else this.armRetransmit();
    if (finAcked) {
      if (this.state === ConnState.FIN_WAIT_1) {
        this.setState(ConnState.FIN_WAIT_2);
        this.host.scheduleConnTimer(this, this.host.now + 60_000);
      } else if (this.state === ConnState.CLOSING) {
        this.host.connEnterTimewait(this);
        return;
      } else if (this.state === ConnState.LAST_ACK) {
        this.host.connFinished(this);
        return;
      }
    }
    this.push();
  }

  private peerFin(): void {
    switch (this.state) {
      case ConnState.ESTABLISHED:
        this.setState(ConnState.CLOSE_WAIT);
        if (this.accepted && this.handler !== null) this.handler.onPeerClosed(this);
        else this.peerClosedBeforeAccept = true;
        break;
      case ConnState.FIN_WAIT_1:
        // Our FIN not acknowledged yet (else processAck moved us to FIN_WAIT_2).
        this.setState(ConnState.CLOSING);
        break;
      case ConnState.FIN_WAIT_2:
        this.host.connEnterTimewait(this);
        break;
      default:
        break;
    }
  }
}

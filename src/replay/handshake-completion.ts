// --complete-handshakes: the one place the replay closes the loop. Where the emulated server
// sends a SYN-ACK that the real server never sent for that connection, the captured client
// never answered it (it never got it), so an open-loop replay stops at half-open and 3.10's
// ghosts (spec §1.1 C3, §3.2) can never show. This synthesizes what the client's kernel would
// have sent: its ACK, one client RTT (handshake-rtt.ts) after the SYN-ACK left —
//   seq = client ISN + 1, ack = the emulated ISN + 1, flags ACK, no payload;
//   window = the window field of the client's SYN, shifted by its window scale when both
//            sides offered one (RFC 7323 §2.2: a SYN's window is never scaled, an ACK's is);
//   timestamps only when the SYN and the SYN-ACK both carried them (RFC 7323 §3.2): TSval =
//            the SYN's TSval advanced by the ms since that SYN (a 1 kHz clock, Linux ≥ 4.13),
//            TSecr = the SYN-ACK's TSval.
// Every emulated SYN-ACK (a retransmit too) gets one, as a real client would answer each. It is
// dropped when it falls due and the capture shows the real server's SYN-ACK or the client's own
// ACK for that connection by then: the captured segments say what happened from there.

import { EventHeap } from '../simulate/event-heap.js';
import { isIpv6Key } from '../stack/peers6.js';
import { SegmentSpec, writeTcpSegment } from '../wire/builder.js';
import { TcpFlag } from '../wire/tcp.js';
import type { CapturedSegment } from './captured-segment.js';
import type { ConnectionTable } from './connection-table.js';
import type { HandshakeRtts } from './handshake-rtt.js';
import type { ConnectionTrack } from './outcome.js';
import type { ServerEndpoint } from './server-endpoint.js';

interface PendingAck {
  track: ConnectionTrack;
  /** The attempt it answers (a track is reused for later connections). */
  synSeq: number;
  firstSynAt: number;
  ack: number;
  /** The SYN-ACK's TSval, or -1 when it carried no timestamps. */
  tsEcr: number;
  /** The SYN-ACK offered window scale: the client's window is then scaled. */
  scaled: boolean;
  rttMicros: number;
}

/** What the real server did, if anything, for the connection: then nothing is synthesized. */
const realAnswered = (track: ConnectionTrack): boolean => track.real.synAcks > 0 || track.real.clientCompletedAt >= 0;

export class HandshakeCompletion {
  readonly #due = new EventHeap();
  readonly #pending: Array<PendingAck | null> = [];
  readonly #free: number[] = [];
  readonly #spec = new SegmentSpec();
  /** The synthesized segment written by take(): IPv6 + TCP + timestamps is 72 bytes. */
  readonly frame = new Uint8Array(128);
  /** The connection and RTT of the segment take() wrote last. */
  track: ConnectionTrack | null = null;
  rttMicros = 0;
  synthesized = 0;

  constructor(
    readonly rtts: HandshakeRtts,
    readonly server: ServerEndpoint,
    readonly tracks: ConnectionTable,
  ) {}

  /** The emulated server sent `synAck` to `track`'s client at capture time `sentMicros`. */
  schedule(track: ConnectionTrack, synAck: CapturedSegment, sentMicros: number): void {
    if (realAnswered(track)) return;
    const rttMicros = this.rtts.rttMicros(track.clientAddr);
    const pending: PendingAck = {
      track,
      synSeq: track.synSeq,
      firstSynAt: track.firstSynAt,
      ack: (synAck.seq + 1) >>> 0,
      tsEcr: synAck.hasTimestamps ? synAck.tsVal : -1,
      scaled: synAck.hasWindowScale,
      rttMicros,
    };
    const slot = this.#free.pop() ?? this.#pending.length;
    this.#pending[slot] = pending;
    this.#due.push(sentMicros + rttMicros, slot);
  }

  /** Capture time (µs) the next synthesized ACK falls due, Infinity when none. */
  nextDueMicros(): number {
    return this.#due.peekTime();
  }

  /**
   * Removes the earliest pending ACK and writes it into `frame` for virtual ms `now`; returns
   * its length, or 0 when it is no longer wanted (the connection's track moved on, or the
   * capture showed the real server answering it).
   */
  take(now: number): number {
    const slot = this.#due.pop();
    const pending = this.#pending[slot]!;
    this.#pending[slot] = null;
    this.#free.push(slot);
    const track = pending.track;
    const current = this.tracks.get(track.clientAddr, track.clientPort) === track && track.synSeq === pending.synSeq && track.firstSynAt === pending.firstSynAt;
    if (!current || realAnswered(track)) return 0;
    const spec = this.#spec.reset();
    if (isIpv6Key(track.clientAddr)) {
      // An IPv6 client of an IPv6 server: the key stands for the address in the replay's table.
      spec.ipv6 = true;
      this.tracks.peers6.copyTo(track.clientAddr, spec.srcAddr6);
      spec.dstAddr6.set(this.server.address6!);
    }
    spec.srcAddr = track.clientAddr;
    spec.srcPort = track.clientPort;
    spec.dstAddr = this.server.address;
    spec.dstPort = this.server.port;
    spec.seq = (track.synSeq + 1) >>> 0;
    spec.ack = pending.ack;
    spec.flags = TcpFlag.ACK;
    spec.window = pending.scaled && track.synWindowScale > 0 ? track.synWindow >>> track.synWindowScale : track.synWindow;
    if (track.synTimestamps && pending.tsEcr >= 0) {
      spec.hasTimestamps = true;
      spec.tsVal = (track.synTsVal + Math.max(0, now - track.lastSynAt)) >>> 0;
      spec.tsEcr = pending.tsEcr;
    }
    track.synthesized++;
    this.synthesized++;
    this.track = track;
    this.rttMicros = pending.rttMicros;
    return writeTcpSegment(this.frame, 0, spec);
  }
}

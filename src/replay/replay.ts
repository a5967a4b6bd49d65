// `syndrop replay`: a real capture through a kernel profile, open loop. The capture's
// client-to-server segments (SYN, ACK, data, FIN, RST) go into the emulated host at their
// capture times; the server's own segments are not fed — they are "what the real server
// did". A client ACK is translated to the emulated server's sequence space (ACK number and
// TSecr) when the emulated server sent a SYN-ACK for that 4-tuple; when it sent none, the
// ACK goes in as captured: a stray ACK to the emulated listener, as it would be (issue 17).
// With --complete-handshakes the client's ACK of a SYN-ACK the real server never sent is
// synthesized (handshake-completion.ts); everything captured is still fed as it was.

import { PcapngWriter } from '../observe/pcapng.js';
import { verdictComment } from '../observe/verdict-comment.js';
import { isIpv6Key } from '../stack/peers6.js';
import type { TxRing } from '../stack/tx.js';
import { VERDICTS } from '../stack/verdict.js';
import { TcpFlag } from '../wire/tcp.js';
import { CaptureReader, type CaptureStats } from './capture-reader.js';
import { CapturedSegment, replayPeers6, SegmentLoad } from './captured-segment.js';
import { HandshakeCompletion } from './handshake-completion.js';
import { measureHandshakeRtts } from './handshake-rtt.js';
import { OfflineHost } from './offline-host.js';
import { NONE } from './outcome.js';
import { ConnectionTable, DETAIL_LIMIT, LIVE_LIMIT } from './connection-table.js';
import { replayRecording } from './replay-report.js';
import { buildReplayResult, type ReplayResult } from './replay-result.js';
import { SeriesRecorder } from './series.js';
import { serverKey, type ServerEndpoint } from './server-endpoint.js';

export interface ReplayOptions {
  capturePath: string;
  server: ServerEndpoint;
  kernel: string;
  sysctls: readonly string[];
  backlog: number;
  acceptRate: number;
  /** http, echo, discard, or null: accept and hold (the default: no reply the client never saw). */
  app: string | null;
  seed: number;
  /** Write the client segments and the emulated replies here (pcapng), or null. */
  outPath: string | null;
  bucketMs: number;
  /** Record queues and decisions for the HTML report (result.recording). */
  record?: boolean;
  /** Connections whose row is kept (default DETAIL_LIMIT); the rest are counted. */
  detailLimit?: number;
  /** Connections followed at once (default LIVE_LIMIT). */
  liveLimit?: number;
  /** Synthesize the client's ACK of a SYN-ACK the real server never sent (handshake-completion.ts). */
  completeHandshakes?: boolean;
}

/** How the capture's segments were used, beside the reader's own counts. */
export interface ReplayInput extends CaptureStats {
  clientSegments: number;
  serverSegments: number;
  /** TCP not to or from the server endpoint. */
  otherTcp: number;
  notTcp: number;
  fragments: number;
  /** Client segments of connections whose SYN the capture does not hold (not fed). */
  midstream: number;
  /** Segments the snap length cut short (fed as far as captured). */
  snapped: number;
  durationMs: number;
  /** Client ACKs synthesized by --complete-handshakes (present only with it). */
  synthesized?: number;
}

const SEQ_HALF = 0x80000000;
const seqAtOrAfter = (a: number, b: number): boolean => ((a - b) >>> 0) < SEQ_HALF;

export function runReplay(options: ReplayOptions): ReplayResult {
  return new Replay(options).run();
}

class Replay {
  /** IPv6 addresses as 32-bit keys, shared by every pass and segment of this replay (captured-segment.ts). */
  readonly peers6 = replayPeers6();
  /** The server's address as segments carry it (its IPv6 key for an IPv6 server). */
  readonly serverAddress: number;
  readonly offline: OfflineHost;
  readonly series: SeriesRecorder;
  /** The track per client 4-tuple, bounded: the first connections keep their rows, the rest are counted. */
  readonly tracks: ConnectionTable;
  readonly segment = new CapturedSegment(this.peers6);
  readonly reply = new CapturedSegment(this.peers6);
  /** An address copied out of the stack's IPv6 peer table, to find its key in ours. */
  readonly #address6 = new Uint32Array(4);
  readonly pcap: PcapngWriter | null;
  readonly completion: HandshakeCompletion | null;
  /** Capture time of the client segment being fed, -1 while timers run. */
  inputMicros = -1;
  /** Replies of the frame being fed, held until the frame itself is written (--out). */
  readonly pendingReplies: Uint8Array[] = [];
  feeding = false;
  t0Micros = -1;
  input: Omit<ReplayInput, keyof CaptureStats> = { clientSegments: 0, serverSegments: 0, otherTcp: 0, notTcp: 0, fragments: 0, midstream: 0, snapped: 0, durationMs: 0 };

  constructor(readonly options: ReplayOptions) {
    this.serverAddress = serverKey(options.server, this.peers6);
    this.tracks = new ConnectionTable(options.detailLimit ?? DETAIL_LIMIT, options.liveLimit ?? LIVE_LIMIT, this.peers6);
    this.offline = new OfflineHost({
      kernel: options.kernel,
      sysctls: options.sysctls,
      address: options.server.address,
      // An IPv6 server: the emulated host answers from its address, as `run --family 6` does.
      address6: options.server.address6 === undefined ? null : Uint32Array.from(options.server.address6),
      port: options.server.port,
      backlog: options.backlog,
      acceptRate: options.acceptRate,
      app: options.app,
      seed: options.seed,
    });
    this.series = new SeriesRecorder(options.bucketMs, this.offline.listener);
    this.offline.observe(
      (tx, i, now) => this.onSent(tx, i, now),
      (time, verdict, peerAddr, peerPort) => this.onDecision(time, verdict, peerAddr, peerPort),
    );
    this.completion = options.completeHandshakes ? new HandshakeCompletion(measureHandshakeRtts(options.capturePath, options.server, this.peers6), options.server, this.tracks) : null;
    this.pcap = options.outPath === null ? null : new PcapngWriter(options.outPath, { appName: `syndrop replay (kernel ${this.offline.host.profile.name})`, flushIntervalMs: 0 });
  }

  run(): ReplayResult {
    const reader = CaptureReader.open(this.options.capturePath);
    let now = 0;
    try {
      while (reader.next()) {
        if (this.t0Micros < 0) {
          this.t0Micros = reader.timeMicros;
          if (this.options.record) this.offline.record(this.t0Micros / 1000);
        }
        // Whole ms, like the kernel's jiffies; never backwards (multi-queue captures interleave).
        now = Math.max(now, Math.floor((reader.timeMicros - this.t0Micros) / 1000));
        if (this.peers6.wantsSweep) this.sweepPeers6();
        const code = this.segment.load(reader.buf, reader.ipOffset, reader.ipLength);
        if (code === SegmentLoad.TCP) this.route(now, reader.timeMicros);
        else if (code === SegmentLoad.FRAGMENT) this.input.fragments++;
        else if (code === SegmentLoad.NOT_TCP) this.input.notTcp++;
        else if (code === SegmentLoad.IPV6_EXTENSIONS) reader.stats.ipv6Skipped++;
        else reader.stats.malformed++;
      }
      this.advance(this.t0Micros + (now + 1) * 1000, now);
      this.series.sample(now);
    } finally {
      reader.close();
      this.pcap?.close();
    }
    this.input.durationMs = now;
    const input = this.completion === null ? this.input : { ...this.input, synthesized: this.completion.synthesized };
    const result = buildReplayResult(this.offline, this.options, { ...reader.stats, ...input }, this.tracks, this.series.series, this.t0Micros / 1000);
    if (this.options.record) result.recording = replayRecording(this.offline.recorder ?? this.offline.record(0), result, this.options.capturePath, now);
    return result;
  }

  route(now: number, timeMicros: number): void {
    const segment = this.segment;
    const address = this.serverAddress;
    const port = this.options.server.port;
    if (segment.snapped) this.input.snapped++;
    if (segment.dstAddr === address && segment.dstPort === port) this.clientSegment(now, timeMicros);
    else if (segment.srcAddr === address && segment.srcPort === port) this.serverSegment();
    else this.input.otherTcp++;
  }

  clientSegment(now: number, timeMicros: number): void {
    const segment = this.segment;
    const isSyn = (segment.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    let track = this.tracks.get(segment.srcAddr, segment.srcPort);
    // A SYN with a new ISN on a port in use starts a new connection: the old attempt is over.
    if (isSyn && track !== undefined && track.synSeq !== segment.seq) track = undefined;
    if (track === undefined) {
      if (!isSyn) {
        this.input.midstream++;
        return;
      }
      track = this.tracks.newTrack(segment.srcAddr, segment.srcPort, now, segment.seq);
      track.synTimestamps = segment.hasTimestamps;
      track.synOffersOptions = segment.sackPermitted || segment.hasWindowScale;
      this.tracks.start(track);
    } else this.tracks.touch(track);
    this.input.clientSegments++;
    if (isSyn) {
      track.syns++;
      track.lastSynAt = now;
      track.synTsVal = segment.tsVal;
      track.synWindow = segment.window;
      track.synWindowScale = segment.windowScale;
      this.series.synIn(now);
    }
    const real = track.real;
    const emulated = track.emulated;
    let ack = segment.ack;
    let tsEcr = segment.tsEcr;
    if ((segment.flags & TcpFlag.ACK) !== 0 && real.isn !== NONE) {
      if ((segment.flags & TcpFlag.SYN) === 0 && real.clientCompletedAt < 0 && seqAtOrAfter(segment.ack, (real.isn + 1) >>> 0)) real.clientCompletedAt = now;
      if (emulated.isn !== NONE) ack = (segment.ack - real.isn + emulated.isn) >>> 0;
      if (segment.hasTimestamps && real.tsVal !== NONE && emulated.tsVal !== NONE) tsEcr = (segment.tsEcr - real.tsVal + emulated.tsVal) >>> 0;
    }
    const length = segment.rewrite(ack, tsEcr, this.pcap !== null); // --out writes these bytes
    this.advance(timeMicros, now);
    this.feeding = this.pcap !== null;
    this.inputMicros = timeMicros;
    const verdict = this.offline.receive(segment.frameBuffer, segment.frameOffset, length, now);
    this.inputMicros = -1;
    this.feeding = false;
    this.series.sample(now);
    if (this.pcap !== null) {
      this.pcap.writePacket(segment.frameBuffer, segment.frameOffset, length, Math.round(timeMicros), 'in', verdictComment(this.offline.host.profile.name, verdict));
      for (const frame of this.pendingReplies) this.pcap.writePacket(frame, 0, frame.length, Math.round(timeMicros), 'out');
      this.pendingReplies.length = 0;
    }
  }

  /**
   * Timers up to virtual ms `now`, with the synthesized ACKs due before capture time
   * `untilMicros` fed in their place among them (a timer may send a SYN-ACK whose ACK falls due
   * before the next timer).
   */
  advance(untilMicros: number, now: number): void {
    const completion = this.completion;
    const offline = this.offline;
    if (completion !== null) {
      for (let due = completion.nextDueMicros(); due < untilMicros; due = completion.nextDueMicros()) {
        const dueMs = Math.max(offline.now, Math.floor((due - this.t0Micros) / 1000));
        const timerAt = offline.host.nextTimerAt();
        if (timerAt <= dueMs) offline.advanceTo(timerAt);
        else this.feedSynthesized(completion, dueMs, due);
      }
    }
    offline.advanceTo(now);
  }

  feedSynthesized(completion: HandshakeCompletion, now: number, timeMicros: number): void {
    const length = completion.take(now);
    if (length === 0) return;
    this.feeding = this.pcap !== null;
    const verdict = this.offline.receive(completion.frame, 0, length, now);
    this.feeding = false;
    this.series.sample(now);
    if (this.pcap === null) return;
    const decision = verdictComment(this.offline.host.profile.name, verdict);
    const comment = `syndrop replay: synthesized client ACK (--complete-handshakes), one client RTT (${(completion.rttMicros / 1000).toFixed(3)} ms) after the emulated SYN-ACK${decision === undefined ? '' : `; ${decision}`}`;
    this.pcap.writePacket(completion.frame, 0, length, Math.round(timeMicros), 'in', comment);
    for (const frame of this.pendingReplies) this.pcap.writePacket(frame, 0, frame.length, Math.round(timeMicros), 'out');
    this.pendingReplies.length = 0;
  }

  /** The real server's segment: evidence of what it did, never fed. */
  serverSegment(): void {
    const segment = this.segment;
    this.input.serverSegments++;
    const track = this.tracks.get(segment.dstAddr, segment.dstPort);
    if (track === undefined) return;
    const real = track.real;
    if ((segment.flags & TcpFlag.RST) !== 0) real.reset = true;
    else if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) {
      real.synAcks++;
      if (real.clientCompletedAt >= 0) real.synAckAfterCompletion = true;
      real.isn = segment.seq;
      real.tsVal = segment.hasTimestamps ? segment.tsVal : NONE;
      // Without timestamps a cookie cannot carry SACK or window scale (spec §1.1 C5): their
      // absence where the SYN offered them is the one mark a cookie leaves in a capture.
      real.cookieEvident = !track.synTimestamps && track.synOffersOptions && !segment.sackPermitted && !segment.hasWindowScale;
    } else real.otherSegments = true;
  }

  /** Every frame the emulated host sent: SYN-ACK sequence numbers for the translation, and --out. */
  onSent(tx: TxRing, index: number, now: number): void {
    const off = tx.offsets[index]!;
    const length = tx.lengths[index]!;
    const reply = this.reply;
    if (reply.load(tx.slab, off, length) === SegmentLoad.TCP && (reply.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) {
      const track = this.tracks.get(reply.dstAddr, reply.dstPort);
      if (track !== undefined) {
        track.emulated.isn = reply.seq;
        track.emulated.tsVal = reply.hasTimestamps ? reply.tsVal : NONE;
        this.completion?.schedule(track, reply, this.inputMicros >= 0 ? this.inputMicros : this.t0Micros + now * 1000);
      }
    }
    if (this.pcap === null) return;
    if (this.feeding) this.pendingReplies.push(tx.slab.slice(off, off + length));
    else this.pcap.writePacket(tx.slab, off, length, Math.round(this.t0Micros + now * 1000), 'out');
  }

  /**
   * Frees the IPv6 keys nothing here refers to any more (a spoofed flood's concluded sources),
   * between two packets, as the stack sweeps its own table: memory stays bounded by the
   * connections followed, and a 2^24-source capture cannot fill the key space.
   */
  sweepPeers6(): void {
    const inUse = new Set<number>([this.serverAddress]);
    this.tracks.noteClientAddresses(inUse);
    this.completion?.rtts.noteClients(inUse);
    this.peers6.sweep((key) => inUse.has(key));
  }

  /**
   * The stack names an IPv6 peer by its key in the stack's own table (peers6.ts), which it
   * sweeps and reuses; our tracks hold the key of the same address in ours.
   */
  replayKey(stackKey: number): number {
    if (!isIpv6Key(stackKey)) return stackKey;
    this.offline.host.state.peers6.copyTo(stackKey, this.#address6);
    return this.peers6.internWords(this.#address6);
  }

  onDecision(time: number, verdict: number, peerAddr: number, peerPort: number): void {
    this.series.event(time, verdict);
    const track = this.tracks.get(this.replayKey(peerAddr), peerPort);
    if (track === undefined) return;
    const info = VERDICTS[verdict]!;
    const emulated = track.emulated;
    // The names are for the detailed rows only: a million tracks need not each keep a list.
    if (track.detailed && !emulated.verdicts.includes(info.name)) emulated.verdicts.push(info.name);
    if (info.name === 'RST_NO_LISTENER') emulated.noListener = true;
    if (info.action === 'synack' || info.action === 'cookie-synack') {
      emulated.synAcks++;
    } else if (info.name === 'REQ_ESTABLISHED' || info.name === 'COOKIE_ACCEPTED') {
      if (emulated.establishedAt < 0) {
        emulated.establishedAt = time;
        emulated.cookie = info.name === 'COOKIE_ACCEPTED';
      }
    } else if (info.name === 'REQ_ACCEPTQ_OVERFLOW' || info.name === 'COOKIE_ACCEPTQ_FULL') {
      emulated.overflowed = true;
    } else if (info.action === 'rst' && emulated.establishedAt < 0) {
      emulated.reset = true;
    }
  }
}

// The clients' round-trip times as the capture shows them, for --complete-handshakes: one
// streaming pass of its own before the replay (like server detection), so a connection early
// in the capture can use a client's RTT measured later in it.
//
// A handshake's RTT is the client's ACK of the server's SYN-ACK minus the client's latest SYN
// before that SYN-ACK. That is one round trip wherever the capture was taken: on the server
// (SYN, SYN-ACK at once, ACK one RTT later) or on the client (SYN, SYN-ACK one RTT later, ACK
// at once).

import type { Ipv6Peers } from '../stack/peers6.js';
import { TcpFlag } from '../wire/tcp.js';
import { CaptureReader } from './capture-reader.js';
import { CapturedSegment, replayPeers6, SegmentLoad } from './captured-segment.js';
import { serverKey, type ServerEndpoint } from './server-endpoint.js';

/** The RTT used when the capture holds no completed handshake at all. */
export const DEFAULT_RTT_MS = 50;
/** Memory bounds: clients with their own RTT, samples per client, handshakes followed at once. */
const MAX_CLIENTS = 65_536;
const SAMPLES_PER_CLIENT = 16;
const MAX_OPEN = 50_000;

const SEQ_HALF = 0x80000000;

export class HandshakeRtts {
  /** Median per client address, in µs. */
  readonly #perClient = new Map<number, number>();
  /** Median of every measured handshake in µs, or null when none completed. */
  readonly medianMicros: number | null;
  readonly handshakes: number;

  constructor(samples: Map<number, number[]>) {
    const all: number[] = [];
    for (const [client, values] of samples) {
      this.#perClient.set(client, median(values));
      all.push(...values);
    }
    this.handshakes = all.length;
    this.medianMicros = all.length === 0 ? null : median(all);
  }

  get clients(): number {
    return this.#perClient.size;
  }

  /** Adds every client with an RTT of its own to `into` (their IPv6 keys must stay theirs). */
  noteClients(into: Set<number>): void {
    for (const client of this.#perClient.keys()) into.add(client);
  }

  /** The client's own RTT, else the capture's median, else DEFAULT_RTT_MS; in µs. */
  rttMicros(clientAddr: number): number {
    return this.#perClient.get(clientAddr) ?? this.medianMicros ?? DEFAULT_RTT_MS * 1000;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

interface OpenHandshake {
  /** The client's latest SYN (a retransmit is answered by a SYN-ACK of its own). */
  synMicros: number;
  /** ISN of the server's SYN-ACK, or -1 before one. */
  serverIsn: number;
}

/** `peers6`: the replay's table, so an IPv6 client's key here is its key in the replay pass. */
export function measureHandshakeRtts(path: string, server: ServerEndpoint, peers6: Ipv6Peers = replayPeers6()): HandshakeRtts {
  const reader = CaptureReader.open(path);
  const segment = new CapturedSegment(peers6);
  const serverAddress = serverKey(server, peers6);
  const open = new Map<number, OpenHandshake>();
  const samples = new Map<number, number[]>();
  try {
    while (reader.next()) {
      if (peers6.wantsSweep) sweep(peers6, serverAddress, open, samples);
      if (segment.load(reader.buf, reader.ipOffset, reader.ipLength) !== SegmentLoad.TCP) continue;
      const synAck = segment.flags & (TcpFlag.SYN | TcpFlag.ACK);
      if (segment.dstAddr === serverAddress && segment.dstPort === server.port) {
        const key = segment.srcAddr * 65536 + segment.srcPort;
        if (synAck === TcpFlag.SYN) {
          const known = open.get(key);
          if (known !== undefined) known.synMicros = reader.timeMicros;
          else if (open.size < MAX_OPEN) open.set(key, { synMicros: reader.timeMicros, serverIsn: -1 });
        } else if (synAck === TcpFlag.ACK) {
          const known = open.get(key);
          if (known === undefined || known.serverIsn < 0 || ((segment.ack - known.serverIsn - 1) >>> 0) >= SEQ_HALF) continue;
          open.delete(key);
          addSample(samples, segment.srcAddr, reader.timeMicros - known.synMicros);
        }
      } else if (segment.srcAddr === serverAddress && segment.srcPort === server.port && synAck === (TcpFlag.SYN | TcpFlag.ACK)) {
        const known = open.get(segment.dstAddr * 65536 + segment.dstPort);
        if (known !== undefined) known.serverIsn = segment.seq;
      }
    }
  } finally {
    reader.close();
  }
  return new HandshakeRtts(samples);
}

/** Frees the IPv6 keys of clients neither measured nor in a handshake still open (a flood's sources). */
function sweep(peers6: Ipv6Peers, serverAddress: number, open: Map<number, OpenHandshake>, samples: Map<number, number[]>): void {
  const inUse = new Set<number>([serverAddress, ...samples.keys()]);
  for (const key of open.keys()) inUse.add(Math.floor(key / 65536));
  peers6.sweep((key) => inUse.has(key));
}

function addSample(samples: Map<number, number[]>, client: number, micros: number): void {
  const values = samples.get(client);
  if (values === undefined) {
    if (samples.size < MAX_CLIENTS) samples.set(client, [Math.max(0, micros)]);
  } else if (values.length < SAMPLES_PER_CLIENT) values.push(Math.max(0, micros));
}

// A capture recorded from a server with known behaviour: a StackHarness host of one kernel
// profile plays "the real server", clients behave as Linux clients do (SYN, retransmit
// after 1 s and 3 s without a SYN-ACK, ACK every SYN-ACK), and both directions are written
// to a pcap as tcpdump on the server would. Replay tests then run it through other profiles.

import { writeFileSync } from 'node:fs';
import { LinkType } from '../../src/replay/link-layer.js';
import { parseIpv6 } from '../../src/wire/addr.js';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { parseSegment } from '../../src/wire/parse.js';
import { ethernet, pcapFile, type CapturedFrame } from './capture-files.js';
import { CLIENT_C, StackHarness, TcpFlag, isSynAck, type Reply } from './stack-harness.js';

export interface ConversationOptions {
  kernel: string;
  backlog: number;
  /** accept() per second on the real server (0 = never). */
  acceptRate: number;
  clients: number;
  /** ms between client arrivals. */
  spacingMs: number;
  /** Record until this virtual time. */
  untilMs: number;
  /** When client retransmits go out, ms after its first SYN (Linux before 6.5: 1 s, 3 s, 7 s…). */
  retransmitsAtMs?: number[];
  sysctls?: string[];
  /** Record over IPv6 (the server SERVER6, the client CLIENT6) instead of IPv4. */
  ipv6?: boolean;
  /** Wrap each packet in an Ethernet header (link type 1) instead of writing raw IP (101). */
  ethernet?: boolean;
}

export const SERVER6 = parseIpv6('fd77::2')!;
export const CLIENT6 = parseIpv6('fd77:1::2')!;

/** The IPv4 frame's TCP segment again over IPv6 (CLIENT6 → SERVER6): same fields, new header. */
export function asIpv6(frame: Uint8Array): Uint8Array {
  const spec = new SegmentSpec();
  parseSegment(frame, 0, frame.length, spec);
  spec.ipv6 = true;
  spec.srcAddr6.set(CLIENT6);
  spec.dstAddr6.set(SERVER6);
  const out = new Uint8Array(2048);
  return out.slice(0, writeTcpSegment(out, 0, spec));
}

export const CAPTURE_EPOCH_MICROS = 1_750_000_000_000_000;
export const firstClientPort = 41000;

/** Records the conversation and writes it to `path` (pcap, raw IPv4); returns the harness for its counters. */
export function recordConversation(path: string, options: ConversationOptions): StackHarness {
  const server = new StackHarness(options.kernel, options.sysctls ?? [], options.ipv6 ? { address6: SERVER6 } : {});
  const ip = options.ipv6 ? asIpv6 : (frame: Uint8Array) => frame;
  server.app.listen(80, options.backlog, { ratePerSecond: options.acceptRate === 0 ? 0 : options.acceptRate });
  const retransmits = options.retransmitsAtMs ?? [1000, 3000];
  const frames: CapturedFrame[] = [];
  const due = new Map<number, Array<() => void>>();
  const at = (t: number, action: () => void) => {
    if (!due.has(t)) due.set(t, []);
    due.get(t)!.push(action);
  };
  const answered = new Set<number>();
  const record = (bytes: Uint8Array, t: number) => frames.push({ timeMicros: CAPTURE_EPOCH_MICROS + t * 1000, bytes });
  const handleReplies = (replies: Reply[], t: number) => {
    for (const reply of replies) {
      record(reply.bytes, t);
      if (!isSynAck(reply)) continue;
      answered.add(reply.dstPort);
      // The client ACKs every SYN-ACK one ms later, first or retransmitted (spec §3.2).
      at(t + 1, () => send(ip(server.frame({ srcPort: reply.dstPort, flags: TcpFlag.ACK, seq: 1001, ack: reply.seq + 1, tsVal: 200 + t, tsEcr: reply.tsVal ?? 0 })), t + 1));
    }
  };
  const send = (frame: Uint8Array, t: number) => {
    record(frame, t);
    handleReplies(server.send(frame).replies, t);
  };
  for (let i = 0; i < options.clients; i++) {
    const port = firstClientPort + i;
    const start = i * options.spacingMs;
    const syn = (t: number) => () => {
      if (t === start || !answered.has(port)) send(ip(server.frame({ src: CLIENT_C, srcPort: port, seq: 1000, tsVal: 100 + t })), t);
    };
    at(start, syn(start));
    for (const offset of retransmits) at(start + offset, syn(start + offset));
  }
  for (let t = 0; t <= options.untilMs; t++) {
    handleReplies(server.advanceTo(t), t);
    const actions = due.get(t);
    due.delete(t);
    for (const action of actions ?? []) action();
  }
  if (options.ethernet) for (const frame of frames) frame.bytes = ethernet(frame.bytes, options.ipv6 ? 0x86dd : 0x0800);
  writeFileSync(path, pcapFile('le', options.ethernet ? LinkType.ETHERNET : LinkType.RAW, frames));
  return server;
}

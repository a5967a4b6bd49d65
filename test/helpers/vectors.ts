// Shared pieces for the spec §9a/§9b vector tests: the profile groups the vectors name,
// builders that make the preceding state with real traffic, and reply assertions.

import { expect } from 'vitest';
import { PROFILES } from '../../src/profiles/table.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import type { ProfileSwitches } from '../../src/profiles/profile.js';
import { HttpApp } from '../../src/app/handlers.js';
import { ReqFlag } from '../../src/stack/reqsk.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { CLIENT_C, CLIENT_D, isRst, isSynAck, StackHarness, TcpFlag, type Reply } from './stack-harness.js';

// --------------------------------------------------------------------- profile groups (spec §9a conventions)

/** "all": every profile in the table. */
export const ALL = PROFILES.map((p) => p.name);
/** "4.4 … 6.8" as first released (the -late variants are named separately). */
export const P_4_4_TO_6_8 = ['4.4', '4.9', '4.10', '4.15', '4.19', '5.4', '5.10', '5.15', '6.1', '6.8'];
/** "5.x". */
export const P_5X = ['5.4', '5.10', '5.15'];
/** "4.4+": every profile from 4.4 on. */
export const P_4_4_PLUS = ALL.filter((n) => n !== '3.10' && n !== 'centos7');
/** "4.10+": every profile with the "full" SYN rule as first released from 4.10 on. */
export const P_4_10_PLUS = ['4.10', '4.15', '4.19', '5.4', '5.10', '5.15', '6.1', '6.1-late', '6.1-latest', '6.8', '6.12', '6.12-late', '6.x'];
/** "4.12+": tw_recycle gone. */
export const P_4_12_PLUS = P_4_10_PLUS.filter((n) => n !== '4.10');
/** "5.4+". */
export const P_5_4_PLUS = ['5.4', '5.10', '5.15', '6.1', '6.1-late', '6.1-latest', '6.8', '6.12', '6.12-late', '6.x'];

export function switchesOf(kernel: string): ProfileSwitches {
  return resolveProfile(kernel).switches;
}

/**
 * What the spec says each kernel does, written out per profile for the vectors' expected
 * values (issue 15 item 15): a wrong switch in src/profiles/table.ts must fail them, so they
 * never read the table under test.
 */
export interface SpecFacts {
  /** TCPSynRetrans / TCPACKSkippedSynRecv exist: 4.x+ (§6). */
  synRetransCounters: boolean;
  /** The accept-queue SYN rule is "full and young > 1": 3.10, RHEL 7, 4.4.1, 4.9.154 (§1.1 C3, §8a). */
  youngRule: boolean;
  /** A cookie SYN-ACK also counts ListenDrops: 3.10.108, 4.4.1, 4.4.178 (§1.1 C10, §8a). */
  cookieListenDrop: boolean;
  /** SYN-queue slots at listen(5) with tcp_max_syn_backlog 256: 3.10's 16-entry table, else the backlog, + 1 on 6.13+ (§5.2–§5.3, §8a). */
  synQueueAt5: number;
  /** The counter of a PAWS-rejected segment in TIME_WAIT: PAWSTimewait from 6.16 (§8, §8c). */
  timewaitPaws: 'PAWSEstab' | 'PAWSTimewait';
  /** Request timers run on the listener's 200 ms prune ticks (3.10, §4.2). */
  prune200ms: boolean;
  /** ts_recent moves to the child only (6.x era F, §8c "defer ts_recent changes"). */
  tsRecentDeferred: boolean;
}

const facts = (o: Partial<SpecFacts>): SpecFacts => ({
  synRetransCounters: true,
  youngRule: false,
  cookieListenDrop: false,
  synQueueAt5: 5,
  timewaitPaws: 'PAWSEstab',
  prune200ms: false,
  tsRecentDeferred: false,
  ...o,
});
const ERA_A = { synRetransCounters: false, youngRule: true, cookieListenDrop: true, synQueueAt5: 16, prune200ms: true };

export const SPEC_FACTS: Record<string, SpecFacts> = {
  '3.10': facts(ERA_A),
  centos7: facts(ERA_A),
  '4.4': facts({ youngRule: true, cookieListenDrop: true }),
  '4.4-late': facts({ cookieListenDrop: true }),
  '4.9': facts({ youngRule: true }),
  '4.9-late': facts({}),
  '4.10': facts({}),
  '4.15': facts({}),
  '4.19': facts({}),
  '5.4': facts({}),
  '5.10': facts({}),
  '5.15': facts({}),
  '6.1': facts({}),
  '6.1-late': facts({ synQueueAt5: 6 }),
  // ts_recent left to the child: measured on 6.1.192 and 6.12.118 (verify --vm).
  '6.1-latest': facts({ synQueueAt5: 6, tsRecentDeferred: true }),
  '6.8': facts({}),
  '6.12': facts({}),
  '6.12-late': facts({ synQueueAt5: 6, tsRecentDeferred: true }),
  '6.x': facts({ synQueueAt5: 6, timewaitPaws: 'PAWSTimewait', tsRecentDeferred: true }),
};

export function specFacts(kernel: string): SpecFacts {
  const f = SPEC_FACTS[kernel];
  if (f === undefined) throw new Error(`no spec facts written out for kernel ${kernel}`);
  return f;
}

/** The kernel has the 4.x+ SYN-ACK retransmit counter (TCPSynRetrans), per the spec (§6). */
export function hasSynRetrans(kernel: string): boolean {
  return specFacts(kernel).synRetransCounters;
}

// --------------------------------------------------------------------- addresses

/** Spoofed flood sources: never C or D, so C and D stay "never seen" (no metrics). */
export const FILL = parseIpv4('10.0.1.9');
export const HOST_H = parseIpv4('10.0.0.8');
export { CLIENT_C, CLIENT_D };

// --------------------------------------------------------------------- harness helpers

export function listenerOf(h: StackHarness) {
  return h.host.listeners[0]!;
}

export function queues(h: StackHarness): { qlen: number; young: number; acc: number } {
  const l = listenerOf(h);
  return { qlen: l.qlen, young: l.young, acc: l.acceptQueueLength };
}

/** `n` SYNs from distinct spoofed ports (never ACKed); returns their replies. */
export function fillSynQueue(h: StackHarness, n: number, firstPort = 20000, src = FILL): Reply[] {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) {
    const r = h.segment({ src, srcPort: firstPort + i, seq: 5000 + i });
    out.push(...r.replies);
  }
  return out;
}

/** `n` full handshakes from D (distinct ports) that end in the accept queue (app not accepting). */
export function fillAcceptQueue(h: StackHarness, n: number, firstPort = 30000, src = CLIENT_D): void {
  for (let i = 0; i < n; i++) {
    const { ackVerdict } = h.handshake(firstPort + i, src);
    if (ackVerdict !== 'REQ_ESTABLISHED' && ackVerdict !== 'COOKIE_ACCEPTED') {
      throw new Error(`handshake ${i} from port ${firstPort + i} did not establish: ${ackVerdict}`);
    }
  }
}

/** Live request slot for a 4-tuple, or -1. */
export function requestSlot(h: StackHarness, src: number, srcPort: number, dstPort = 80): number {
  const r = h.host.requests;
  for (const slot of h.host.requestSlots()) {
    if (r.peerAddr[slot] === src && r.peerPort[slot] === srcPort && r.localPort[slot] === dstPort) return slot;
  }
  return -1;
}

export function requestAcked(h: StackHarness, slot: number): boolean {
  return h.host.requests.has(slot, ReqFlag.ACKED);
}

/** The third ACK of a handshake whose SYN had seq 1000 and TSval `tsVal`. */
export function thirdAck(
  h: StackHarness,
  synAck: Reply,
  srcPort: number,
  src = CLIENT_C,
  extra: { tsVal?: number | null; ack?: number; payload?: Uint8Array } = {},
) {
  return h.segment({
    src,
    srcPort,
    seq: 1001,
    ack: extra.ack ?? synAck.seq + 1,
    flags: TcpFlag.ACK,
    tsVal: extra.tsVal === undefined ? 101 : extra.tsVal,
    tsEcr: synAck.tsVal ?? 0,
    payload: extra.payload,
  });
}

/** secs_to_retrans(seconds, TCP_TIMEOUT_INIT 1 s, TCP_RTO_MAX 120 s) (spec §3.3). */
export function secsToRetrans(seconds: number): number {
  if (seconds <= 0) return 0;
  let timeout = 1;
  let period = 1;
  let res = 1;
  while (seconds > period && res < 255) {
    res++;
    timeout = Math.min(timeout * 2, 120);
    period += timeout;
  }
  return res;
}

// --------------------------------------------------------------------- reply assertions

export function only(replies: Reply[]): Reply {
  expect(replies).toHaveLength(1);
  return replies[0]!;
}

/**
 * The SYN-ACK window and window scale each kernel writes with its default sysctls, stated
 * literally from spec §1.10 and §8c (never read from the profile under test): with TS / without
 * TS; wscale 7 from a 6 MiB tcp_rmem max, 10 from the host's 32 MiB.
 */
export const SYNACK_WINDOW: Record<string, { ts: number; noTs: number; wscale: number }> = {
  '3.10': { ts: 14480, noTs: 14600, wscale: 7 },
  centos7: { ts: 14480, noTs: 14600, wscale: 7 },
  '4.4': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.4-late': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.9': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.9-late': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.10': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.15': { ts: 28960, noTs: 29200, wscale: 7 },
  '4.19': { ts: 28960, noTs: 29200, wscale: 7 },
  '5.4': { ts: 65160, noTs: 64240, wscale: 7 },
  '5.10': { ts: 65160, noTs: 64240, wscale: 7 },
  '5.15': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.1': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.1-late': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.1-latest': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.8': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.12': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.12-late': { ts: 65160, noTs: 64240, wscale: 7 },
  '6.x': { ts: 65160, noTs: 64240, wscale: 10 },
};

/**
 * A SYN-ACK for the default SYN (seq 1000, MSS 1460, SACK, TS 100, WS 7): exact flags, ack,
 * options and window as the spec gives them per kernel (spec §1.10, §8c).
 */
export function expectSynAck(
  kernel: string,
  reply: Reply,
  o: { clientSeq?: number; tsEcr?: number | null; sack?: boolean; windowScale?: boolean; dstPort?: number; src?: number } = {},
): void {
  const expected = SYNACK_WINDOW[kernel];
  if (expected === undefined) throw new Error(`no literal SYN-ACK window for kernel ${kernel}`);
  expect(reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
  expect(reply.ack).toBe(((o.clientSeq ?? 1000) + 1) >>> 0);
  expect(reply.srcPort).toBe(80);
  if (o.dstPort !== undefined) expect(reply.dstPort).toBe(o.dstPort);
  if (o.src !== undefined) expect(reply.dst).toBe(o.src);
  expect(reply.mss).toBe(1460);
  const ts = o.tsEcr === undefined ? 100 : o.tsEcr;
  if (ts === null) {
    expect(reply.tsVal).toBeNull();
    expect(reply.window).toBe(expected.noTs);
  } else {
    expect(reply.tsEcr).toBe(ts);
    expect(reply.tsVal).not.toBeNull();
    expect(reply.window).toBe(expected.ts);
  }
  expect(reply.sackPermitted).toBe(o.sack ?? true);
  expect(reply.windowScale).toBe((o.windowScale ?? true) ? expected.wscale : null);
  expect(reply.payload.length).toBe(0);
}

/** tcp_v4_send_reset for an ACK-bearing segment: RST, seq = its ack number, window 0 (spec §8). */
export function expectResetForAck(reply: Reply, ackOfSegment: number, dstPort: number): void {
  expect(isRst(reply)).toBe(true);
  expect(reply.flags).toBe(TcpFlag.RST);
  expect(reply.seq).toBe(ackOfSegment >>> 0);
  expect(reply.window).toBe(0);
  expect(reply.dstPort).toBe(dstPort);
}

export { isRst, isSynAck };

// --------------------------------------------------------------------- server-closed connection → TIME_WAIT

export interface ClosedConnection {
  /** Our snd_nxt when TIME_WAIT began (tw_snd_nxt) and the client's next seq (tw_rcv_nxt). */
  sndNxt: number;
  rcvNxt: number;
  /** Our TSval on the last ACK (TIME_WAIT's ACK), null without timestamps. */
  lastTsVal: number | null;
  synAck: Reply;
  /** The ACK of the client's FIN, sent as the socket entered TIME_WAIT. */
  twAck: Reply;
}

const GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: s\r\n\r\n');

/**
 * A connection from `src:srcPort` to an HttpApp listener on :80 which answers and closes
 * first; the client ACKs the FIN and sends its own FIN, so the server enters TIME_WAIT.
 * Client TSvals run `tsStart`, `tsStart + 1`, … and the client's FIN carries `tsLast`.
 * `rttMs` delays the third ACK (the RTT sample that sets the RTO).
 */
export function serverClosedConnection(
  h: StackHarness,
  srcPort: number,
  src = CLIENT_C,
  o: { tsStart?: number | null; tsLast?: number | null; rttMs?: number; windowScale?: number | null } = {},
): ClosedConnection {
  const tsStart = o.tsStart === undefined ? 100 : o.tsStart;
  const ts = (k: number): number | null => (tsStart === null ? null : tsStart + k);
  const syn = h.segment({ src, srcPort, seq: 1000, tsVal: ts(0), ...(o.windowScale === undefined ? {} : { windowScale: o.windowScale }) });
  const synAck = syn.replies.find(isSynAck);
  if (synAck === undefined) throw new Error(`no SYN-ACK: ${syn.verdict}`);
  if (o.rttMs) h.advanceTo(h.now + o.rttMs);
  const serverIsn = synAck.seq;
  const ack = h.segment({ src, srcPort, seq: 1001, ack: serverIsn + 1, flags: TcpFlag.ACK, tsVal: ts(1), tsEcr: synAck.tsVal ?? 0 });
  if (ack.verdict !== 'REQ_ESTABLISHED') throw new Error(`third ACK: ${ack.verdict}`);
  const get = h.segment({
    src,
    srcPort,
    seq: 1001,
    ack: serverIsn + 1,
    flags: TcpFlag.ACK | TcpFlag.PSH,
    tsVal: ts(2),
    payload: GET,
  });
  // The server answers with data and a FIN (and ACKs our data).
  const fin = get.replies.find((r) => (r.flags & TcpFlag.FIN) !== 0);
  if (fin === undefined) throw new Error('server did not close');
  const serverFinEnd = (fin.seq + fin.payload.length + 1) >>> 0;
  const clientSeq = (1001 + GET.length) >>> 0;
  h.segment({ src, srcPort, seq: clientSeq, ack: serverFinEnd, flags: TcpFlag.ACK, tsVal: ts(3) });
  const last = o.tsLast === undefined ? ts(4) : o.tsLast;
  const finReply = h.segment({ src, srcPort, seq: clientSeq, ack: serverFinEnd, flags: TcpFlag.ACK | TcpFlag.FIN, tsVal: last });
  const twAck = finReply.replies.find((r) => r.flags === TcpFlag.ACK);
  if (twAck === undefined) throw new Error('no ACK of our FIN from TIME_WAIT');
  return { sndNxt: serverFinEnd, rcvNxt: (clientSeq + 1) >>> 0, lastTsVal: twAck.tsVal, synAck, twAck };
}

export function httpListener(h: StackHarness, backlog = 128) {
  return h.app.listen(80, backlog, { handler: new HttpApp() });
}

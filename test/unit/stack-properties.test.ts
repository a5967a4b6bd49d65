// Property tests over random traffic (spec §9a "Additional invariants for property tests"):
// whatever SYNs, ACKs, RSTs, data, accepts, sysctl writes and timer runs arrive, the stack
// never throws, its queues stay within the kernel's bounds, its counters keep the kernel's
// identities, and the same input gives the same bytes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionHandler } from '../../src/stack/conn.js';
import { Counter } from '../../src/stack/mib.js';
import { ReqFlag } from '../../src/stack/reqsk.js';
import { Verdict, VERDICTS } from '../../src/stack/verdict.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { StackHarness, TcpFlag, isSynAck, type Reply } from '../helpers/stack-harness.js';

const PROFILES = ['3.10', 'centos7', '4.4', '4.9-late', '4.10', '5.15', '6.1', '6.x'];
const PEERS = [parseIpv4('10.0.0.2'), parseIpv4('10.0.0.3'), parseIpv4('10.0.0.4'), parseIpv4('10.0.0.5')];
const PORTS = [1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007];

type Op =
  | { kind: 'syn'; peer: number; port: number; mss: number | null; ws: number | null; sack: boolean; ts: boolean; seqShift: number }
  | { kind: 'ack'; peer: number; port: number; ackDelta: number; ts: boolean }
  | { kind: 'handshake'; peer: number; port: number; ts: boolean }
  | { kind: 'rst'; peer: number; port: number; seqDelta: number }
  | { kind: 'data'; peer: number; port: number; length: number; fin: boolean }
  | { kind: 'acceptRate'; rate: number }
  | { kind: 'syncookies'; value: number }
  | { kind: 'advance'; ms: number };

const peer = fc.integer({ min: 0, max: PEERS.length - 1 });
const port = fc.integer({ min: 0, max: PORTS.length - 1 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('syn' as const), peer, port,
    mss: fc.constantFrom(null, 536, 1400, 1460, 9000),
    ws: fc.constantFrom(null, 0, 7, 14),
    sack: fc.boolean(),
    ts: fc.boolean(),
    seqShift: fc.constantFrom(0, 0, 0, 70_000, -5),
  }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('ack' as const), peer, port, ackDelta: fc.constantFrom(0, 0, 0, 1, -1, 99_999), ts: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('handshake' as const), peer, port, ts: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rst' as const), peer, port, seqDelta: fc.constantFrom(0, 0, 5, 100_000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('data' as const), peer, port, length: fc.integer({ min: 1, max: 64 }), fin: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('acceptRate' as const), rate: fc.constantFrom(0, 1, 10, Infinity) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('syncookies' as const), value: fc.constantFrom(0, 1, 2) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1, 100, 500, 1000, 3000, 8000) }) },
);

/** Verdicts seen across all runs: the generator must reach the interesting paths. */
const coverage = new Map<string, number>();

interface Run {
  frames: string[];
  counters: number[];
}

/** Drives one fresh host through `ops`, checking the invariants after every step. */
function drive(kernel: string, backlog: number, ops: Op[]): Run {
  const h = new StackHarness(kernel, ['net.ipv4.tcp_max_syn_backlog=64']);
  let acceptedCount = 0;
  const handler: ConnectionHandler = {
    onAccepted: (conn) => {
      acceptedCount++;
      acceptedIds.add(conn.id);
    },
    onData: () => {},
    onPeerClosed: () => {},
    onClosed: () => {},
  };
  const listener = h.app.listen(80, backlog, { ratePerSecond: 0, handler });
  const sw = h.host.profile.switches;
  const capacity = listener.synQueueCapacity(sw);
  const frames: string[] = [];
  const seen = new Set<number>();
  const acceptedIds = new Set<number>();
  /** Last SYN-ACK and client ISN per (peer, port): what a real client would ACK. */
  const synAcks = new Map<string, { synAck: Reply; isn: number }>();
  let tsClock = 1000;
  let observedSynAcks = 0;

  const record = (replies: Reply[], key?: string, isn?: number): void => {
    for (const r of replies) {
      frames.push(Buffer.from(r.bytes).toString('hex'));
      if (isSynAck(r)) {
        observedSynAcks++;
        if (key !== undefined && isn !== undefined) synAcks.set(key, { synAck: r, isn });
      }
    }
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'syn': {
        const key = `${op.peer}:${op.port}`;
        const isn = (PORTS[op.port]! * 100_003 + op.seqShift) >>> 0;
        tsClock += 7;
        const r = h.segment({
          src: PEERS[op.peer], srcPort: PORTS[op.port], seq: isn, flags: TcpFlag.SYN,
          mss: op.mss, windowScale: op.ws, sack: op.sack, tsVal: op.ts ? tsClock : null,
        });
        record(r.replies, key, isn);
        break;
      }
      case 'ack': {
        const known = synAcks.get(`${op.peer}:${op.port}`);
        tsClock += 7;
        const r = h.segment({
          src: PEERS[op.peer], srcPort: PORTS[op.port], flags: TcpFlag.ACK,
          seq: known ? known.isn + 1 : 12345,
          ack: known ? known.synAck.seq + 1 + op.ackDelta : 777 + op.ackDelta,
          tsVal: op.ts ? tsClock : null, tsEcr: known?.synAck.tsVal ?? 0,
        });
        record(r.replies);
        break;
      }
      case 'handshake': {
        // A well-behaved client: SYN, then the ACK of whatever SYN-ACK came back.
        const key = `${op.peer}:${op.port}`;
        const isn = (PORTS[op.port]! * 100_003) >>> 0;
        tsClock += 7;
        const syn = h.segment({ src: PEERS[op.peer], srcPort: PORTS[op.port], seq: isn, tsVal: op.ts ? tsClock : null });
        record(syn.replies, key, isn);
        const synAck = syn.replies.find(isSynAck);
        if (synAck !== undefined) {
          tsClock += 7;
          const ack = h.segment({
            src: PEERS[op.peer], srcPort: PORTS[op.port], flags: TcpFlag.ACK, seq: isn + 1, ack: synAck.seq + 1,
            tsVal: op.ts ? tsClock : null, tsEcr: synAck.tsVal ?? 0,
          });
          record(ack.replies);
        }
        break;
      }
      case 'rst': {
        const known = synAcks.get(`${op.peer}:${op.port}`);
        const r = h.segment({
          src: PEERS[op.peer], srcPort: PORTS[op.port], flags: TcpFlag.RST,
          seq: (known ? known.isn + 1 : 999) + op.seqDelta, tsVal: null,
        });
        record(r.replies);
        break;
      }
      case 'data': {
        const known = synAcks.get(`${op.peer}:${op.port}`);
        tsClock += 7;
        const r = h.segment({
          src: PEERS[op.peer], srcPort: PORTS[op.port],
          flags: TcpFlag.ACK | TcpFlag.PSH | (op.fin ? TcpFlag.FIN : 0),
          seq: known ? known.isn + 1 : 4242, ack: known ? known.synAck.seq + 1 : 1,
          tsVal: tsClock, tsEcr: known?.synAck.tsVal ?? 0, payload: new Uint8Array(op.length).fill(0x61),
        });
        record(r.replies);
        break;
      }
      case 'acceptRate':
        h.app.policy(0).ratePerSecond = op.rate;
        break;
      case 'syncookies':
        h.host.sysctls.set(`net.ipv4.tcp_syncookies=${op.value}`);
        break;
      case 'advance':
        record(h.advanceTo(h.now + op.ms));
        break;
    }
    for (const id of h.host.connections.keys()) seen.add(id);
    checkInvariants();
  }

  function checkInvariants(): void {
    const c = h.host.counters;
    const verdicts = h.host.verdictCounts;
    const twSyns = verdicts[Verdict.SYN_TIMEWAIT_REUSE]!;
    // Queues (spec §1.4, §1.5, §1.6).
    expect(listener.qlen).toBeLessThanOrEqual(capacity + twSyns);
    expect(listener.acceptQueueLength).toBeLessThanOrEqual(listener.maxAckBacklog + 1);
    let live = 0;
    let youngLive = 0;
    for (const slot of h.host.requestSlots()) {
      if (h.host.requests.listener[slot] !== listener.index) continue;
      live++;
      if (h.host.requests.numTimeout[slot] === 0) youngLive++;
      expect(h.host.requests.has(slot, ReqFlag.IN_USE)).toBe(true);
    }
    expect(listener.qlen).toBe(live);
    expect(listener.young).toBe(youngLive);
    expect(listener.young).toBeLessThanOrEqual(listener.qlen);
    expect(listener.young).toBeGreaterThanOrEqual(0);
    // The accept queue holds exactly the children nobody accepted yet, even those the peer
    // already reset (Linux keeps them until accept() returns them).
    const waiting = [...seen].filter((id) => !acceptedIds.has(id)).sort((a, b) => a - b);
    expect([...listener.acceptedIds()].sort((a, b) => a - b)).toEqual(waiting);
    // Counters (spec §8 identity, §9a invariants).
    const listenDrops = c[Counter.ListenDrops]!;
    expect(c[Counter.ListenOverflows]).toBeLessThanOrEqual(listenDrops);
    expect(c[Counter.TCPReqQFullDrop]).toBeLessThanOrEqual(listenDrops);
    expect(listenDrops).toBe(
      c[Counter.ListenOverflows]! +
        c[Counter.TCPReqQFullDrop]! +
        c[Counter.PAWSPassive]! +
        verdicts[Verdict.DROP_UNPROVEN_PEER]! +
        verdicts[Verdict.DROP_BROADCAST]! +
        verdicts[Verdict.SYN_COOKIE_LISTENDROP]!,
    );
    expect(listener.drops).toBe(listenDrops);
    // Every SYN-ACK on the wire is a new request's, a retransmission, or a cookie.
    expect(c[Counter.SyncookiesSent]).toBe(observedSynAcks - verdicts[Verdict.SYN_QUEUED]! - c[Counter.RetransSegs]!);
    expect(c[Counter.SyncookiesSent]).toBe(verdicts[Verdict.SYN_COOKIE]! + verdicts[Verdict.SYN_COOKIE_LISTENDROP]!);
    // Children: accepted + still queued (reset ones included).
    expect(c[Counter.PassiveOpens]).toBe(seen.size);
    expect(c[Counter.PassiveOpens]).toBe(acceptedCount + listener.acceptQueueLength);
    expect(acceptedCount).toBe(acceptedIds.size);
    if (!sw.counters.hasSynRetransCounters) expect(c[Counter.TCPSynRetrans]).toBe(0);
    if (!sw.counters.hasPawsPassive) expect(c[Counter.PAWSPassive]).toBe(0);
  }

  VERDICTS.forEach((v, i) => coverage.set(v.name, (coverage.get(v.name) ?? 0) + h.host.verdictCounts[i]!));
  return { frames, counters: Array.from(h.host.counters) };
}

describe('stack properties over random traffic (spec §9a invariants)', () => {
  it('never throws; queues within bounds; qlen/young match the live requests; counter identities hold', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        fc.constantFrom(0, 1, 2, 4, 16),
        fc.array(opArb, { minLength: 20, maxLength: 80 }),
        (kernel, backlog, ops) => {
          drive(kernel, backlog, ops);
        },
      ),
      { numRuns: 250, seed: 20240601 },
    );
    for (const name of [
      'SYN_QUEUED', 'SYN_COOKIE', 'SYN_COOKIE_LISTENDROP', 'DROP_REQQ_FULL', 'DROP_ACCEPTQ_FULL', 'DROP_ACCEPTQ_FULL_YOUNG',
      'COOKIE_ACCEPTED', 'COOKIE_BAD', 'REQ_ESTABLISHED', 'REQ_ACCEPTQ_OVERFLOW', 'REQ_RESET', 'REQ_SYN_RETRANSMIT',
      'REQ_TIMEOUT_RETRANSMIT', 'REQ_EXPIRED', 'RST_STRAY_ACK',
    ]) {
      expect(coverage.get(name), name).toBeGreaterThan(0);
    }
  });

  it('is deterministic: the same input on two fresh hosts gives byte-identical frames and counters', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES),
        fc.constantFrom(0, 2, 16),
        fc.array(opArb, { minLength: 10, maxLength: 50 }),
        (kernel, backlog, ops) => {
          const a = drive(kernel, backlog, ops);
          const b = drive(kernel, backlog, ops);
          expect(b.frames).toEqual(a.frames);
          expect(b.counters).toEqual(a.counters);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it('floods with every syncookies mode keep qlen at the capacity exactly (spec §1.4, §5.2, §5.3)', () => {
    for (const kernel of PROFILES) {
      for (const syncookies of [0, 1, 2]) {
        const h = new StackHarness(kernel, [`net.ipv4.tcp_syncookies=${syncookies}`, 'net.ipv4.tcp_max_syn_backlog=4096']);
        const l = h.app.listen(80, 8, { ratePerSecond: 0 });
        for (let i = 0; i < 200; i++) h.segment({ src: PEERS[i % 4], srcPort: 2000 + i });
        const always = syncookies === 2 && h.host.profile.switches.syncookiesAlwaysMode;
        expect(l.qlen).toBe(always ? 0 : l.synQueueCapacity(h.host.profile.switches));
      }
    }
  });
});


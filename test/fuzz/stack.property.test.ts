// Property tests of the stack: random interleavings of valid, mutated and truncated frames from
// many peers, with random timer ticks and live sysctl changes, on every kernel era. Whatever
// the sequence: no exception, every frame counted once (accepted or one rejection reason), the
// SYN and accept queues within their limits, gauges equal to the sockets that exist, every frame
// the host sends well formed. Replies are answered in sequence (the third ACK, data, FIN) so the
// properties cover request socks, children, cookies and TIME_WAIT, not only the parser.
// (Peer MSS is kept ≥ 64 here: the tiny-MSS hang is its own regression in regressions.test.ts.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AcceptLoop } from '../../src/app/accept-loop.js';
import { createApp } from '../../src/app/handlers.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Host } from '../../src/stack/host.js';
import { Counter } from '../../src/stack/mib.js';
import { TxRing } from '../../src/stack/tx.js';
import { checkHostInvariants, checkReply, FUZZ_HOST, repairChecksums } from '../../src/tools/fuzz.js';
import { SegmentSpec, writeTcpSegment } from '../../src/wire/builder.js';
import { parseSegment } from '../../src/wire/parse.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { WireError } from '../../src/wire/wire-error.js';

const PEER_BASE = 0x0a4d8000; // 10.77.128.0
const KERNELS = ['3.10', '4.4', '4.10', '4.15', '5.4', '6.1', '6.x'];

interface Pending {
  peer: number;
  port: number;
  seq: number;
  ack: number;
  peerTs: number;
  hostTs: number;
}

type Action =
  | { kind: 'syn'; peer: number; port: number; isn: number; mss: number; ts: boolean; sack: boolean; ws: number }
  | { kind: 'reply'; pick: number; what: 'ack' | 'data' | 'fin' | 'rst' | 'syn-again' | 'bad-ack'; size: number }
  | { kind: 'mutate'; pick: number; at: number; value: number; repair: boolean }
  | { kind: 'truncate'; pick: number; keep: number }
  | { kind: 'junk'; bytes: Uint8Array }
  | { kind: 'tick'; ms: number }
  | { kind: 'sysctl'; cookies: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('syn' as const), peer: fc.nat(15), port: fc.nat(7), isn: fc.nat(), mss: fc.constantFrom(64, 536, 1460, 9000), ts: fc.boolean(), sack: fc.boolean(), ws: fc.integer({ min: -1, max: 14 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('reply' as const), pick: fc.nat(), what: fc.constantFrom('ack', 'ack', 'data', 'fin', 'rst', 'syn-again', 'bad-ack') as fc.Arbitrary<'ack'>, size: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mutate' as const), pick: fc.nat(), at: fc.nat(80), value: fc.nat(255), repair: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pick: fc.nat(), keep: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), bytes: fc.uint8Array({ maxLength: 80 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.oneof(fc.nat(50), fc.nat(3000), fc.nat(130_000)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sysctl' as const), cookies: fc.nat(2) }) },
);

const setupArb = fc.record({
  kernel: fc.constantFrom(...KERNELS),
  backlog: fc.constantFrom(1, 2, 4, 128),
  cookies: fc.nat(2),
  app: fc.constantFrom('http', 'echo', 'discard', 'none'),
  acceptRate: fc.constantFrom(Infinity, 0, 10),
  abortOnOverflow: fc.boolean(),
  twRecycle: fc.boolean(),
});

class Driver {
  readonly host: Host;
  now = 0;
  frames = 0;
  /** Frames we sent, for mutation/truncation (the last few). */
  readonly sent: Uint8Array[] = [];
  readonly flows = new Map<number, Pending>();
  private readonly spec = new SegmentSpec();
  /** A sent frame read back (the wire's parse half). */
  private readonly reply = new SegmentSpec();

  constructor(setup: fc.RecordValue<typeof setupArb extends fc.Arbitrary<infer T> ? T : never>) {
    const profile = resolveProfile(setup.kernel);
    const overrides = [`net.ipv4.tcp_syncookies=${setup.cookies}`, `net.ipv4.tcp_abort_on_overflow=${setup.abortOnOverflow ? 1 : 0}`];
    if (setup.twRecycle && Object.prototype.hasOwnProperty.call(profile.sysctlDefaults, 'net.ipv4.tcp_tw_recycle')) overrides.push('net.ipv4.tcp_tw_recycle=1');
    const tx = new TxRing(64, (ring) => this.drain(ring));
    this.host = new Host({ profile, sysctls: new Sysctls(profile, overrides), address: FUZZ_HOST, seed: 7, tx, eventCapacity: 256 });
    new AcceptLoop(this.host).listen(80, setup.backlog, { handler: setup.app === 'none' ? null : createApp(setup.app), ratePerSecond: setup.acceptRate });
  }

  /** Checks every frame the host sent and learns the sequence numbers a real peer would use. */
  drain(ring: TxRing = this.host.tx): void {
    for (let i = 0; i < ring.count; i++) {
      const off = ring.offsets[i]!;
      const len = ring.lengths[i]!;
      const b = ring.slab;
      checkReply(this.host, b, off, len);
      const reply = this.reply;
      if (parseSegment(b, off, len, reply) !== WireError.Ok) continue;
      const flags = reply.flags;
      if ((flags & TcpFlag.RST) !== 0) continue;
      const peer = reply.dstAddr;
      const port = reply.dstPort;
      const key = peer * 65536 + port;
      const seq = reply.seq;
      const ack = reply.ack;
      const payload = reply.payloadLength;
      const hostTs = reply.hasTimestamps ? reply.tsVal : 0;
      const peerTs = reply.hasTimestamps ? reply.tsEcr : 0;
      const end = (seq + payload + ((flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0 ? 1 : 0)) >>> 0;
      const existing = this.flows.get(key);
      if ((flags & TcpFlag.SYN) !== 0) this.flows.set(key, { peer, port, seq: ack, ack: end, peerTs, hostTs });
      else if (existing !== undefined) {
        existing.ack = end;
        if (hostTs !== 0) existing.hostTs = hostTs;
      }
    }
    ring.clear();
  }

  send(frame: Uint8Array, len = frame.length): void {
    this.host.tick(this.now);
    this.drain();
    this.host.receive(frame, 0, len, this.now);
    this.drain();
    this.frames++;
    this.sent.push(frame.slice(0, len));
    if (this.sent.length > 16) this.sent.shift();
    checkHostInvariants(this.host);
  }

  segment(fill: (s: SegmentSpec) => void): Uint8Array {
    const s = this.spec.reset();
    s.dstAddr = FUZZ_HOST;
    s.dstPort = 80;
    s.window = 502;
    fill(s);
    const buf = new Uint8Array(4096);
    return buf.slice(0, writeTcpSegment(buf, 0, s));
  }

  run(action: Action): void {
    switch (action.kind) {
      case 'syn':
        this.send(
          this.segment((s) => {
            s.srcAddr = PEER_BASE + action.peer;
            s.srcPort = 1024 + action.port;
            s.seq = action.isn;
            s.flags = TcpFlag.SYN;
            s.mss = action.mss;
            s.hasTimestamps = action.ts;
            s.tsVal = (this.now + 1000) >>> 0;
            s.sackPermitted = action.sack;
            s.windowScale = action.ws;
          }),
        );
        break;
      case 'reply': {
        const flows = [...this.flows.values()];
        if (flows.length === 0) return;
        const f = flows[action.pick % flows.length]!;
        f.peerTs = (f.peerTs + 1) >>> 0;
        this.send(
          this.segment((s) => {
            s.srcAddr = f.peer;
            s.srcPort = f.port;
            s.seq = f.seq;
            s.ack = action.what === 'bad-ack' ? (f.ack + 12345) >>> 0 : f.ack;
            s.flags = TcpFlag.ACK;
            s.hasTimestamps = f.hostTs !== 0;
            s.tsVal = f.peerTs;
            s.tsEcr = f.hostTs;
            if (action.what === 'data') {
              const data = new Uint8Array(Math.min(action.size, 1400)).fill(0x61);
              s.flags |= TcpFlag.PSH;
              s.payload = data;
              s.payloadLength = data.length;
              f.seq = (f.seq + data.length) >>> 0;
            } else if (action.what === 'fin') {
              s.flags |= TcpFlag.FIN;
              f.seq = (f.seq + 1) >>> 0;
            } else if (action.what === 'rst') {
              s.flags = TcpFlag.RST;
            } else if (action.what === 'syn-again') {
              s.flags = TcpFlag.SYN;
              s.seq = (f.seq - 1) >>> 0;
              s.mss = 1460;
            }
          }),
        );
        break;
      }
      case 'mutate': {
        if (this.sent.length === 0) return;
        const frame = this.sent[action.pick % this.sent.length]!.slice();
        if (frame.length === 0) return;
        frame[action.at % frame.length] = action.value;
        if (action.repair) repairChecksums(frame, frame.length, true, true);
        this.send(frame);
        break;
      }
      case 'truncate': {
        if (this.sent.length === 0) return;
        const frame = this.sent[action.pick % this.sent.length]!;
        this.send(frame.slice(0, Math.min(action.keep, frame.length)));
        break;
      }
      case 'junk':
        this.send(action.bytes);
        break;
      case 'tick':
        this.now += action.ms;
        this.host.tick(this.now);
        this.drain();
        checkHostInvariants(this.host);
        break;
      case 'sysctl':
        this.host.sysctls.set(`net.ipv4.tcp_syncookies=${action.cookies}`);
        break;
    }
  }
}

describe('stack properties under random interleavings (issue 10)', () => {
  it('no exception; every frame counted once; queues within limits; gauges match sockets; replies well formed', () => {
    let totalFrames = 0;
    fc.assert(
      fc.property(setupArb, fc.array(actionArb, { minLength: 100, maxLength: 400, size: 'max' }), (setup, actions) => {
        const driver = new Driver(setup);
        for (const action of actions) driver.run(action);
        // Let every timer run out: requests expire, TIME_WAIT ends, retransmissions give up.
        driver.now += 30 * 60_000;
        driver.host.tick(driver.now);
        driver.drain();
        checkHostInvariants(driver.host);
        expect(driver.host.requests.live).toBe(0);
        expect(driver.host.timewait.live).toBe(0);
        expect(driver.host.counters[Counter.RxFrames]).toBe(driver.frames);
        totalFrames += driver.frames;
      }),
      { numRuns: 250, seed: 20_261_126 },
    );
    expect(totalFrames).toBeGreaterThan(10_000);
  });

  it('a SYN flood from many peers never holds more request socks than the SYN-queue limit', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KERNELS), fc.constantFrom(1, 4, 16, 128), fc.nat(2), fc.integer({ min: 50, max: 1500 }), (kernel, backlog, cookies, count) => {
        const driver = new Driver({ kernel, backlog, cookies, app: 'none', acceptRate: 0, abortOnOverflow: false, twRecycle: false });
        const listener = driver.host.listeners[0]!;
        const limit = listener.synQueueCapacity(driver.host.profile.switches);
        let maxQlen = 0;
        for (let i = 0; i < count; i++) {
          driver.now += 1;
          driver.run({ kind: 'syn', peer: i % 16, port: i >> 4, isn: i * 7919, mss: 1460, ts: true, sack: true, ws: 7 });
          maxQlen = Math.max(maxQlen, listener.qlen);
        }
        expect(maxQlen).toBeLessThanOrEqual(limit);
        if (count > limit) {
          const c = driver.host.counters;
          // Overflow went to cookies (on) or was dropped and counted (off), never queued.
          expect(cookies === 0 ? c[Counter.TCPReqQFullDrop]! : c[Counter.TCPReqQFullDoCookies]!).toBeGreaterThan(0);
        }
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});

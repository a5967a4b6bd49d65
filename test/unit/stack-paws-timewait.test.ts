// Spec §9a vectors for the per-host PAWS check of tcp_tw_recycle (§2), SYNs meeting
// TIME_WAIT (§1.9), and issue 5: the recycle TIME_WAIT and the bounded metrics cache.

import { describe, expect, it } from 'vitest';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { TcpMetrics, TCP_METRICS_HASH_LOG, TCP_METRICS_RECLAIM_DEPTH } from '../../src/stack/metrics.js';
import { SyndropError } from '../../src/errors.js';
import { verdictByName } from '../../src/stack/verdict.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  HOST_H,
  P_4_12_PLUS,
  expectSynAck,
  fillSynQueue,
  httpListener,
  listenerOf,
  only,
  queues,
  requestSlot,
  serverClosedConnection,
  specFacts,
  switchesOf,
} from '../helpers/vectors.js';

const NOW = 100_000;

/** tw_recycle 1 with metrics[C] = {ts 1000, tsStamp now − ageSec} (direct setup: spec §9a #16–#22). */
function recycleHarness(kernel: string, ageSec: number, recycle = true): StackHarness {
  const h = new StackHarness(kernel, recycle ? ['net.ipv4.tcp_tw_recycle=1'] : []);
  h.host.listen(80, 128);
  h.advanceTo(NOW);
  const entry = h.host.metrics.getOrCreate(CLIENT_C, h.now);
  entry.ts = 1000;
  entry.tsStamp = Math.floor(NOW / 1000) - ageSec;
  h.listenDeltas();
  return h;
}

describe('tcp_peer_is_proven with paws_check (spec §2.3, §1.1 C8a, §1.2 D5)', () => {
  it('3.10: SYN with TSval 900 from a host whose entry (ts 1000) is 10 s old is dropped (spec §9a #16)', () => {
    const h = recycleHarness('3.10', 10);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: 900 });
    expect(verdict).toBe('DROP_PAWS_PASSIVE');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
    expect(queues(h).qlen).toBe(0);
  });

  it('3.10: SYN with TSval 999 (1 behind, within TCP_PAWS_WINDOW) gets a SYN-ACK (spec §9a #17)', () => {
    const h = recycleHarness('3.10', 10);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: 999 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies), { tsEcr: 999 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: SYN with TSval 998 (2 behind) is dropped (spec §9a #18)', () => {
    const h = recycleHarness('3.10', 10);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: 998 });
    expect(verdict).toBe('DROP_PAWS_PASSIVE');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
  });

  it.each(['3.10', '4.4'])('%s: an entry older than 60 s does not reject TSval 900 (spec §9a #19)', (kernel) => {
    const h = recycleHarness(kernel, 61);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: 900 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(replies), { tsEcr: 900 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('3.10: a SYN without timestamps from a fresh host gets a SYN-ACK (3.10 checks only SYNs with TS) (spec §9a #20)', () => {
    const h = recycleHarness('3.10', 10);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: null });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies), { tsEcr: null });
    expect(h.listenDeltas()).toEqual({});
  });

  it('4.4: a SYN without timestamps from a fresh host is dropped (`!timestamps` clause) (spec §9a #21)', () => {
    const h = recycleHarness('4.4', 10);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: null });
    expect(verdict).toBe('DROP_PAWS_PASSIVE');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
  });

  it.each(P_4_12_PLUS)('%s: no tw_recycle sysctl; SYN with TSval 900 from a fresh host gets a SYN-ACK (spec §9a #22)', (kernel) => {
    expect(() => new Sysctls(resolveProfile(kernel), ['net.ipv4.tcp_tw_recycle=1'])).toThrow(SyndropError);
    const h = recycleHarness(kernel, 10, false);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, tsVal: 900 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(replies), { tsEcr: 900 });
    expect(h.listenDeltas()).toEqual({});
    expect(switchesOf(kernel).counters.hasPawsPassive).toBe(false);
  });
});

// Spec §8 / §8c: the new request continues the old sequence space (ISN = old snd_nxt + 65537)
// on 3.10–4.10 and 6.10+ (6.12.0, 6.18); 4.14–6.9 lose tcp_tw_isn and pick a clock ISN (6.1.20,
// 6.1.170 measured), so their SYN goes through the ordinary flood check.
const TW_ISN_CONTINUES = ['3.10', 'centos7', '4.4', '4.4-late', '4.9', '4.9-late', '4.10', '6.12', '6.12-late', '6.x'];
const TW_ISN_FROM_CLOCK = ['4.15', '4.19', '5.4', '5.10', '5.15', '6.1', '6.1-late', '6.1-latest', '6.8'];

describe('a SYN reusing a TIME_WAIT 4-tuple: which ISN (spec §1.9, §8c)', () => {
  it('every profile is in exactly one of the two lists', () => {
    expect([...TW_ISN_CONTINUES, ...TW_ISN_FROM_CLOCK].sort()).toEqual([...ALL].sort());
  });

  it.each(TW_ISN_CONTINUES)('%s: SYN with a higher seq kills TIME_WAIT and is queued with ISN = snd_nxt + 65537, even with the SYN queue full (spec §9a #27)', (kernel) => {
    const h = new StackHarness(kernel);
    const l = httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C);
    expect(h.host.timewait.live).toBe(1);
    const capacity = l.synQueueCapacity(switchesOf(kernel));
    fillSynQueue(h, capacity);
    expect(l.synQueueFull(switchesOf(kernel))).toBe(true);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt + 1000, tsVal: 10_000 });
    // The TIME_WAIT decision (SYN_TIMEWAIT_REUSE) hands the SYN to the listener, which queues it.
    expect(verdict).toBe('SYN_QUEUED');
    expect(h.host.verdictCounts[verdictByName('SYN_TIMEWAIT_REUSE')]).toBe(1);
    const synAck = only(replies);
    expectSynAck(kernel, synAck, { clientSeq: tw.rcvNxt + 1000, tsEcr: 10_000 });
    expect(synAck.seq).toBe((tw.sndNxt + 65537) >>> 0);
    expect(h.listenDeltas()).toEqual({});
    expect(h.host.timewait.live).toBe(0);
    expect(l.qlen).toBe(capacity + 1);
    expect(requestSlot(h, CLIENT_C, 5000)).toBeGreaterThanOrEqual(0);
  });

  it.each(TW_ISN_FROM_CLOCK)('%s: SYN with a higher seq kills TIME_WAIT; the request gets a clock ISN, and with the SYN queue full a cookie (TCPReqQFullDoCookies+1, SyncookiesSent+1) (spec §8c)', (kernel) => {
    const h = new StackHarness(kernel);
    const l = httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C);
    const capacity = l.synQueueCapacity(switchesOf(kernel));
    fillSynQueue(h, capacity);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt + 1000, tsVal: 10_000 });
    expect(verdict).toBe('SYN_COOKIE');
    expect(h.host.verdictCounts[verdictByName('SYN_TIMEWAIT_REUSE')]).toBe(1);
    const synAck = only(replies);
    expect(synAck.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(synAck.ack).toBe((tw.rcvNxt + 1001) >>> 0);
    expect(synAck.seq).not.toBe((tw.sndNxt + 65537) >>> 0);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1 });
    expect(h.host.timewait.live).toBe(0);
    expect(l.qlen).toBe(capacity);
  });

  it.each(TW_ISN_FROM_CLOCK)('%s: with room in the SYN queue the reusing SYN is queued with a clock ISN, not snd_nxt + 65537 (spec §8c)', (kernel) => {
    const h = new StackHarness(kernel);
    const l = httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt + 1000, tsVal: 10_000 });
    expect(verdict).toBe('SYN_QUEUED');
    const synAck = only(replies);
    expect(synAck.seq).not.toBe((tw.sndNxt + 65537) >>> 0);
    expect(h.listenDeltas()).toEqual({});
    expect(l.qlen).toBe(1);
  });
});

describe.each(ALL)('%s: a SYN meeting TIME_WAIT (spec §1.9)', (kernel) => {
  it(`${kernel}: SYN with an older TSval is PAWS-rejected by TIME_WAIT: ACK, no SYN-ACK (spec §9a #28)`, () => {
    const h = new StackHarness(kernel);
    httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C, { tsStart: 4990, tsLast: 5000 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt - 10, tsVal: 4000 });
    const paws = specFacts(kernel).timewaitPaws;
    expect(verdict).toBe(paws === 'PAWSTimewait' ? 'TW_PAWS_TIMEWAIT' : 'TW_PAWS_ESTAB');
    const ack = only(replies);
    expect(ack.flags).toBe(TcpFlag.ACK);
    expect(ack.seq).toBe(tw.sndNxt);
    expect(ack.ack).toBe(tw.rcvNxt);
    expect(ack.tsEcr).toBe(5000);
    expect(h.listenDeltas()).toEqual(paws === 'PAWSTimewait' ? { PAWSTimewait: 1 } : { PAWSEstab: 1 });
    expect(h.host.timewait.live).toBe(1);
    expect(queues(h).qlen).toBe(0);
  });
});

// The TIME_WAIT PAWS window is 0 (spec §1.9, corrected from real kernels in §8c): TSval one
// behind ts_recent is already rejected, even with a higher sequence number. The counter per
// version is written out here, not read from the profile under test.
describe.each([
  ['3.10', 'PAWSEstab'],
  ['4.4', 'PAWSEstab'],
  ['4.10', 'PAWSEstab'],
  ['6.1', 'PAWSEstab'],
  ['6.8', 'PAWSEstab'],
  ['6.x', 'PAWSTimewait'],
])('%s: TIME_WAIT PAWS window 0 (spec §1.9, §8c)', (kernel, counter) => {
  it(`${kernel}: SYN with TSval = ts_recent − 1 and a higher seq gets the bucket's ACK and ${counter}+1, no SYN-ACK`, () => {
    const h = new StackHarness(kernel);
    httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C, { tsStart: 4990, tsLast: 5000 });
    h.listenDeltas();
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt + 1000, tsVal: 4999 });
    const ack = only(replies);
    expect(ack.flags).toBe(TcpFlag.ACK);
    expect(ack.seq).toBe(tw.sndNxt);
    expect(ack.ack).toBe(tw.rcvNxt);
    expect(ack.tsEcr).toBe(5000);
    expect(h.listenDeltas()).toEqual({ [counter]: 1 });
    expect(h.host.timewait.live).toBe(1);
  });

  it(`${kernel}: SYN with TSval = ts_recent and a higher seq reuses the 4-tuple: SYN-ACK`, () => {
    const h = new StackHarness(kernel);
    httpListener(h, 4);
    const tw = serverClosedConnection(h, 5000, CLIENT_C, { tsStart: 4990, tsLast: 5000 });
    const { replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt + 1000, tsVal: 5000 });
    expect(only(replies).flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(h.host.timewait.live).toBe(0);
  });
});

describe('3.10: tcp_tw_recycle and the server-closed connection (spec §2.2, §2.4)', () => {
  it('3.10: closing first records metrics[C] = {ts 7000, tsStamp now}; TIME_WAIT lasts 3.5 × RTO = 700 ms; TWKilled+1 at expiry (spec §9a #54, count as measured in §2.4/§8c)', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_tw_recycle=1', 'net.ipv4.tcp_timestamps=1']);
    httpListener(h);
    h.advanceTo(5000);
    expect(h.host.metrics.lookup(CLIENT_C)).toBeUndefined();
    serverClosedConnection(h, 5000, CLIENT_C, { tsStart: 6996, tsLast: 7000 });
    const entry = h.host.metrics.lookup(CLIENT_C)!;
    expect(entry.ts).toBe(7000);
    expect(entry.tsStamp).toBe(5);
    const slot = [...h.host.timewaitSlots()][0]!;
    expect(h.host.timewaitExpiresAt(slot)).toBe(5700);
    h.listenDeltas();
    h.advanceTo(5699);
    expect(h.host.timewait.live).toBe(1);
    h.advanceTo(5700);
    expect(h.host.timewait.live).toBe(0);
    // §9a #54 inferred TW+1; 3.10.108 measured TWKilled+1 (~0.87 s): the recycle calendar
    // counts LINUX_MIB_TIMEWAITKILLED (§2.4, §8c).
    expect(h.listenDeltas()).toEqual({ TWKilled: 1 });
  });
});

// When TcpExtTW moves, per version, written out (spec §2.4, §8c): at expiry up to 5.17, when
// the socket enters TIME_WAIT from 5.18 on.
describe.each([
  ['3.10', 'atExpiry'],
  ['4.4', 'atExpiry'],
  ['4.10', 'atExpiry'],
  ['5.15', 'atExpiry'],
  ['6.1', 'onEnter'],
  ['6.8', 'onEnter'],
  ['6.x', 'onEnter'],
])('%s: TcpExtTW for a 60 s TIME_WAIT (spec §2.4, §8c)', (kernel, when) => {
  it(`${kernel}: TW+1 ${when === 'onEnter' ? 'when the server-closed connection enters TIME_WAIT' : 'when the TIME_WAIT ends 60 s later'}`, () => {
    const h = new StackHarness(kernel);
    httpListener(h);
    h.listenDeltas();
    const tw = (deltas: Record<string, number>) => ({ TW: deltas.TW ?? 0, TWKilled: deltas.TWKilled ?? 0 });
    serverClosedConnection(h, 5000, CLIENT_C);
    expect(h.host.timewait.live).toBe(1);
    expect(tw(h.listenDeltas())).toEqual(when === 'onEnter' ? { TW: 1, TWKilled: 0 } : { TW: 0, TWKilled: 0 });
    h.advanceTo(h.now + 60_000);
    expect(h.host.timewait.live).toBe(0);
    expect(tw(h.listenDeltas())).toEqual(when === 'onEnter' ? { TW: 0, TWKilled: 0 } : { TW: 1, TWKilled: 0 });
  });
});

// ------------------------------------------------------------------------------------------
// Issue 5: the NAT/tw_recycle story end to end, on the profiles that still have tw_recycle.

const RECYCLE_PROFILES = ALL.filter((k) => switchesOf(k).hasTwRecycle);

describe.each(RECYCLE_PROFILES)('%s: issue 5, per-host PAWS after a server-closed connection', (kernel) => {
  function closedWithH(recycle: 0 | 1, timestamps = true): StackHarness {
    const h = new StackHarness(kernel, [`net.ipv4.tcp_tw_recycle=${recycle}`]);
    httpListener(h);
    serverClosedConnection(h, 4000, HOST_H, timestamps ? { tsStart: 999_990, tsLast: 1_000_000 } : { tsStart: null, tsLast: null });
    h.listenDeltas();
    return h;
  }

  it(`${kernel}: a TSval going backwards within 60 s is rejected, accepted again after 60 s (spec §2.3, §9b #122, #124)`, () => {
    const h = closedWithH(1);
    h.advanceTo(10_000);
    h.listenDeltas(); // the recycle TIME_WAIT expired meanwhile (TW / TWKilled)
    const early = h.segment({ src: HOST_H, srcPort: 4001, tsVal: 999_000 });
    expect(early.verdict).toBe('DROP_PAWS_PASSIVE');
    expect(early.replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ PAWSPassive: 1, ListenDrops: 1 });
    h.advanceTo(61_000);
    h.listenDeltas();
    const late = h.segment({ src: HOST_H, srcPort: 4002, tsVal: 999_000 });
    expect(late.verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(late.replies), { tsEcr: 999_000 });
    expect(h.listenDeltas()).toEqual({});
  });

  it(`${kernel}: a forward TSval is accepted within 60 s (spec §2.3, §9b #125)`, () => {
    const h = closedWithH(1);
    h.advanceTo(10_000);
    h.listenDeltas();
    const r = h.segment({ src: HOST_H, srcPort: 4001, tsVal: 2_000_000 });
    expect(r.verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(r.replies), { tsEcr: 2_000_000 });
    expect(h.listenDeltas()).toEqual({});
  });

  it(`${kernel}: with tcp_tw_recycle=0 nothing is rejected and no TS entry is written (spec §2.2, §9b #126)`, () => {
    const h = closedWithH(0);
    expect(h.host.metrics.lookup(HOST_H)?.tsStamp ?? 0).toBe(0);
    h.advanceTo(10_000);
    const r = h.segment({ src: HOST_H, srcPort: 4001, tsVal: 999_000 });
    expect(r.verdict).toBe('SYN_QUEUED');
    expect(h.listenDeltas()).toEqual({});
  });

  it(`${kernel}: a connection without timestamps leaves no TS entry: later SYNs with TS are accepted (spec §2.2)`, () => {
    const h = closedWithH(1, false);
    expect(h.host.metrics.lookup(HOST_H)?.tsStamp ?? 0).toBe(0);
    h.advanceTo(10_000);
    const r = h.segment({ src: HOST_H, srcPort: 4001, tsVal: 5 });
    expect(r.verdict).toBe('SYN_QUEUED');
    expect(h.listenDeltas()).toEqual({});
  });

  it(`${kernel}: the recycle TIME_WAIT lasts 3.5 × RTO (RTO 200 ms → 700 ms; RTO 300 ms → 1050 ms), 60 s without recycle (spec §2.4)`, () => {
    for (const [recycle, rttMs, lifetime] of [
      [1, 0, 700],
      [1, 100, 1050],
      [0, 0, 60_000],
    ] as const) {
      const h = new StackHarness(kernel, [`net.ipv4.tcp_tw_recycle=${recycle}`]);
      httpListener(h);
      serverClosedConnection(h, 4000, HOST_H, { rttMs });
      const slot = [...h.host.timewaitSlots()][0]!;
      const enteredAt = h.host.timewait.createdAt[slot]!;
      expect(h.host.timewaitExpiresAt(slot) - enteredAt).toBe(lifetime);
      h.advanceTo(enteredAt + lifetime - 1);
      expect(h.host.timewait.live).toBe(1);
      h.advanceTo(enteredAt + lifetime);
      expect(h.host.timewait.live).toBe(0);
    }
  });
});

describe('3.10: without timestamps nothing is rejected (spec §1.1 C8a, §9b #127)', () => {
  it('3.10: a SYN without TS from a host with a fresh TS entry is answered', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_tw_recycle=1']);
    httpListener(h);
    serverClosedConnection(h, 4000, HOST_H, { tsStart: 999_990, tsLast: 1_000_000 });
    h.advanceTo(10_000);
    h.listenDeltas();
    const r = h.segment({ src: HOST_H, srcPort: 4001, tsVal: null });
    expect(r.verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(r.replies), { tsEcr: null });
    expect(h.listenDeltas()).toEqual({});
  });
});

describe('issue 5: tcp_tw_recycle is refused where it does not exist (spec §2.5)', () => {
  it.each(P_4_12_PLUS)('%s: net.ipv4.tcp_tw_recycle=1 throws SYNDROP_ERR_UNKNOWN_SYSCTL (spec §9b #129)', (kernel) => {
    let error: unknown;
    try {
      new Sysctls(resolveProfile(kernel), ['net.ipv4.tcp_tw_recycle=1']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SyndropError);
    expect((error as SyndropError).code).toBe('SYNDROP_ERR_UNKNOWN_SYSCTL');
  });

  it.each(RECYCLE_PROFILES)('%s: net.ipv4.tcp_tw_recycle=1 is accepted', (kernel) => {
    expect(new Sysctls(resolveProfile(kernel), ['net.ipv4.tcp_tw_recycle=1']).get('net.ipv4.tcp_tw_recycle')).toBe(1);
  });
});

describe('issue 5: TcpMetrics stays bounded (spec §2.1 reclaim depth 5)', () => {
  const bound = (1 << TCP_METRICS_HASH_LOG) * (TCP_METRICS_RECLAIM_DEPTH + 1);

  it('100k distinct peers keep at most 16384 × 6 entries', () => {
    expect(bound).toBe(16384 * 6);
    const metrics = new TcpMetrics();
    for (let i = 0; i < 100_000; i++) {
      const addr = (0x0a000000 + i) >>> 0;
      metrics.rememberStamp(addr, i, 1, 1, true, i);
    }
    expect(metrics.size).toBeLessThanOrEqual(bound);
    for (let i = 0; i < 100_000; i++) metrics.getOrCreate((0x0b000000 + i * 7919) >>> 0, 100_000 + i);
    expect(metrics.size).toBeLessThanOrEqual(bound);
    expect(metrics.list().length).toBe(metrics.size);
  });

  it('the reclaim reuses the oldest entry of a long chain', () => {
    const metrics = new TcpMetrics(1); // two chains: every address lands in one of them
    for (let i = 0; i < 100; i++) metrics.getOrCreate(i, i);
    expect(metrics.size).toBeLessThanOrEqual(2 * (TCP_METRICS_RECLAIM_DEPTH + 1));
  });

  it('3.10 with tw_recycle: 2000 server-closed connections from distinct peers leave a bounded table', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_tw_recycle=1']);
    httpListener(h);
    for (let i = 0; i < 2000; i++) serverClosedConnection(h, 4000, (0x0a010000 + i) >>> 0);
    expect(h.host.metrics.size).toBeLessThanOrEqual(bound);
    expect(h.host.metrics.size).toBe(2000);
    expect(listenerOf(h).qlen).toBe(0);
  });
});

describe('4.4: a metrics entry without a TS stamp never rejects (spec §2.3)', () => {
  it('4.4: tw_recycle=1, C connected at 0 s (an RTT-only entry): its SYN without TS at 5 s is answered', () => {
    const h = new StackHarness('4.4', ['net.ipv4.tcp_tw_recycle=1']);
    h.app.listen(80, 128, { ratePerSecond: 0 });
    expect(h.handshake(4000).ackVerdict).toBe('REQ_ESTABLISHED');
    expect(h.host.metrics.lookup(CLIENT_C)!.tsStamp).toBe(0);
    h.advanceTo(5000);
    h.listenDeltas();
    const r = h.segment({ src: CLIENT_C, srcPort: 4001, tsVal: null });
    expect(r.verdict).toBe('SYN_QUEUED');
    expect(h.listenDeltas()).toEqual({});
  });
});

// Spec §9a vectors for SYN cookies on the ACK path (cookie_v4_check, spec §3.4) and the
// cookie MSS tables (§3.4, §8).

import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/stack/conn.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import {
  CLIENT_C,
  CLIENT_D,
  P_4_4_PLUS,
  P_5X,
  expectResetForAck,
  expectSynAck,
  fillAcceptQueue,
  fillSynQueue,
  listenerOf,
  only,
  queues,
  specFacts,
  switchesOf,
} from '../helpers/vectors.js';

function harness(kernel: string, sysctls: string[] = []): StackHarness {
  return new StackHarness(kernel, ['net.ipv4.tcp_max_syn_backlog=256', 'net.ipv4.tcp_syncookies=1', ...sysctls]);
}

/** Fills the SYN queue of a backlog-5 never-accepting listener, then C:5000's SYN gets a cookie. */
function cookieFromC(h: StackHarness, kernel: string, syn: { mss?: number; tsVal?: number | null; sack?: boolean; windowScale?: number | null } = {}) {
  const l = h.app.listen(80, 5, { ratePerSecond: 0 });
  fillSynQueue(h, specFacts(kernel).synQueueAt5);
  expect(l.synQueueFull(switchesOf(kernel))).toBe(true);
  const r = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, ...syn });
  expect(r.verdict).toMatch(/^SYN_COOKIE/);
  return only(r.replies);
}

function connOf(h: StackHarness, src: number, port: number): Connection {
  for (const conn of h.host.connections.values()) if (conn.peerAddr === src && conn.peerPort === port) return conn;
  throw new Error('no connection');
}

describe.each([...P_5X, '6.x'])('%s: a valid cookie ACK', (kernel) => {
  it(`${kernel}: ACK without TS 30 s after the cookie: child without wscale/SACK, MSS from the table (spec §9a #29, §3.4)`, () => {
    const h = harness(kernel);
    const synAck = cookieFromC(h, kernel);
    h.advanceTo(30_000);
    const accBefore = queues(h).acc;
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null });
    expect(verdict).toBe('COOKIE_ACCEPTED');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ SyncookiesRecv: 1, TcpPassiveOpens: 1 });
    expect(queues(h).acc).toBe(accBefore + 1);
    const conn = connOf(h, CLIENT_C, 5000);
    expect(conn.peerWindowScale).toBe(-1);
    expect(conn.sackOk).toBe(false);
    expect(conn.timestamps).toBe(false);
    expect(conn.mss).toBe(1460);
    expect(conn.sndNxt).toBe((synAck.seq + 1) >>> 0);
    expect(conn.rcvNxt).toBe(1001);
  });
});

describe('3.10: a cookie ACK is valid only within 3 s of the last overflow (spec §3.4)', () => {
  it('3.10: ACK 5 s after the only cookie gets a RST and counts SyncookiesFailed (spec §9a #30)', () => {
    const h = harness('3.10');
    const synAck = cookieFromC(h, '3.10');
    h.advanceTo(5000);
    h.listenDeltas();
    const ack = synAck.seq + 1;
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(verdict).toBe('COOKIE_NO_RECENT_OVERFLOW');
    expectResetForAck(only(replies), ack, 5000);
    expect(h.listenDeltas()).toEqual({ SyncookiesFailed: 1, TcpOutRsts: 1 });
  });

  it('3.10: ACK 2 s after the cookie creates the child (spec §9a #31)', () => {
    const h = harness('3.10');
    const synAck = cookieFromC(h, '3.10');
    h.advanceTo(2000);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(verdict).toBe('COOKIE_ACCEPTED');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ SyncookiesRecv: 1, TcpPassiveOpens: 1 });
    expect(listenerOf(h).acceptQueueLength).toBe(1);
    // The TS-encoded options survive: wscale 7, SACK (spec §3.4 cookie_init_timestamp).
    const conn = connOf(h, CLIENT_C, 5000);
    expect(conn.peerWindowScale).toBe(7);
    expect(conn.sackOk).toBe(true);
    expect(conn.timestamps).toBe(true);
  });
});

describe.each(P_5X)('%s: a bad cookie during a recent overflow', (kernel) => {
  it(`${kernel}: ACK with a corrupted ack_seq 60 s after the cookie: RST, SyncookiesFailed (spec §9a #32)`, () => {
    const h = harness(kernel);
    const synAck = cookieFromC(h, kernel);
    h.advanceTo(60_000);
    h.listenDeltas();
    const bad = (synAck.seq + 1 + 0x1234) >>> 0;
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: bad, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(verdict).toBe('COOKIE_BAD');
    expectResetForAck(only(replies), bad, 5000);
    expect(h.listenDeltas()).toEqual({ SyncookiesFailed: 1, TcpOutRsts: 1 });
  });
});

describe.each(P_4_4_PLUS)('%s: a stray ACK to a listener that never overflowed', (kernel) => {
  it.each([0, 1, 2])(`${kernel}: RST with seq = its ack, TcpOutRsts+1 only, tcp_syncookies=%i (spec §9a #33, §8 stray ACK)`, (syncookies) => {
    const h = new StackHarness(kernel, [`net.ipv4.tcp_syncookies=${syncookies}`]);
    h.host.listen(80, 128);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 777, ack: 0xdeadbeef, flags: TcpFlag.ACK });
    expect(verdict).toBe('RST_STRAY_ACK');
    expectResetForAck(only(replies), 0xdeadbeef, 5000);
    expect(h.listenDeltas()).toEqual({ TcpOutRsts: 1 });
  });
});

describe('3.10: a stray ACK counts SyncookiesFailed when syncookies are on (spec §3.4)', () => {
  it('3.10: stray ACK 5 min after boot: RST, SyncookiesFailed+1 (spec §9a #34)', () => {
    const h = harness('3.10');
    h.host.listen(80, 128);
    h.advanceTo(300_001);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 777, ack: 0xdeadbeef, flags: TcpFlag.ACK });
    expect(verdict).toBe('COOKIE_NO_RECENT_OVERFLOW');
    expectResetForAck(only(replies), 0xdeadbeef, 5000);
    expect(h.listenDeltas()).toEqual({ SyncookiesFailed: 1, TcpOutRsts: 1 });
  });
});

describe.each(P_5X)('%s: a valid cookie ACK with the accept queue full', (kernel) => {
  it(`${kernel}: dropped silently, no RST even with tcp_abort_on_overflow=1 (spec §9a #35, §3.4, §8)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_abort_on_overflow=1']);
    const l = h.app.listen(80, 1, { ratePerSecond: 0 });
    fillAcceptQueue(h, 1);
    fillSynQueue(h, 1);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies);
    // D's handshake also goes through a cookie (SYN queue full): acc 2 of backlog 1, full.
    fillAcceptQueue(h, 1, 30001, CLIENT_D);
    expect(l.acceptQueueLength).toBe(2);
    expect(l.acceptQueueFull()).toBe(true);
    h.advanceTo(10_000);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(verdict).toBe('COOKIE_ACCEPTQ_FULL');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ SyncookiesRecv: 1, ListenOverflows: 1, ListenDrops: 1 });
    expect(l.acceptQueueLength).toBe(2);
  });
});

describe('cookie MSS tables (spec §3.4)', () => {
  it('3.10: SYN with MSS 1400 and no TS: cookie SYN-ACK with the MSS option only; the connection uses 1024 (spec §9a #51)', () => {
    const h = harness('3.10');
    const l = h.app.listen(80, 5, { ratePerSecond: 0 });
    fillSynQueue(h, 16);
    h.listenDeltas();
    const syn = h.segment({ src: CLIENT_C, srcPort: 5000, mss: 1400, tsVal: null });
    expect(syn.verdict).toBe('SYN_COOKIE_LISTENDROP');
    const synAck = only(syn.replies);
    expectSynAck('3.10', synAck, { tsEcr: null, sack: false, windowScale: false });
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 });
    expect(l.qlen).toBe(16);
    const ack = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null });
    expect(ack.verdict).toBe('COOKIE_ACCEPTED');
    expect(connOf(h, CLIENT_C, 5000).mss).toBe(1024);
  });

  it.each(P_5X)('%s: SYN with MSS 1400 and no TS: cookie MSS 1300 (spec §9a #52)', (kernel) => {
    const h = harness(kernel);
    const l = h.app.listen(80, 5, { ratePerSecond: 0 });
    fillSynQueue(h, 5);
    h.listenDeltas();
    const syn = h.segment({ src: CLIENT_C, srcPort: 5000, mss: 1400, tsVal: null });
    expect(syn.verdict).toBe('SYN_COOKIE');
    const synAck = only(syn.replies);
    expectSynAck(kernel, synAck, { tsEcr: null, sack: false, windowScale: false });
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1 });
    expect(l.qlen).toBe(5);
    const ack = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null });
    expect(ack.verdict).toBe('COOKIE_ACCEPTED');
    expect(connOf(h, CLIENT_C, 5000).mss).toBe(1300);
  });

  it('6.x: SYN with MSS 1400 and TS: a 1300-byte cookie MSS, 1288-byte segments (spec §8 cookie connections)', () => {
    const h = harness('6.x');
    const synAck = cookieFromC(h, '6.x', { mss: 1400 });
    const ack = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(ack.verdict).toBe('COOKIE_ACCEPTED');
    const conn = connOf(h, CLIENT_C, 5000);
    expect(conn.mss).toBe(1288);
    expect(conn.peerWindowScale).toBe(7);
    expect(conn.sackOk).toBe(true);
  });
});

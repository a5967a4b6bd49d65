// The receive windows real kernels advertise (spec §1.10, §8c), the window scale they offer
// from tcp_rmem, and the ACKs a full socket sends (no second pure ACK after its own data or
// FIN). Expected values are the measured ones of §8c, written out per kernel.

import { describe, expect, it } from 'vitest';
import { SyndropError } from '../../src/errors.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { HttpApp } from '../../src/app/handlers.js';
import { StackHarness, TcpFlag, type Reply } from '../helpers/stack-harness.js';
import { CLIENT_C, isSynAck, only, serverClosedConnection } from '../helpers/vectors.js';

/** The 256 MiB guests of §8c: tcp_rmem max about 1 MiB → wscale 5. */
const GUEST_RMEM_OLD = 'net.ipv4.tcp_rmem=4096 87380 1048576';
const GUEST_RMEM_NEW = 'net.ipv4.tcp_rmem=4096 131072 1048576';

const GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: s\r\n\r\n');
const isPureAck = (r: Reply) => r.flags === TcpFlag.ACK && r.payload.length === 0;

/** Handshake on a listener that never accepts, then the client's FIN: the server's ACK of it. */
function ackOfClientFin(kernel: string, sysctls: string[], syn: { tsVal?: number | null; windowScale?: number | null }): Reply {
  const h = new StackHarness(kernel, sysctls);
  h.app.listen(80, 128, { ratePerSecond: 0 });
  const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, ...syn }).replies);
  const ts = syn.tsVal === null ? null : 101;
  const third = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: ts, tsEcr: synAck.tsVal ?? 0 });
  expect(third.verdict).toBe('REQ_ESTABLISHED');
  const fin = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.FIN, tsVal: ts === null ? null : 102 });
  const ack = only(fin.replies);
  expect(ack.flags).toBe(TcpFlag.ACK);
  expect(ack.ack).toBe(1002);
  return ack;
}

describe('ACK of the client FIN from a child not yet accepted (spec §8c)', () => {
  it.each([
    ['3.10', GUEST_RMEM_OLD, 453, 14600],
    ['4.4', GUEST_RMEM_OLD, 905, 29200],
    ['4.10', GUEST_RMEM_OLD, 905, 29200],
    ['6.1', GUEST_RMEM_NEW, 2037, 64239],
    ['debian12', GUEST_RMEM_NEW, 2037, 64239],
  ])('%s with wscale 5 (%s): window %i with TS; %i without TS and window scaling', (kernel, rmem, scaled, unscaled) => {
    expect(ackOfClientFin(kernel, [rmem], {}).window).toBe(scaled);
    expect(ackOfClientFin(kernel, [rmem], { tsVal: null, windowScale: null }).window).toBe(unscaled);
  });

  it('6.x with its own tcp_rmem (wscale 10): 64', () => {
    expect(ackOfClientFin('6.x', [], {}).window).toBe(64);
  });

  it('6.1 with its default tcp_rmem (6 MiB max, wscale 7): ceil(65160 / 128) = 510', () => {
    expect(ackOfClientFin('6.1', [], {}).window).toBe(510);
  });
});

describe('TIME_WAIT ACK window (spec §8c)', () => {
  function twAck(kernel: string, sysctls: string[], o: { tsStart?: number | null; windowScale?: number | null } = {}): Reply {
    const h = new StackHarness(kernel, sysctls);
    h.app.listen(80, 128, { handler: new HttpApp() });
    return serverClosedConnection(h, 5000, CLIENT_C, o).twAck;
  }

  it.each([
    ['3.10', GUEST_RMEM_OLD, 453],
    ['4.4', GUEST_RMEM_OLD, 905],
    ['4.10', GUEST_RMEM_OLD, 905],
    ['6.1', GUEST_RMEM_NEW, 2037],
    ['6.1-late', GUEST_RMEM_NEW, 2037],
  ])('%s (%s): %i', (kernel, rmem, window) => {
    expect(twAck(kernel, [rmem]).window).toBe(window);
  });

  it('6.x: 64 with timestamps, 63 without (64240 / 1024 rounded up)', () => {
    expect(twAck('6.x', []).window).toBe(64);
    expect(twAck('6.x', [], { tsStart: null }).window).toBe(63);
  });
});

describe('a cookie connection sizes its window from the cookie MSS (spec §8, §8c)', () => {
  it('6.x, syncookies 2, SYN with MSS 1400 and no TS or wscale: the connection advertises 65000 = 50 × 1300', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=2']);
    h.app.listen(80, 128, { ratePerSecond: 0 });
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000, mss: 1400, tsVal: null, windowScale: null }).replies);
    expect(synAck.window).toBe(64240);
    expect(synAck.windowScale).toBeNull();
    const third = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: null });
    expect(third.verdict).toBe('COOKIE_ACCEPTED');
    const data = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: null, payload: GET });
    const ack = only(data.replies);
    expect(ack.ack).toBe(1001 + GET.length);
    expect(ack.window).toBe(65000);
  });
});

describe('tcp_rmem sets the window scale we offer (spec §1.10, §8c)', () => {
  it.each([
    ['6.x', [], 10],
    ['6.1', [], 7],
    ['3.10', [], 7],
    ['6.x', ['net.ipv4.tcp_rmem=4096 131072 1048576'], 5],
    ['6.1', ['net.core.rmem_max=33554432'], 10],
    ['4.4', ['net.ipv4.tcp_rmem=4096 87380 65535'], 2],
    ['4.4', ['net.ipv4.tcp_rmem=4096 87380 65535', 'net.core.rmem_max=65535'], 0],
  ])('%s %j: wscale %i', (kernel, sysctls, wscale) => {
    const h = new StackHarness(kernel, sysctls as string[]);
    h.host.listen(80, 128);
    const synAck = h.segment({ src: CLIENT_C, srcPort: 5000 }).replies.find(isSynAck)!;
    expect(synAck.windowScale).toBe(wscale);
  });

  it('tcp_rmem=4096 87380 65536: with 3.10 space / 2 = 43690 the SYN-ACK window stays 10 × 1448', () => {
    const h = new StackHarness('3.10', ['net.ipv4.tcp_rmem=4096 87380 65536']);
    h.host.listen(80, 128);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies.find(isSynAck)!.window).toBe(14480);
  });

  it('a small tcp_rmem default shrinks the SYN-ACK window: 6.x with tcp_rmem[1] 16384 → 8192 rounded down to 1448 = 7240', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_rmem=4096 16384 33554432']);
    h.host.listen(80, 128);
    expect(h.segment({ src: CLIENT_C, srcPort: 5000 }).replies.find(isSynAck)!.window).toBe(7240);
  });

  it('reads back tab-separated like sysctl, and refuses anything but three integers', () => {
    const s = new Sysctls(resolveProfile('6.x'), ['net.ipv4.tcp_rmem=4096 131072 1048576']);
    expect(s.read('net.ipv4.tcp_rmem').value).toEqual([4096, 131072, 1048576]);
    expect(() => s.set('net.ipv4.tcp_rmem=4096 131072')).toThrow(SyndropError);
    expect(() => s.set('net.ipv4.tcp_rmem=4096 0 1048576')).toThrow(/three integers|3 integers/);
  });
});

describe('no second pure ACK after our own data or FIN (spec §8c; issue 15 item 8)', () => {
  it('6.x: the GET is ACKed once, before the response; the response and the FIN carry the same ack, and nothing repeats it', () => {
    const h = new StackHarness('6.x');
    h.app.listen(80, 128, { handler: new HttpApp() });
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000 }).replies);
    h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    const get = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET });
    const acked = 1001 + GET.length;
    expect(get.replies.every((r) => r.ack === acked)).toBe(true);
    expect(isPureAck(get.replies[0]!)).toBe(true);
    expect(get.replies.filter(isPureAck)).toHaveLength(1);
    expect(get.replies.slice(1).every((r) => r.payload.length > 0 || (r.flags & TcpFlag.FIN) !== 0)).toBe(true);
    const fin = get.replies.find((r) => (r.flags & TcpFlag.FIN) !== 0)!;
    const finEnd = (fin.seq + fin.payload.length + 1) >>> 0;
    // The client ACKs our FIN and closes: one ACK of its FIN, from the socket entering TIME_WAIT.
    expect(h.segment({ src: CLIENT_C, srcPort: 5000, seq: acked, ack: finEnd, flags: TcpFlag.ACK, tsVal: 103 }).replies).toEqual([]);
    const last = h.segment({ src: CLIENT_C, srcPort: 5000, seq: acked, ack: finEnd, flags: TcpFlag.ACK | TcpFlag.FIN, tsVal: 104 });
    expect(last.replies).toHaveLength(1);
    expect(isPureAck(last.replies[0]!)).toBe(true);
    expect(last.replies[0]!.ack).toBe(acked + 1);
  });
});

describe('the window while received data is unread (tcp_select_window keeps cur_win, measured by verify --vm)', () => {
  // After the read: 510 (the initial 65160 rounded up) where free space is not rounded down;
  // 509 (round_down(65160, 128)) on 6.1.192 / 6.12.118, measured by verify --vm.
  it.each([
    ['6.1', 510],
    ['6.1-late', 510],
    ['6.1-latest', 509],
    ['6.12-late', 509],
  ])('%s (wscale 7): the quick ACK of an 18-byte request says 509 (65142 rounded up to 128), the answer after the app read it %i', (kernel, afterRead) => {
    const h = new StackHarness(kernel);
    h.app.listen(80, 128, { handler: new HttpApp() });
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000 }).replies);
    h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    const request = new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n');
    expect(request.length).toBe(18);
    const replies = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: request }).replies;
    expect(replies[0]!.payload.length).toBe(0);
    expect(replies[0]!.window).toBe(509);
    expect(replies[1]!.payload.length).toBeGreaterThan(0);
    expect(replies[1]!.window).toBe(afterRead);
  });
});

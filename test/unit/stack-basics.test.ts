// The 6.x host answers the real client frames captured from Linux 6.18 with the very bytes
// Linux sent — except the values Linux draws at random (ISN, TSval) and the checksums they
// feed — and carries a whole HTTP exchange to TIME_WAIT on the virtual clock.

import { describe, expect, it } from 'vitest';
import { HttpApp, HTTP_BODY } from '../../src/app/handlers.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { Host } from '../../src/stack/host.js';
import { Counter } from '../../src/stack/mib.js';
import { VERDICTS } from '../../src/stack/verdict.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { internetChecksum, pseudoHeaderSum, sumWords, finishChecksum } from '../../src/wire/checksum.js';
import { readU32, writeU16, writeU32 } from '../../src/wire/ipv4.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { AcceptLoop } from '../../src/app/accept-loop.js';
import * as cap from '../fixtures/captures.js';
import { decodeReply, StackHarness, type Reply } from '../helpers/stack-harness.js';
import { put16, refFold, refSum } from '../helpers/reference-checksum.js';

const SERVER = parseIpv4('10.201.0.1');

function linuxHost(kernel = '6.x'): Host {
  const profile = resolveProfile(kernel);
  const host = new Host({ profile, sysctls: new Sysctls(profile), address: SERVER, seed: 9 });
  new AcceptLoop(host).listen(8080, 128, { handler: new HttpApp() });
  return host;
}

function deliver(host: Host, hex: string, now: number): { verdict: string; replies: Uint8Array[] } {
  const frame = cap.hexBytes(hex);
  const verdict = host.receive(frame, 0, frame.length, now);
  const replies: Uint8Array[] = [];
  for (let i = 0; i < host.tx.count; i++) replies.push(host.tx.frame(i));
  host.tx.clear();
  return { verdict: VERDICTS[verdict]!.name, replies };
}

/** Linux's frame with our random draws (TCP seq, TSval) patched in and checksums redone. */
function withOurDraws(linuxHex: string, ours: Uint8Array, tsValOffset: number | null): Uint8Array {
  const expected = cap.hexBytes(linuxHex);
  const tcp = (expected[0]! & 0x0f) * 4;
  writeU32(expected, tcp + 4, readU32(ours, tcp + 4));
  if (tsValOffset !== null) writeU32(expected, tcp + tsValOffset, readU32(ours, tcp + tsValOffset));
  writeU16(expected, 10, 0);
  writeU16(expected, 10, internetChecksum(expected, 0, tcp));
  const length = expected.length - tcp;
  writeU16(expected, tcp + 16, 0);
  const sum = sumWords(expected, tcp, length, pseudoHeaderSum(readU32(expected, 12), readU32(expected, 16), 6, length));
  writeU16(expected, tcp + 16, finishChecksum(sum));
  return expected;
}

describe('6.x answers real Linux client frames with Linux bytes (spec §1.10, measured)', () => {
  it('SYN with MSS, SACK, TS, WS → the SYN-ACK Linux 6.18 sent: win 65160, mss 1460, sackOK+TS packed, nop, wscale 10, IP id 0, DF', () => {
    const host = linuxHost();
    const { verdict, replies } = deliver(host, cap.SYN_TS, 0);
    expect(verdict).toBe('SYN_QUEUED');
    expect(replies).toHaveLength(1);
    // TSval sits at TCP offset 20 + 4 (mss) + 4 (sackOK, TS kind and length) = 28.
    expect(replies[0]).toEqual(withOurDraws(cap.SYNACK_TS, replies[0]!, 28));
  });

  it('SYN without timestamps → win 64240, <mss 1460,nop,nop,sackOK,nop,wscale 10>', () => {
    const host = linuxHost();
    const { replies } = deliver(host, cap.SYN_NOTS, 0);
    expect(replies[0]).toEqual(withOurDraws(cap.SYNACK_NOTS, replies[0]!, null));
  });

  it("hping3's option-less SYN → a SYN-ACK with the MSS option only", () => {
    const profile = resolveProfile('6.x');
    const host = new Host({ profile, sysctls: new Sysctls(profile), address: parseIpv4('10.201.0.1'), seed: 9 });
    const syn = cap.hexBytes(cap.HPING_SYN);
    const dport = (syn[22]! << 8) | syn[23]!;
    host.listen(dport, 128);
    host.receive(syn, 0, syn.length, 0);
    const reply = decodeReply(host.tx.frame(0));
    expect(reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(reply.mss).toBe(1460);
    expect(reply.windowScale).toBeNull();
    expect(reply.sackPermitted).toBe(false);
    expect(reply.tsVal).toBeNull();
    expect(reply.window).toBe(64240);
  });

  it('SYN to a closed port → the RST/ACK Linux sent (ack = seq + 1, window 0)', () => {
    const host = linuxHost();
    const { verdict, replies } = deliver(host, cap.SYN_CLOSED_PORT, 0);
    expect(verdict).toBe('RST_NO_LISTENER');
    const expected = cap.hexBytes(cap.RST_ACK);
    // Linux picks the IP id of a socketless RST at random; take ours, redo the IP checksum.
    expected[4] = replies[0]![4]!;
    expected[5] = replies[0]![5]!;
    writeU16(expected, 10, 0);
    writeU16(expected, 10, internetChecksum(expected, 0, 20));
    expect(replies[0]).toEqual(expected);
    expect(host.counters[Counter.OutRsts]).toBe(1);
  });

  it('ICMP echo request → the echo reply Linux sent (IP id aside)', () => {
    const request = cap.hexBytes(cap.ICMP_ECHO_REQUEST);
    const profile = resolveProfile('6.x');
    const pinger = new Host({ profile, sysctls: new Sysctls(profile), address: readU32(request, 16), seed: 1 });
    pinger.receive(request, 0, request.length, 0);
    const ours = pinger.tx.frame(0);
    const expected = cap.hexBytes(cap.ICMP_ECHO_REPLY);
    expected[4] = ours[4]!;
    expected[5] = ours[5]!;
    expected[6] = ours[6]!;
    writeU16(expected, 10, 0);
    writeU16(expected, 10, internetChecksum(expected, 0, 20));
    expect(ours).toEqual(expected);
    expect(pinger.counters[Counter.IcmpOutEchoReps]).toBe(1);
  });
});

/** A 6.x harness (server 10.0.0.1) with the http app on :80, accepting at once. */
function httpHarness(): StackHarness {
  const h = new StackHarness('6.x');
  h.app.listen(80, 128, { handler: new HttpApp() });
  return h;
}

const text = (replies: Reply[]): string => replies.map((r) => new TextDecoder().decode(r.payload)).join('');

describe('a whole HTTP exchange on the virtual clock (issue 3)', () => {
  it('handshake, GET, 200 OK, server FIN first, client FIN → TIME_WAIT for 60 s, then gone', () => {
    const h = httpHarness();
    const { synAck, ackVerdict } = h.handshake(50008, undefined, 500);
    expect(ackVerdict).toBe('REQ_ESTABLISHED');
    const iss = synAck.seq;
    expect(h.host.listeners[0]!.acceptQueueLength).toBe(0); // accepted at once
    const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    h.advanceTo(10);
    const out = h.segment({ srcPort: 50008, seq: 1001, ack: iss + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 502, tsEcr: synAck.tsVal!, payload: new TextEncoder().encode(request) }).replies;
    expect(text(out)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text(out).endsWith(HTTP_BODY)).toBe(true);
    const fin = out.find((r) => (r.flags & TcpFlag.FIN) !== 0)!;
    expect(fin).toBeDefined();
    for (const r of out) expect(r.ack).toBe(1001 + request.length);
    // The client acknowledges everything and closes: its FIN is acknowledged from TIME_WAIT.
    h.advanceTo(20);
    const last = h.segment({ srcPort: 50008, seq: 1001 + request.length, ack: (fin.seq + 1) >>> 0, flags: TcpFlag.ACK | TcpFlag.FIN, tsVal: 503, tsEcr: fin.tsVal! }).replies;
    expect(last).toHaveLength(1);
    expect(last[0]!.flags).toBe(TcpFlag.ACK);
    expect(last[0]!.ack).toBe(1001 + request.length + 1);
    expect(h.host.timewait.live).toBe(1);
    expect(h.host.connections.size).toBe(0);
    h.advanceTo(20 + 59_999);
    expect(h.host.timewait.live).toBe(1);
    h.advanceTo(20 + 60_000);
    expect(h.host.timewait.live).toBe(0);
  });

  it('a RST from the client ends an established connection (TcpEstabResets)', () => {
    const h = httpHarness();
    h.app.policy(0).handler = null;
    const { synAck } = h.handshake(50008, undefined, 500);
    expect(h.host.connections.size).toBe(1);
    h.listenDeltas();
    h.segment({ srcPort: 50008, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.RST | TcpFlag.ACK, tsVal: 502, tsEcr: synAck.tsVal! });
    expect(h.host.connections.size).toBe(0);
    expect(h.listenDeltas()).toEqual({ TcpEstabResets: 1 });
  });
});

describe('flow control: a zero window does not stall the connection', () => {
  it('data queued behind window 0 goes out on the window update, and a lost update is probed', () => {
    const h = httpHarness();
    const synAck = h.segment({ srcPort: 50010, seq: 1000 }).replies[0]!;
    const iss = synAck.seq;
    // The third ACK closes the window; the request then asks for a response.
    h.advanceTo(1);
    h.segment({ srcPort: 50010, seq: 1001, ack: iss + 1, flags: TcpFlag.ACK, window: 0, tsVal: 101, tsEcr: synAck.tsVal! });
    h.advanceTo(2);
    const get = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    const blocked = h.segment({ srcPort: 50010, seq: 1001, ack: iss + 1, flags: TcpFlag.ACK | TcpFlag.PSH, window: 0, tsVal: 102, tsEcr: synAck.tsVal!, payload: get }).replies;
    expect(blocked.filter((r) => r.payload.length > 0)).toHaveLength(0);
    // A lost window update: the persist timer sends a one-byte probe.
    const probes = h.advanceTo(2 + 60_000);
    expect(probes.some((r) => r.payload.length === 1)).toBe(true);
    // The window opens: everything left goes out.
    h.advanceTo(60_010);
    const opened = h.segment({ srcPort: 50010, seq: 1001 + get.length, ack: iss + 1, flags: TcpFlag.ACK, window: 65535, tsVal: 103, tsEcr: synAck.tsVal! }).replies;
    expect(text(opened)).toMatch(/200 OK/);
  });
});

describe('a SYN whose options end in a malformed one is kept (tcp_parse_options stops; issue 15 item 13)', () => {
  it.each(['3.10', '4.10', '6.x'])('%s: MSS 1400 then a window-scale option of length 1: queued with a SYN-ACK without wscale (the option was never read), counted as an accepted frame', (kernel) => {
    const h = new StackHarness(kernel);
    h.host.listen(80, 128);
    const frame = h.frame({ mss: 1400, windowScale: 7, sack: false, tsVal: null });
    // Options as written: MSS (4 bytes) then NOP, WS(3): find the WS kind and cut its length to 1.
    const ws = frame.indexOf(3, 40 + 4);
    expect(frame[ws + 1]).toBe(3);
    frame[ws + 1] = 1;
    frame[36] = 0;
    frame[37] = 0;
    const pseudo = refSum(new Uint8Array([...frame.subarray(12, 20), 0, 6, 0, frame.length - 20]), 0, 12);
    put16(frame, 36, refFold(refSum(frame, 20, frame.length, pseudo)));
    const before = h.host.counters.slice();
    const { verdict, replies } = h.send(frame);
    expect(verdict).toBe('SYN_QUEUED');
    const synAck = replies[0]!;
    expect(synAck.mss).toBe(1460);
    expect(synAck.windowScale).toBeNull();
    expect(h.host.counters[Counter.RxAccepted]! - before[Counter.RxAccepted]!).toBe(1);
  });
});

describe('the TCP timestamp clock per version (spec §8c: jiffies up to 4.12, 1 ms from 4.13)', () => {
  it.each([
    ['3.10', 1000],
    ['centos7', 1000],
    ['4.4', 1000],
    ['ubuntu16.04', 250],
    ['debian9', 250],
    ['4.10', 1000],
    ['4.15', 1000],
    ['6.x', 1000],
  ])('%s: SYN-ACK TSvals 1 s apart differ by %i', (kernel, perSecond) => {
    const h = new StackHarness(kernel, ['net.ipv4.tcp_timestamps=1']);
    h.host.listen(80, 128);
    h.advanceTo(10_000);
    const first = h.segment({ src: parseIpv4('10.0.0.7'), srcPort: 5000 }).replies[0]!;
    h.advanceTo(11_000);
    const second = h.segment({ src: parseIpv4('10.0.0.7'), srcPort: 5000, seq: 1000 }).replies[0]!;
    // The retransmitted SYN gets the same request's SYN-ACK again, with the clock's new TSval.
    expect((second.tsVal! - first.tsVal!) >>> 0).toBe(perSecond);
  });
});

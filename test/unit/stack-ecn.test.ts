// ECN on the listen path (issue 15 item 11; tcp_ecn_create_request, tcp_ecn_make_synack,
// cookie_init_timestamp's TS_OPT_ECN): a SYN with ECE|CWR that is not ECT-marked gets a SYN-ACK
// with ECE when tcp_ecn is 1 or 2 (2, "answer when asked", is every version's default); the
// connection marks its new data ECT(0).

import { describe, expect, it } from 'vitest';
import { HttpApp } from '../../src/app/handlers.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import { CLIENT_C, only } from '../helpers/vectors.js';

const ECN_SYN = TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR;
const GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: s\r\n\r\n');

describe.each(['3.10', '4.4', '4.10', '5.15', '6.1', '6.x'])('%s: ECN on the SYN-ACK', (kernel) => {
  function synAck(sysctls: string[], flags: number, tos = 0) {
    const h = new StackHarness(kernel, sysctls);
    h.app.listen(80, 128, { handler: new HttpApp() });
    return { h, reply: only(h.segment({ src: CLIENT_C, srcPort: 5000, flags, tos }).replies) };
  }

  it(`${kernel}: ECE|CWR → SYN-ACK with ECE (tcp_ecn default 2); its data leaves ECT(0), its pure ACK does not`, () => {
    const { h, reply } = synAck([], ECN_SYN);
    expect(reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK | TcpFlag.ECE);
    h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: reply.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: reply.tsVal! });
    const replies = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: reply.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET }).replies;
    const pureAck = replies.find((r) => r.payload.length === 0 && r.flags === TcpFlag.ACK)!;
    const data = replies.find((r) => r.payload.length > 0)!;
    expect(pureAck.tos & 3).toBe(0);
    expect(data.tos & 3).toBe(2);
  });

  it(`${kernel}: no ECE when tcp_ecn=0, when the SYN is ECT-marked, or when it has ECE alone`, () => {
    expect(synAck(['net.ipv4.tcp_ecn=0'], ECN_SYN).reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(synAck([], ECN_SYN, 0x02).reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(synAck([], TcpFlag.SYN | TcpFlag.ECE).reply.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
  });

  it(`${kernel}: a plain SYN's connection never marks ECT`, () => {
    const { h, reply } = synAck([], TcpFlag.SYN);
    h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: reply.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: reply.tsVal! });
    const replies = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: reply.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET }).replies;
    expect(replies.every((r) => (r.tos & 3) === 0)).toBe(true);
  });
});

describe('ECN through a syncookie (spec §3: TS_OPT_ECN, bit 5 of the cookie TSval)', () => {
  it('6.x, syncookies 2, tcp_timestamps 2 (no offset): cookie SYN-ACK with ECE and TSval bit 5; the cookie connection marks data ECT(0)', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=2', 'net.ipv4.tcp_timestamps=2']);
    h.app.listen(80, 128, { handler: new HttpApp() });
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000, flags: ECN_SYN });
    expect(verdict).toBe('SYN_COOKIE');
    const synAck = only(replies);
    expect(synAck.flags).toBe(TcpFlag.SYN | TcpFlag.ACK | TcpFlag.ECE);
    expect(synAck.tsVal! & 0x3f).toBe(0x20 | 0x10 | 7); // ECN, SACK, wscale 7
    const third = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(third.verdict).toBe('COOKIE_ACCEPTED');
    const data = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET }).replies.find((r) => r.payload.length > 0)!;
    expect(data.tos & 3).toBe(2);
  });

  it('6.x: a cookie claiming ECN is refused once tcp_ecn is 0', () => {
    const h = new StackHarness('6.x', ['net.ipv4.tcp_syncookies=2', 'net.ipv4.tcp_timestamps=2']);
    h.app.listen(80, 128, { handler: new HttpApp() });
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, flags: ECN_SYN }).replies);
    h.host.sysctls.set('net.ipv4.tcp_ecn=0');
    const third = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    expect(third.verdict).toBe('COOKIE_OPTIONS_BAD');
  });
});

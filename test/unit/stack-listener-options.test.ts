// What an application sets on its listening socket: TCP_DEFER_ACCEPT (spec §3.3, §8) and
// the bind address the 6.2+ flood warning and ss name (spec §1.3, §8a, §8).

import { describe, expect, it } from 'vitest';
import { HttpApp } from '../../src/app/handlers.js';
import { deferAcceptRetrans, deferAcceptSeconds } from '../../src/stack/defer-accept.js';
import { explain } from '../../src/observe/explain.js';
import { hostExplainInput, listenerSnapshots } from '../../src/observe/snapshot.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import { CLIENT_C, fillSynQueue, isSynAck, only, queues } from '../helpers/vectors.js';

const SERVER = parseIpv4('10.0.0.1');
const GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: s\r\n\r\n');

describe('TCP_DEFER_ACCEPT seconds ↔ retransmissions (secs_to_retrans, spec §8)', () => {
  it.each([
    [0, 0, 0],
    [1, 1, 1],
    [2, 2, 3],
    [5, 3, 7],
    [7, 3, 7],
    [8, 4, 15],
    [60, 6, 63],
  ])('%i s → %i retransmits → reads back %i s', (seconds, retrans, readBack) => {
    expect(deferAcceptRetrans(seconds)).toBe(retrans);
    expect(deferAcceptSeconds(retrans)).toBe(readBack);
  });
});

describe.each(['3.10', '4.10', '6.x'])('%s: a listener with TCP_DEFER_ACCEPT 5 (spec §3.3, §8 DEFER_ACCEPT)', (kernel) => {
  function deferred() {
    const h = new StackHarness(kernel);
    h.app.listen(80, 128, { handler: new HttpApp() }, { deferAcceptSeconds: 5 });
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000 }).replies);
    h.listenDeltas();
    const ack = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    return { h, synAck, ack };
  }

  it(`${kernel}: the bare third ACK is dropped (TCPDeferAcceptDrop+1), the request stays in SYN-RECV; data completes the accept at once`, () => {
    const { h, synAck, ack } = deferred();
    expect(ack.verdict).toBe('REQ_DEFER_ACCEPT_DROP');
    expect(ack.replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPDeferAcceptDrop: 1 });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
    const data = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET });
    expect(data.verdict).toBe('REQ_ESTABLISHED');
    expect(data.replies.some((r) => r.payload.length > 0)).toBe(true);
    expect(queues(h).qlen).toBe(0);
  });

  it(`${kernel}: without data the timer fires silently at 1 and 3 s; the first SYN-ACK retransmit comes at 7 s`, () => {
    const { h } = deferred();
    const quantum = kernel === '3.10' ? 200 : 0; // 3.10's 200 ms prune ticks
    expect(h.advanceTo(6_000)).toEqual([]);
    const at7 = h.advanceTo(7_000 + quantum);
    expect(at7.filter(isSynAck)).toHaveLength(1);
  });
});

describe('the bind address (spec §1.3, §8)', () => {
  function flood(kernel: string, bound: number) {
    const h = new StackHarness(kernel, ['net.ipv4.tcp_syncookies=0']);
    h.app.listen(80, 2, { ratePerSecond: 0 }, { boundAddress: bound });
    fillSynQueue(h, 6, 20000);
    return h;
  }

  it('6.x bound to the host address: the flood line and ss name it', () => {
    const h = flood('6.x', SERVER);
    expect(h.host.kernelLog).toEqual(['TCP: request_sock_TCP: Possible SYN flooding on port 10.0.0.1:80. Dropping request.']);
    expect(listenerSnapshots(h.host)[0]!.localAddress).toBe('10.0.0.1');
  });

  it('6.x bound to the host address: explain shows the same line as dmesg would, and names the same listener', () => {
    const h = flood('6.x', SERVER);
    const problems = explain(hostExplainInput(h.host, 0));
    const full = problems.find((p) => p.id === 'syn-queue-full')!;
    expect(full.evidence).toContain('kernel log (dmesg): TCP: request_sock_TCP: Possible SYN flooding on port 10.0.0.1:80. Dropping request.');
    expect(full.what).toContain('10.0.0.1:80');
  });

  it('6.x wildcard: 0.0.0.0:80 in the flood line and in ss', () => {
    const h = flood('6.x', 0);
    expect(h.host.kernelLog).toEqual(['TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Dropping request.']);
    expect(listenerSnapshots(h.host)[0]!.localAddress).toBe('0.0.0.0');
  });

  it('6.1 (before 6.2): the port alone, whatever the bind address', () => {
    const h = flood('6.1', SERVER);
    expect(h.host.kernelLog).toEqual(['TCP: request_sock_TCP: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.']);
  });

  it('a listener bound to another address does not see the SYN: RST, as for a closed port', () => {
    const h = new StackHarness('6.x');
    h.app.listen(80, 8, {}, { boundAddress: parseIpv4('10.0.0.9') });
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('RST_NO_LISTENER');
    expect(replies[0]!.flags & TcpFlag.RST).toBe(TcpFlag.RST);
  });
});

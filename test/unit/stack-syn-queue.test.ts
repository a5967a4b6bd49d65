// Spec §9a vectors for a SYN on a listener: the SYN queue, syncookies=2, the unproven-peer
// quarter rule and broadcast SYNs (spec §1.1–§1.4, §5).

import { describe, expect, it } from 'vitest';
import { StackHarness } from '../helpers/stack-harness.js';
import {
  ALL,
  CLIENT_C,
  CLIENT_D,
  P_4_4_PLUS,
  P_4_4_TO_6_8,
  P_5X,
  expectSynAck,
  fillSynQueue,
  isSynAck,
  listenerOf,
  only,
  queues,
  specFacts,
  switchesOf,
} from '../helpers/vectors.js';

/** Spec §9a conventions: max_syn_backlog 256 unless a vector says otherwise. */
function harness(kernel: string, sysctls: string[] = []): StackHarness {
  return new StackHarness(kernel, ['net.ipv4.tcp_max_syn_backlog=256', ...sysctls]);
}

describe.each(ALL)('%s: SYN on an empty listener', (kernel) => {
  it(`${kernel}: SYN-ACK with the SYN's options echoed; qlen 1, young 1 (spec §9a #1, §1.10)`, () => {
    const h = harness(kernel);
    h.host.listen(80, 128);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck(kernel, only(replies), { dstPort: 5000, src: CLIENT_C });
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
    expect(h.listenDeltas()).toEqual({});
    expect(h.host.kernelLog).toEqual([]);
  });
});

describe('3.10: SYN-queue capacity is a power of two (spec §5.2)', () => {
  it('3.10: cookie SYN-ACK when qlen reaches 16 with backlog 5, flood warning once (spec §9a #2, §1.1 C2, C10)', () => {
    const h = harness('3.10', ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 5);
    expect(fillSynQueue(h, 16).filter(isSynAck)).toHaveLength(16);
    expect(queues(h)).toEqual({ qlen: 16, young: 16, acc: 0 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_COOKIE_LISTENDROP');
    expectSynAck('3.10', only(replies));
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 16, young: 16, acc: 0 });
    expect(h.host.kernelLog).toEqual(['TCP: TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.']);
    // First time only.
    h.segment({ src: CLIENT_C, srcPort: 5001 });
    expect(h.host.kernelLog).toHaveLength(1);
  });

  it('3.10: SYN dropped when qlen 16 and syncookies 0, "Dropping request" logged once (spec §9a #3, §1.3)', () => {
    const h = harness('3.10', ['net.ipv4.tcp_syncookies=0']);
    h.host.listen(80, 5);
    fillSynQueue(h, 16);
    expect(queues(h)).toEqual({ qlen: 16, young: 16, acc: 0 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('DROP_REQQ_FULL');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
    expect(h.host.kernelLog).toEqual(['TCP: TCP: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.']);
    h.segment({ src: CLIENT_C, srcPort: 5001 });
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
    expect(h.host.kernelLog).toHaveLength(1);
  });

  it('3.10: normal SYN-ACK at qlen 5 with backlog 5: the cap is 16, not 5 (spec §9a #4, §5.2)', () => {
    const h = harness('3.10', ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 5);
    fillSynQueue(h, 5);
    expect(queues(h)).toEqual({ qlen: 5, young: 5, acc: 0 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies));
    expect(queues(h).qlen).toBe(6);
    expect(h.listenDeltas()).toEqual({});
    expect(listenerOf(h).synQueueCapacity(switchesOf('3.10'))).toBe(16);
  });
});

describe.each(P_4_4_TO_6_8)('%s: SYN queue full at qlen >= backlog (spec §1.4)', (kernel) => {
  it(`${kernel}: cookie SYN-ACK at qlen 5 with backlog 5 (spec §9a #5, §1.2 D1, D7)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 5);
    expect(fillSynQueue(h, 5).filter(isSynAck)).toHaveLength(5);
    expect(queues(h)).toEqual({ qlen: 5, young: 5, acc: 0 });
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expectSynAck(kernel, only(replies));
    const countsDrop = specFacts(kernel).cookieListenDrop;
    expect(verdict).toBe(countsDrop ? 'SYN_COOKIE_LISTENDROP' : 'SYN_COOKIE');
    expect(h.listenDeltas()).toEqual(
      countsDrop
        ? { TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 }
        : { TCPReqQFullDoCookies: 1, SyncookiesSent: 1 },
    );
    expect(queues(h)).toEqual({ qlen: 5, young: 5, acc: 0 });
  });
});

describe('4.4: every cookie SYN-ACK also counts ListenDrops; 4.9 does not (spec §1.1 C10, §8a)', () => {
  it('4.4: cookie counts ListenDrops, 4.9: it does not (spec §9a #5 note)', () => {
    expect(switchesOf('4.4').cookieCountsListenDrop).toBe(true);
    expect(switchesOf('4.9').cookieCountsListenDrop).toBe(false);
  });
});

describe('6.x: SYN queue full only when qlen > backlog (spec §1.4 era F)', () => {
  it('6.x: normal SYN-ACK at qlen 5 with backlog 5, qlen 6 (spec §9a #5b)', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 5);
    fillSynQueue(h, 5);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('6.x', only(replies));
    expect(queues(h)).toEqual({ qlen: 6, young: 6, acc: 0 });
    expect(h.listenDeltas()).toEqual({});
  });

  it('6.x: cookie SYN-ACK at qlen 6 with backlog 5 (spec §9a #5c)', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 5);
    expect(fillSynQueue(h, 6).filter(isSynAck)).toHaveLength(6);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_COOKIE');
    expectSynAck('6.x', only(replies));
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDoCookies: 1, SyncookiesSent: 1 });
    expect(queues(h)).toEqual({ qlen: 6, young: 6, acc: 0 });
    expect(h.host.kernelLog).toEqual(['TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies.']);
  });
});

describe.each(P_5X)('%s: SYN queue full, syncookies 0', (kernel) => {
  it(`${kernel}: SYN dropped at qlen 5 with backlog 5 (spec §9a #6, §1.3)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=0']);
    h.host.listen(80, 5);
    fillSynQueue(h, 5);
    h.listenDeltas();
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('DROP_REQQ_FULL');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ TCPReqQFullDrop: 1, ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 5, young: 5, acc: 0 });
    expect(h.host.kernelLog).toEqual([
      `TCP: request_sock_TCP: Possible SYN flooding on port 80. Dropping request.  Check SNMP counters.`,
    ]);
  });
});

describe('unproven peer: the last quarter of tcp_max_syn_backlog (spec §1.1 C8b, §1.2 D5\')', () => {
  function build310(qlen: number): StackHarness {
    const h = new StackHarness('3.10', [
      'net.ipv4.tcp_syncookies=0',
      'net.ipv4.tcp_max_syn_backlog=256',
      'net.core.somaxconn=1024',
    ]);
    h.host.listen(80, 1024);
    expect(listenerOf(h).synQueueCapacity(switchesOf('3.10'))).toBe(512);
    expect(fillSynQueue(h, qlen).filter(isSynAck)).toHaveLength(qlen);
    // C has an RTT metric: 3.10 still calls it unproven (dst is NULL at the check).
    h.host.metrics.getOrCreate(CLIENT_C, h.now).rtt = 20;
    h.listenDeltas();
    return h;
  }

  it('3.10: SYN dropped at qlen 193 (256 − 193 < 64) even from a peer with an RTT metric (spec §9a #23)', () => {
    const h = build310(193);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('DROP_UNPROVEN_PEER');
    expect(replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
    expect(queues(h).qlen).toBe(193);
  });

  it('3.10: SYN-ACK at qlen 192 (256 − 192 = 64, not < 64) (spec §9a #24)', () => {
    const h = build310(192);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('3.10', only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h).qlen).toBe(193);
  });

  describe.each(P_5X)('%s', (kernel) => {
    function build5x(): StackHarness {
      const h = new StackHarness(kernel, ['net.ipv4.tcp_syncookies=0', 'net.ipv4.tcp_max_syn_backlog=256']);
      h.host.listen(80, 4096);
      expect(fillSynQueue(h, 193).filter(isSynAck)).toHaveLength(193);
      h.host.metrics.getOrCreate(CLIENT_C, h.now).rtt = 20;
      h.listenDeltas();
      return h;
    }

    it(`${kernel}: SYN-ACK at qlen 193 for a peer with an RTT metric (proven) (spec §9a #25, §2.3)`, () => {
      const h = build5x();
      const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
      expect(verdict).toBe('SYN_QUEUED');
      expectSynAck(kernel, only(replies));
      expect(h.listenDeltas()).toEqual({});
      expect(queues(h).qlen).toBe(194);
    });

    it(`${kernel}: SYN dropped at qlen 193 for a peer without a metric (spec §9a #26)`, () => {
      const h = build5x();
      expect(h.host.metrics.lookup(CLIENT_D)).toBeUndefined();
      const { verdict, replies } = h.segment({ src: CLIENT_D, srcPort: 5000 });
      expect(verdict).toBe('DROP_UNPROVEN_PEER');
      expect(replies).toEqual([]);
      expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
      expect(queues(h).qlen).toBe(193);
    });
  });
});

const SYNCOOKIES_2 = [...P_4_4_PLUS, 'centos7'];
describe.each(SYNCOOKIES_2)('%s: tcp_syncookies=2 always sends cookies', (kernel) => {
  it(`${kernel}: cookie SYN-ACK on an empty queue, no log line (spec §9a #36, §1.2 D1, §1.3)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=2']);
    h.host.listen(80, 128);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expectSynAck(kernel, only(replies));
    const countsDrop = specFacts(kernel).cookieListenDrop;
    expect(verdict).toBe(countsDrop ? 'SYN_COOKIE_LISTENDROP' : 'SYN_COOKIE');
    expect(h.listenDeltas()).toEqual(
      countsDrop
        ? { TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 }
        : { TCPReqQFullDoCookies: 1, SyncookiesSent: 1 },
    );
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
    expect(h.host.kernelLog).toEqual([]);
  });
});

describe.each(P_4_4_TO_6_8)('%s: listen(fd, 0)', (kernel) => {
  it(`${kernel}: cookie SYN-ACK on an empty listener (qlen 0 >= 0) (spec §9a #37, §5.3)`, () => {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 0);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expectSynAck(kernel, only(replies));
    const countsDrop = specFacts(kernel).cookieListenDrop;
    expect(verdict).toBe(countsDrop ? 'SYN_COOKIE_LISTENDROP' : 'SYN_COOKIE');
    expect(h.listenDeltas()).toEqual(
      countsDrop
        ? { TCPReqQFullDoCookies: 1, SyncookiesSent: 1, ListenDrops: 1 }
        : { TCPReqQFullDoCookies: 1, SyncookiesSent: 1 },
    );
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
  });
});

describe('6.x: listen(fd, 0) queues one request (spec §5.3 era F)', () => {
  it('6.x: normal SYN-ACK on an empty listener with backlog 0, qlen 1 (spec §9a #37b)', () => {
    const h = harness('6.x', ['net.ipv4.tcp_syncookies=1']);
    h.host.listen(80, 0);
    const { verdict, replies } = h.segment({ src: CLIENT_C, srcPort: 5000 });
    expect(verdict).toBe('SYN_QUEUED');
    expectSynAck('6.x', only(replies));
    expect(h.listenDeltas()).toEqual({});
    expect(queues(h)).toEqual({ qlen: 1, young: 1, acc: 0 });
  });
});

describe.each(ALL)('%s: SYN to a broadcast or multicast destination', (kernel) => {
  it(`${kernel}: dropped with ListenDrops+1 (spec §9a #47, §1.1 C1)`, () => {
    const h = harness(kernel);
    h.host.listen(80, 128);
    const toBroadcast = h.segment({ src: CLIENT_C, srcPort: 5000, dst: h.host.broadcast });
    expect(toBroadcast.verdict).toBe('DROP_BROADCAST');
    expect(toBroadcast.replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
    const toMulticast = h.segment({ src: CLIENT_C, srcPort: 5001, dst: 0xe0000001 });
    expect(toMulticast.verdict).toBe('DROP_BROADCAST');
    expect(toMulticast.replies).toEqual([]);
    expect(h.listenDeltas()).toEqual({ ListenDrops: 1 });
    expect(queues(h)).toEqual({ qlen: 0, young: 0, acc: 0 });
  });
});

// Aliases name what a kernel of that distribution measured (spec §8a, §8c), not a guess.
describe('distribution aliases behave as their measured kernels (spec §8a, §8c)', () => {
  /** Spoofed SYNs answered at backlog `backlog`, syncookies 0 (the §8a/§8c capacity test). */
  function answered(kernel: string, backlog: number): { answered: number; log: string[] } {
    const h = harness(kernel, ['net.ipv4.tcp_syncookies=0']);
    h.host.listen(8083, backlog);
    let n = 0;
    for (let i = 0; i < 40; i++) n += h.segment({ src: CLIENT_C, srcPort: 20000 + i, dstPort: 8083 }).replies.filter(isSynAck).length;
    return { answered: n, log: [...h.host.kernelLog] };
  }

  it('debian12 (Debian 6.1.0-47, 6.1.170): 3 SYNs answered at backlog 2 and 17 at backlog 16, with the old flood text (spec §8c)', () => {
    expect(answered('debian12', 2).answered).toBe(3);
    const at16 = answered('debian12', 16);
    expect(at16.answered).toBe(17);
    expect(at16.log).toEqual(['TCP: request_sock_TCP: Possible SYN flooding on port 8083. Dropping request.  Check SNMP counters.']);
  });

  it('6.1 (6.1.20): exactly the backlog, 2 at backlog 2 (spec §8a)', () => {
    expect(answered('6.1', 2).answered).toBe(2);
  });

  it.each([
    ['debian9', 3],
    ['ubuntu16.04', 3],
    ['4.4', 5],
    ['4.9', 5],
  ])('%s: listen(2), never accept, 6 sequential clients → %i connect (4.9.337 / 4.4.178 measured 3; 4.4.1 / 4.9.154 measured 5, spec §8a)', (kernel, connected) => {
    const h = harness(kernel);
    h.app.listen(80, 2, { ratePerSecond: 0 });
    let ok = 0;
    // A client "connects" when it gets a SYN-ACK (its ACK may still overflow: a ghost).
    for (let i = 0; i < 6; i++) {
      const syn = h.segment({ src: CLIENT_D, srcPort: 40000 + i, seq: 1000 });
      const synAck = syn.replies.find(isSynAck);
      if (synAck === undefined) continue;
      ok++;
      h.segment({ src: CLIENT_D, srcPort: 40000 + i, seq: 1001, ack: synAck.seq + 1, flags: 0x10, tsVal: 101, tsEcr: synAck.tsVal ?? 0 });
    }
    expect(ok).toBe(connected);
  });
});

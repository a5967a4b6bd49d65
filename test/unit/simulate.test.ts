import { describe, expect, it } from 'vitest';
import { runSimulation, type SimulateOptions } from '../../src/simulate/simulate.js';
import { parseNat, synSchedule } from '../../src/simulate/workload.js';

function simulate(overrides: Partial<SimulateOptions>) {
  return runSimulation({
    kernel: '6.x',
    sysctls: [],
    backlog: 4,
    acceptRate: 0,
    seed: 1,
    bucketMs: 1000,
    synRate: 100,
    maxClients: 10,
    arrivals: 'uniform',
    rttMinMs: 1,
    rttMaxMs: 1,
    clientKernel: '5.15',
    synRetries: 2,
    floodRate: 0,
    nat: null,
    durationMs: 10_000,
    ...overrides,
  });
}

describe('client SYN schedules (spec §1.10; 6.5+ as measured on 6.18, test/integration/client-syn-schedule)', () => {
  it('before 6.5: 0, 1, 3, 7, 15, 31, 63 s, giving up at 127 s with tcp_syn_retries 6', () => {
    expect(synSchedule('5.15', 6)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000, 127000]);
  });
  it('before 6.5, past the 120 s RTO ceiling: 247 s and 367 s, giving up at 367 s with retries 8', () => {
    expect(synSchedule('4.19', 8)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000, 127000, 247000, 367000]);
  });
  it('6.5+: five retransmits 1 s apart, then doubling; the give-up comes by time (retries 1 → 3 s, 2 → 7 s, 3 → 19 s, 4 → 35 s)', () => {
    expect(synSchedule('6.8', 1)).toEqual([0, 1000, 2000, 3000]);
    expect(synSchedule('6.8', 2)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 7000]);
    expect(synSchedule('6.8', 3)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000]);
    expect(synSchedule('6.18', 4)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000]);
  });
  it('6.5+ with the default tcp_syn_retries 6: 10 retransmits (6 + tcp_syn_linear_timeouts 4), giving up at 131 s', () => {
    expect(synSchedule('6.8', 6)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 7000, 11000, 19000, 35000, 67000, 131000]);
  });
});

describe('accept queue overflow, the application never accepts: backlog 4, 10 clients 10 ms apart, RTT 1 ms', () => {
  it('6.x: clients 1–5 fill the accept queue (backlog + 1), clients 6–10 are dropped at every SYN (spec §1.2 D2)', () => {
    const { summary, counters, dropsByReason } = simulate({});
    expect(summary).toMatchObject({ clients: 10, connected: 5, ghosts: 0, reset: 0, timedOut: 5, failedPercent: 50 });
    // 5 dropped clients × (first SYN + 2 retransmits)
    expect(counters.TcpExtListenOverflows).toBe(15);
    expect(counters.TcpExtListenDrops).toBe(15);
    expect(counters.TcpPassiveOpens).toBe(5);
    expect(dropsByReason).toEqual({ ACCEPTQ_FULL: 15 });
    expect(summary.syns.legitimate).toBe(5 + 15);
    expect(summary.connectMs).toEqual({ count: 5, p50: 1, p99: 1, max: 1 });
  });

  it('3.10: clients 6 and 7 still get a SYN-ACK (young ≤ 1) and become ghosts; 8–10 are dropped (spec §1.1 C3, §3.2)', () => {
    const { summary, dropsByReason } = simulate({ kernel: '3.10', synRetries: 0 });
    expect(summary).toMatchObject({ clients: 10, connected: 7, ghosts: 2, timedOut: 3 });
    expect(dropsByReason.ACCEPTQ_FULL_YOUNG).toBe(3);
    expect(dropsByReason.TCP_LISTEN_OVERFLOW).toBeGreaterThanOrEqual(2); // each ghost's ACK, at least once
  });

  it('tcp_abort_on_overflow=1 on 3.10: each overflowing ACK resets and removes its request, so young never passes 1 and clients 6–10 are all reset (spec §3.1)', () => {
    const { summary, counters } = simulate({ kernel: '3.10', synRetries: 0, sysctls: ['net.ipv4.tcp_abort_on_overflow=1'] });
    expect(summary).toMatchObject({ connected: 5, reset: 5, ghosts: 0, timedOut: 0 });
    expect(counters.TcpExtEmbryonicRsts).toBe(5);
  });
});

describe('clients behind NAT (--nat): per-host PAWS with tcp_tw_recycle=1 (spec §2.2, §2.3, §1.1 C8a)', () => {
  // 30 clients 100 ms apart, RTT 10 ms, 3.10 clients with tcp_syn_retries 1 (SYNs at 0 and 1 s,
  // giving up at 3 s). The application closes first, so every connection leaves the server in
  // TIME_WAIT, which with tw_recycle remembers the address's last timestamp.
  const natRun = (nat: { groups: number; hosts: number }, sysctls: string[]) =>
    simulate({ kernel: '3.10', sysctls, nat, synRate: 10, maxClients: 30, arrivals: 'uniform', rttMinMs: 10, rttMaxMs: 10, clientKernel: '3.10', synRetries: 1, acceptRate: Infinity, backlog: 128 });

  it('two hosts with unrelated clocks behind one address: the one behind loses every SYN once the other has left a timestamp, and nothing else drops', () => {
    const { summary, counters, dropsByReason } = natRun({ groups: 1, hosts: 2 }, ['net.ipv4.tcp_tw_recycle=1']);
    expect(summary.connected + summary.timedOut).toBe(30);
    expect(summary.timedOut).toBeGreaterThan(0);
    expect(summary.connected).toBeGreaterThan(0);
    // Each client that timed out sent 2 SYNs, both dropped by the per-host check; no other drop.
    expect(counters.TcpExtPAWSPassive).toBe(2 * summary.timedOut);
    expect(counters.TcpExtListenDrops).toBe(2 * summary.timedOut);
    expect(dropsByReason).toEqual({ PAWS_PASSIVE_PER_HOST: 2 * summary.timedOut });
  });

  it('the same clients with tcp_tw_recycle=0: all 30 connect; each closes with FIN both ways, no RST', () => {
    const { summary, counters } = natRun({ groups: 1, hosts: 2 }, ['net.ipv4.tcp_tw_recycle=0']);
    expect(summary).toMatchObject({ connected: 30, timedOut: 0, reset: 0 });
    expect(counters.TcpExtPAWSPassive).toBeUndefined();
    // In: SYN, ACK, the client's FIN; out: SYN-ACK, the server's FIN, the last ACK.
    expect(counters.TcpInSegs).toBe(90);
    expect(counters.TcpOutSegs).toBe(90);
    expect(counters.TcpOutRsts).toBeUndefined();
  });

  it('on 6.x (no tcp_tw_recycle) the server holds TIME_WAIT for each, counted on entry (spec §8 TcpExtTW)', () => {
    const { summary, counters } = simulate({ kernel: '6.x', nat: { groups: 1, hosts: 2 }, synRate: 10, maxClients: 30, arrivals: 'uniform', rttMinMs: 10, rttMaxMs: 10, acceptRate: Infinity, backlog: 128 });
    expect(summary).toMatchObject({ connected: 30, timedOut: 0 });
    expect(counters.TcpExtTW).toBe(30);
  });

  it('one host behind the address: its clock never goes back, so tw_recycle drops nothing', () => {
    const { summary, counters } = natRun({ groups: 1, hosts: 1 }, ['net.ipv4.tcp_tw_recycle=1']);
    expect(summary).toMatchObject({ connected: 30, timedOut: 0 });
    expect(counters.TcpExtPAWSPassive).toBeUndefined();
  });

  it('4.10 clients give every connection its own random clock (spec §2.5): tw_recycle drops them even from one host; 4.11 and 4.10.17 clients (one offset per address pair) and 4.9 (the host clock) connect', () => {
    const run = (clientKernel: string) =>
      simulate({ kernel: '3.10', sysctls: ['net.ipv4.tcp_tw_recycle=1'], nat: { groups: 1, hosts: 1 }, synRate: 10, maxClients: 30, arrivals: 'uniform', rttMinMs: 10, rttMaxMs: 10, clientKernel, synRetries: 1, acceptRate: Infinity, backlog: 128 });
    const random = run('4.10');
    expect(random.summary.connected + random.summary.timedOut).toBe(30);
    // A fresh clock is below the address's last one about half the time; the first always passes.
    expect(random.summary.timedOut).toBeGreaterThan(3);
    expect(random.summary.connected).toBeGreaterThan(3);
    // Each client that timed out lost both SYNs; a clock just below the address's last one
    // can pass with the retransmit a second later. The per-host check is the only drop.
    const paws = random.counters.TcpExtPAWSPassive!;
    expect(paws).toBeGreaterThan(2 * random.summary.timedOut);
    expect(paws).toBeLessThanOrEqual(2 * random.summary.timedOut + random.summary.connected);
    expect(random.dropsByReason).toEqual({ PAWS_PASSIVE_PER_HOST: paws });
    for (const kernel of ['4.11', '4.10.17', '4.9']) {
      const hostClock = run(kernel);
      expect(hostClock.summary, kernel).toMatchObject({ connected: 30, timedOut: 0 });
      expect(hostClock.counters.TcpExtPAWSPassive, kernel).toBeUndefined();
    }
    expect(run('4.10.1').summary).toEqual(random.summary);
  });

  it('--nat parses HOSTS or ADDRESSES:HOSTS and refuses the rest', () => {
    expect(parseNat('4')).toEqual({ groups: 1, hosts: 4 });
    expect(parseNat('2:4')).toEqual({ groups: 2, hosts: 4 });
    for (const bad of ['0', '2:0', '1:2:3', 'x', '']) expect(() => parseNat(bad)).toThrow(/--nat/);
  });
});

describe('closed forms', () => {
  it('accept rate at least the arrival rate and a large backlog: nothing drops', () => {
    const { summary, counters } = simulate({ synRate: 1000, maxClients: Infinity, arrivals: 'poisson', backlog: 1024, acceptRate: Infinity, durationMs: 2000, rttMinMs: 5, rttMaxMs: 50 });
    expect(summary.clients).toBeGreaterThan(1800);
    expect(summary.connected).toBe(summary.clients);
    expect(summary.failedPercent).toBe(0);
    expect(counters.TcpExtListenDrops).toBeUndefined();
    expect(counters.TcpPassiveOpens).toBe(summary.clients);
    expect(summary.connectMs.max).toBeLessThanOrEqual(50);
  });

  it('a spoofed flood fills the SYN queue: with syncookies 0 legitimate clients fail, with 1 every one connects through a cookie (spec §1.3)', () => {
    const flood = { synRate: 50, maxClients: Infinity, arrivals: 'poisson' as const, backlog: 128, acceptRate: Infinity, floodRate: 5000, durationMs: 3000, synRetries: 1 };
    const off = simulate({ ...flood, sysctls: ['net.ipv4.tcp_syncookies=0'] });
    const on = simulate({ ...flood, sysctls: ['net.ipv4.tcp_syncookies=1'] });
    expect(off.counters.TcpExtTCPReqQFullDrop).toBeGreaterThan(10_000);
    expect(off.summary.failedPercent).toBeGreaterThan(90);
    expect(on.summary.failedPercent).toBe(0);
    expect(on.counters.TcpExtSyncookiesRecv).toBeGreaterThan(0);
    expect(on.counters.TcpExtSyncookiesRecv! + on.summary.connected).toBeGreaterThanOrEqual(on.summary.clients);
  });
});

describe('determinism', () => {
  it('the same seed gives the same run; another seed other Poisson arrivals', () => {
    const workload = { synRate: 500, maxClients: Infinity, arrivals: 'poisson' as const, backlog: 16, acceptRate: 300, durationMs: 3000, rttMinMs: 2, rttMaxMs: 80 };
    const a = simulate({ ...workload, seed: 11 });
    const b = simulate({ ...workload, seed: 11 });
    const c = simulate({ ...workload, seed: 12 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c.summary.clients).not.toBe(a.summary.clients);
  });

  it('the series has a bucket per second with SYNs in, drops and the accept queue it held', () => {
    const { series } = simulate({});
    expect(series.buckets[0]).toMatchObject({ t: 0, synsIn: 10, synAcks: 5, established: 5, drops: { ACCEPTQ_FULL: 5 }, acceptQueueMax: 5 });
    expect(series.buckets[1]).toMatchObject({ t: 1000, synsIn: 5, drops: { ACCEPTQ_FULL: 5 } });
  });
});

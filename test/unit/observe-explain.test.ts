// `syndrop explain` keeps its words now that they come from observe/drop-causes.ts, and
// `syndrop doctor` says the same rule for the same kernel (one rule model, two front ends).
// The expected lines are what explain printed before the rule model moved out of it.

import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/doctor/diagnose.js';
import { emptyReading } from '../../src/doctor/reading.js';
import { explain, renderExplain, type ExplainInput } from '../../src/observe/explain.js';
import { eventMatches, type EventRecord } from '../../src/observe/snapshot.js';
import { resolveProfile } from '../../src/profiles/resolve.js';

const profile310 = resolveProfile('3.10');

const input: ExplainInput = {
  profile: profile310,
  sysctls: { 'net.core.somaxconn': 128, 'net.ipv4.tcp_syncookies': 1 },
  counters: { TcpExtListenOverflows: 5, TcpExtListenDrops: 9 },
  verdicts: { DROP_ACCEPTQ_FULL_YOUNG: 1, REQ_ACCEPTQ_OVERFLOW: 2 },
  listeners: [{ localAddress: '10.77.0.2', localPort: 80, acceptQueueLength: 3, acceptQueueMax: 2, synQueueLength: 5, synQueueMax: 16, young: 1, drops: 4 }],
  events: [],
};

describe('syndrop explain on the shared rule model', () => {
  it('prints the accept-overflow block as before (spec §1.5, §1.1 C3)', () => {
    expect(renderExplain(explain(input), '3.10')).toBe(
      [
        'syndrop explain (kernel 3.10): 1 finding(s)',
        '',
        '1. Accept queue overflow: the application accepts too slowly  [drop, 5]',
        '   What:     connections to 10.77.0.2:80 dropped because the accept queue (completed handshakes waiting for accept()) is full',
        '   Rule:     accept queue full and more than one young request → the SYN is dropped; otherwise the SYN-ACK still goes out and the third ACK overflows (3.10 / 4.4 / 4.9 as released) (spec §1.5, §1.1 C3 / §1.2 D2, §3.1 R10)',
        '   Evidence: TcpExtListenOverflows = 5, TcpExtListenDrops = 9',
        '   Evidence: ss -lnt: Recv-Q 3 / Send-Q 2 (accept queue holds Send-Q + 1)',
        '   Evidence: 1 SYNs dropped at SYN time (this kernel drops only when more than one young request waits)',
        '   Evidence: 2 third ACKs dropped: those clients think they are connected while the server retransmits its SYN-ACK',
        '   Fix:      make the application call accept() faster (more workers, shorter work per connection): raising the backlog only delays the overflow',
        '   Fix:      the backlog is min(listen() backlog, net.core.somaxconn = 128); raise both only to absorb short bursts',
        '   Fix:      net.ipv4.tcp_abort_on_overflow=1 makes clients fail fast with RST instead of hanging',
        '',
      ].join('\n'),
    );
  });

  it('--json keeps its keys in their order', () => {
    expect(Object.keys(explain(input)[0]!)).toEqual(['id', 'severity', 'title', 'what', 'count', 'since', 'last', 'rule', 'spec', 'evidence', 'fix']);
  });

  it('doctor on a 3.10 host states the same rule, spec and fix as explain for 3.10', () => {
    const reading = { ...emptyReading('test'), kernelRelease: '3.10.108', first: input.counters, sysctls: input.sysctls };
    const fromDoctor = diagnose(reading).findings.find((f) => f.id === 'accept-queue-overflow')!;
    const fromExplain = explain(input)[0]!;
    expect(fromDoctor.rule).toBe(fromExplain.rule);
    expect(fromDoctor.spec).toBe(fromExplain.spec);
    expect(fromDoctor.fix).toEqual(fromExplain.fix);
  });
});

describe('explain over IPv6 sources: an endpoint is [ADDR]:PORT, the address is what is inside the brackets', () => {
  const event = (src: string, verdict: string, tsval: number | null = null): EventRecord => ({
    t: 0, time: '1970-01-01T00:00:01.000Z', verdict, action: 'drop', reason: null, reasonSource: null, kernelFunction: '', spec: '',
    src, dst: '[fd77::2]:80', flags: 'S', seq: 0, ack: 0, tsval, tsecr: null, counters: [], text: '', aux: 0,
  });

  it('counts distinct IPv6 sources among SYN-queue drops (fd77:1::2 and fd77:1::3 are two, their ports aside)', () => {
    const findings = explain({
      ...input,
      counters: { TcpExtTCPReqQFullDrop: 3, TcpExtListenDrops: 3 },
      verdicts: { DROP_REQQ_FULL: 3 },
      events: [event('[fd77:1::2]:40000', 'DROP_REQQ_FULL'), event('[fd77:1::2]:40001', 'DROP_REQQ_FULL'), event('[fd77:1::3]:40000', 'DROP_REQQ_FULL')],
    });
    expect(findings.find((f) => f.id === 'syn-queue-full')!.evidence).toContain('2 distinct source address(es) among recent drops');
  });

  it('names the IPv6 address behind which several TSval clocks show (NAT evidence for tw_recycle)', () => {
    const findings = explain({
      ...input,
      counters: { TcpExtPAWSPassive: 2, TcpExtListenDrops: 2 },
      verdicts: { DROP_PAWS_PASSIVE: 2 },
      events: [
        event('[fd77:9::1]:40000', 'SYN_QUEUED', 1_000_000),
        event('[fd77:9::1]:40001', 'DROP_PAWS_PASSIVE', 5_000),
        event('[fd77:9::1]:40002', 'DROP_PAWS_PASSIVE', 5_100),
      ],
    });
    const paws = findings.find((f) => f.id === 'paws-nat' || f.id === 'paws-passive')!;
    expect(paws.id).toBe('paws-nat');
    expect(paws.evidence.some((line) => line.startsWith('one source address fd77:9::1,'))).toBe(true);
  });

  it('names the refused ports of IPv6 destinations', () => {
    const findings = explain({
      ...input,
      counters: { TcpOutRsts: 2 },
      verdicts: { RST_NO_LISTENER: 2 },
      events: [{ ...event('[fd77:1::2]:40000', 'RST_NO_LISTENER'), dst: '[fd77::2]:8080' }, { ...event('10.77.1.2:40000', 'RST_NO_LISTENER'), dst: '10.77.0.2:81' }],
    });
    expect(findings.find((f) => f.id === 'no-listener')!.what).toBe('2 segments answered with RST because no socket matched (ports 8080, 81)');
  });

  it('events --peer ADDR matches an IPv6 source by its address, an IPv4 one as before', () => {
    expect(eventMatches(event('[fd77:1::2]:40000', 'SYN_QUEUED'), { peer: 'fd77:1::2' })).toBe(true);
    expect(eventMatches(event('[fd77:1::2]:40000', 'SYN_QUEUED'), { peer: 'fd77:1::3' })).toBe(false);
    expect(eventMatches(event('[fd77:1::2]:40000', 'SYN_QUEUED'), { peer: '[fd77:1::2]:40000' })).toBe(true);
    expect(eventMatches(event('10.77.1.2:40000', 'SYN_QUEUED'), { peer: '10.77.1.2' })).toBe(true);
    expect(eventMatches(event('10.77.1.2:40000', 'SYN_QUEUED'), { peer: '10.77.1.20' })).toBe(false);
  });
});

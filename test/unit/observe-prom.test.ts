import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { COUNTERS, newCounterArray, snapshotCounters } from '../../src/stack/mib.js';
import { promMetricName, renderPrometheus, snakeCase } from '../../src/observe/prom.js';

interface Sample { labels?: Record<string, string>; value: string }
interface Family { name: string; help: string; type: string; metrics: Sample[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const presence = { hasSynRetransCounters: true, hasPawsPassive: true, hasPawsTimewait: false };

describe('Prometheus names', () => {
  it.each([
    ['TcpExtListenOverflows', 'syndrop_tcpext_listen_overflows_total'],
    ['TcpExtListenDrops', 'syndrop_tcpext_listen_drops_total'],
    ['TcpExtTCPReqQFullDrop', 'syndrop_tcpext_tcp_req_q_full_drop_total'],
    ['TcpExtTCPReqQFullDoCookies', 'syndrop_tcpext_tcp_req_q_full_do_cookies_total'],
    ['TcpExtTCPACKSkippedSynRecv', 'syndrop_tcpext_tcp_ack_skipped_syn_recv_total'],
    ['TcpExtTCPChallengeACK', 'syndrop_tcpext_tcp_challenge_ack_total'],
    ['TcpExtPAWSPassive', 'syndrop_tcpext_paws_passive_total'],
    ['TcpExtTW', 'syndrop_tcpext_tw_total'],
    ['TcpExtTWRecycled', 'syndrop_tcpext_tw_recycled_total'],
    ['TcpPassiveOpens', 'syndrop_tcp_passive_opens_total'],
    ['TcpCurrEstab', 'syndrop_tcp_curr_estab'],
    ['IcmpOutEchoReps', 'syndrop_icmp_out_echo_reps_total'],
    ['IpInReceives', 'syndrop_ip_in_receives_total'],
    ['SyndropRxBadIpChecksum', 'syndrop_rx_bad_ip_checksum_total'],
    ['SyndropEventsLost', 'syndrop_events_lost_total'],
  ])('%s → %s', (nstat, prom) => {
    expect(promMetricName(nstat)).toBe(prom);
  });

  it('every catalogue name maps to a distinct valid metric name', () => {
    const names = COUNTERS.map((c) => promMetricName(c.name));
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
    expect(snakeCase('RxBadIhl')).toBe('rx_bad_ihl');
  });
});

describe('renderPrometheus (text format 0.0.4)', () => {
  it('parses: HELP/TYPE per family, counters with profile, gauges with listener, drops by reason', () => {
    const counters = newCounterArray();
    const values = snapshotCounters(counters, presence);
    values.TcpExtListenOverflows = 3;
    values.TcpExtTCPReqQFullDrop = 5;
    values.TcpCurrEstab = 2;
    const text = renderPrometheus(
      values,
      { profile: 'linux-3.10', listener: '10.77.0.2:80' },
      { acceptQueueLength: 11, acceptQueueMax: 10, synQueueLength: 128, synQueueMax: 128 },
      { TCP_REQQFULLDROP: 5, LISTENOVERFLOWS: 3, 'we"ird\\reason\n': 1 },
    );
    const families = parse(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(families).toHaveLength(Object.keys(values).length + 4 + 1);

    const overflows = byName.get('syndrop_tcpext_listen_overflows_total')!;
    expect(overflows.type).toBe('COUNTER');
    expect(overflows.help).toContain('accept queue full');
    expect(overflows.metrics).toEqual([{ labels: { profile: 'linux-3.10' }, value: '3' }]);
    expect(byName.get('syndrop_tcpext_tcp_req_q_full_drop_total')!.metrics[0]!.value).toBe('5');
    expect(byName.get('syndrop_tcp_curr_estab')!.type).toBe('GAUGE');

    const acceptLength = byName.get('syndrop_accept_queue_length')!;
    expect(acceptLength.type).toBe('GAUGE');
    expect(acceptLength.metrics).toEqual([{ labels: { profile: 'linux-3.10', listener: '10.77.0.2:80' }, value: '11' }]);
    expect(byName.get('syndrop_syn_queue_max')!.metrics[0]!.value).toBe('128');

    const drops = byName.get('syndrop_drops_total')!;
    expect(drops.type).toBe('COUNTER');
    expect(drops.metrics).toEqual([
      { labels: { profile: 'linux-3.10', reason: 'TCP_REQQFULLDROP' }, value: '5' },
      { labels: { profile: 'linux-3.10', reason: 'LISTENOVERFLOWS' }, value: '3' },
      { labels: { profile: 'linux-3.10', reason: 'we"ird\\reason\n' }, value: '1' },
    ]);
    // escaping as the format requires, on the wire
    expect(text).toContain('reason="we\\"ird\\\\reason\\n"');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('only the counters given (the profile\'s set): 3.10 has no TCPSynRetrans', () => {
    const text = renderPrometheus(snapshotCounters(newCounterArray(), { hasSynRetransCounters: false, hasPawsPassive: true, hasPawsTimewait: false }), { profile: 'linux-3.10' });
    expect(text).not.toContain('tcp_syn_retrans');
    expect(text).toContain('syndrop_tcpext_paws_passive_total{profile="linux-3.10"} 0');
    expect(parse(text).every((f) => f.metrics.length === 1)).toBe(true);
  });

  it('label values with quotes, backslashes and newlines round-trip through the parser', () => {
    const families = parse(renderPrometheus({ TcpInSegs: 1 }, { profile: 'a"b\\c\nd' }));
    expect(families[0]!.metrics[0]!.labels).toEqual({ profile: 'a"b\\c\nd' });
  });
});

// The differential comparison (issue 15 item 16): windows, IP id class and pure ACKs inside
// data flows are compared; the flood warning word for word with the listener's address
// normalised; TWKilled among the counters.

import { describe, expect, it } from 'vitest';
import { compareRuns, LISTEN_PATH_COUNTERS } from '../../src/verify/compare.js';
import type { CapturedSegment, DriverResult } from '../../src/verify/driver.js';
import type { Scenario } from '../../src/verify/scenario.js';
import { floodLines } from '../../src/verify/sides.js';

const scenario = { name: 't', title: 't', spec: '', backlog: 8, accept: 'fast', app: 'http', steps: [{ op: 'wait', ms: 100 }, { op: 'snap' }] } as unknown as Scenario;

function seg(o: Partial<CapturedSegment>): CapturedSegment {
  return { t: 10, step: 0, flow: 'f', kind: 'A', flags: 'A', seq: 1, ack: 1, win: 64, len: 0, opts: { kinds: [] }, ...o };
}

function result(capture: CapturedSegment[], floodLog: string[] = [], counters: Record<string, number> = {}): DriverResult {
  return {
    steps: [],
    capture,
    clientSyns: 0,
    durationMs: 100,
    snapshots: [
      { step: -1, counters: {} },
      { step: 1, counters },
    ],
    floodLog,
  };
}

describe('verify compares more (issue 15 item 16)', () => {
  it('a window difference on an ACK is a difference', () => {
    const d = compareRuns(scenario, result([seg({ win: 64 })]), result([seg({ win: 255 })]));
    expect(d.map((x) => x.what)).toEqual(['segments to f (#1)']);
  });

  it('an IP id of 0 against a non-zero one is a difference', () => {
    const d = compareRuns(scenario, result([seg({ ipIdZero: true })]), result([seg({ ipIdZero: false })]));
    expect(d).toHaveLength(1);
    expect(String(d[0]!.kernel)).toContain('id=0');
  });

  it('a second pure ACK after data is a difference', () => {
    const data = seg({ kind: 'D', flags: 'PA', len: 100 });
    const d = compareRuns(scenario, result([seg({}), data]), result([seg({}), data, seg({ t: 11 })]));
    expect(d.map((x) => x.what)).toEqual(['segments to f (#3)']);
  });

  it('flood lines are compared word for word with the listener address normalised', () => {
    const k = ['TCP: request_sock_TCP: Possible SYN flooding on port 10.77.3.1:4000. Dropping request.'];
    const same = ['TCP: request_sock_TCP: Possible SYN flooding on port 10.77.0.2:4000. Dropping request.'];
    const other = ['TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:4000. Dropping request.'];
    expect(compareRuns(scenario, result([], k), result([], same))).toEqual([]);
    expect(compareRuns(scenario, result([], k), result([], [])).map((x) => x.what)).toEqual(['flood warning (kernel log)']);
    expect(compareRuns(scenario, result([], ['TCP: request_sock_TCP: Possible SYN flooding on port 4000. Dropping request.  Check SNMP counters.']), result([], other))).toHaveLength(1);
  });

  it('IPv6 flood lines: the bracketed listener address is normalised too, the request ops name is not (verify --family 6)', () => {
    const kernel = ['TCP: request_sock_TCPv6: Possible SYN flooding on port [fd77:3::1]:4000. Dropping request.'];
    const emulated = ['TCP: request_sock_TCPv6: Possible SYN flooding on port [::]:4000. Dropping request.'];
    const v4Ops = ['TCP: request_sock_TCP: Possible SYN flooding on port [::]:4000. Dropping request.'];
    expect(compareRuns(scenario, result([], kernel), result([], emulated))).toEqual([]);
    expect(compareRuns(scenario, result([], kernel), result([], v4Ops)).map((x) => x.what)).toEqual(['flood warning (kernel log)']);
  });

  it('floodLines picks this port from dmesg output, both texts, without the timestamp', () => {
    const dmesg = [
      '[75428.3] TCP: request_sock_TCP: Possible SYN flooding on port 10.77.3.1:44770. Sending cookies.',
      '[75429.1] TCP: request_sock_TCP: Possible SYN flooding on port 10.77.3.1:4477. Sending cookies.',
      '<6>[75430.0] TCP: TCP: Possible SYN flooding on port 44770. Dropping request.  Check SNMP counters.',
    ].join('\n');
    expect(floodLines(dmesg, 44770)).toEqual([
      'TCP: request_sock_TCP: Possible SYN flooding on port 10.77.3.1:44770. Sending cookies.',
      'TCP: TCP: Possible SYN flooding on port 44770. Dropping request.  Check SNMP counters.',
    ]);
  });

  it('a TIME_WAIT reuse ISN is compared by kind: +65537 against a clock ISN differs, two clock ISNs agree', () => {
    const sa = (isnFromTw: number) => seg({ kind: 'SA', flags: 'SA', isnFromTw });
    expect(compareRuns(scenario, result([sa(65537)]), result([sa(7859253)]))).toHaveLength(1);
    expect(compareRuns(scenario, result([sa(7914329)]), result([sa(7859253)]))).toEqual([]);
  });

  it('TWKilled is a compared counter', () => {
    expect(LISTEN_PATH_COUNTERS).toContain('TcpExtTWKilled');
    const d = compareRuns(scenario, result([], [], { TcpExtTWKilled: 1 }), result([], [], {}));
    expect(d.map((x) => x.what)).toEqual(['counter TcpExtTWKilled (steps 0–1)']);
  });
});

import { describe, expect, it } from 'vitest';
import type { ListenerSnapshot } from '../../src/observe/ss.js';
import { fillBar, renderTop, type TopSample } from '../../src/observe/top.js';

function listener(acceptQueueLength: number, acceptQueueMax: number, synQueueLength: number, synQueueMax: number): ListenerSnapshot {
  return { localAddress: '10.77.0.2', localPort: 80, acceptQueueLength, acceptQueueMax, synQueueLength, synQueueMax, young: 0, drops: 0 };
}

const prev: TopSample = {
  timeMs: 10_000,
  counters: { TcpExtSyncookiesSent: 0, TcpExtListenOverflows: 10, TcpExtListenDrops: 40 },
  dropsByReason: { TCP_REQQFULLDROP: 30, LISTENOVERFLOWS: 10 },
  listeners: [listener(5, 10, 100, 128)],
  peers: [
    { peer: '10.77.1.1', syns: 1000 },
    { peer: '10.77.9.9', syns: 50 },
  ],
  synIn: 1050,
  synAckOut: 900,
};

const cur: TopSample = {
  timeMs: 11_000,
  counters: { TcpExtSyncookiesSent: 0, TcpExtListenOverflows: 13, TcpExtListenDrops: 85 },
  dropsByReason: { TCP_REQQFULLDROP: 72, LISTENOVERFLOWS: 13, TCP_RFC7323_PAWS: 0 },
  listeners: [listener(11, 10, 128, 128), { ...listener(0, 4096, 0, 256), localPort: 8080, localAddress: '0.0.0.0' }],
  peers: [
    { peer: '10.77.1.1', syns: 1800 },
    { peer: '10.77.9.9', syns: 50 },
    { peer: '10.77.2.2', syns: 37 },
  ],
  synIn: 1887,
  synAckOut: 1700,
};

describe('renderTop', () => {
  it('golden screen at 80 columns: rates, drops by reason, queue bars, top talkers', () => {
    expect(renderTop(prev, cur, 80)).toBe(
      [
        'syndrop top  interval 1.0s',
        '',
        'SYN in     837.0/s   SYN-ACK out     800.0/s   cookies     0.0/s',
        'ListenOverflows     3.0/s   ListenDrops    45.0/s',
        '',
        'Drops/s by reason',
        '  TCP_REQQFULLDROP             42.0',
        '  LISTENOVERFLOWS               3.0',
        '',
        'Listeners',
        '  10.77.0.2:80  accept [##########] 11/10    syn [##########] 128/128',
        '  0.0.0.0:8080  accept [          ] 0/4096   syn [          ] 0/256',
        '',
        'Top talkers (SYN/s)',
        '  10.77.1.1                   800.0',
        '  10.77.2.2                    37.0',
        '',
      ].join('\n'),
    );
  });

  it('fill bars: [#####     ] 5/10, at least one cell for a non-empty queue, clamped when over', () => {
    expect(fillBar(5, 10)).toBe('[#####     ] 5/10');
    expect(fillBar(1, 4096)).toBe('[#         ] 1/4096');
    expect(fillBar(11, 10)).toBe('[##########] 11/10');
    expect(fillBar(0, 0)).toBe('[          ] 0/0');
  });

  it('falls back to the peers\' sum without synIn, shows "-" without synAckOut, truncates to width', () => {
    const { synIn: _a, synAckOut: _b, ...p } = prev;
    const { synIn: _c, synAckOut: _d, ...c } = cur;
    const screen = renderTop(p, c, 40);
    expect(screen.split('\n')[2]).toBe('SYN in     837.0/s   SYN-ACK out        ');
    for (const line of screen.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    expect(renderTop(p, c, 80).split('\n')[2]).toBe('SYN in     837.0/s   SYN-ACK out         -/s   cookies     0.0/s');
  });

  it('wide terminals get 20-cell bars; empty sections say (none)', () => {
    const idle: TopSample = { timeMs: 0, counters: {}, dropsByReason: {}, listeners: [listener(5, 10, 0, 128)], peers: [] };
    const screen = renderTop(idle, { ...idle, timeMs: 1000 }, 120);
    expect(screen).toContain('accept [##########          ] 5/10');
    expect(screen.match(/\(none\)/g)).toHaveLength(2);
  });

  it('an IPv6 listener is named as ss names it: [::]:80', () => {
    const v6: TopSample = { timeMs: 0, counters: {}, dropsByReason: {}, listeners: [{ ...listener(0, 10, 0, 128), localAddress: '::' }], peers: [] };
    const screen = renderTop(v6, { ...v6, timeMs: 1000 }, 120);
    expect(screen).toContain('[::]:80 ');
    expect(screen).not.toContain(':::80');
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatSsTimer,
  renderSsAll,
  renderSsListeners,
  type ListenerSnapshot,
  type SocketSnapshot,
} from '../../src/observe/ss.js';

// Goldens below were captured from ss (iproute2 6.1) on real sockets in a throwaway network
// namespace (`unshare -n`), piped (compact layout) or under `script` with `stty cols N`
// (terminal layout, CRs removed). Trailing spaces are part of ss's output.

function listener(localAddress: string, localPort: number, acceptQueueLength: number, acceptQueueMax: number, extra: Partial<ListenerSnapshot> = {}): ListenerSnapshot {
  return { localAddress, localPort, acceptQueueLength, acceptQueueMax, synQueueLength: 0, synQueueMax: 0, young: 0, drops: 0, ...extra };
}

function sock(state: SocketSnapshot['state'], local: string, peer: string, extra: Partial<SocketSnapshot> = {}): SocketSnapshot {
  const [la, lp] = local.split(':');
  const [pa, pp] = peer.split(':');
  return { state, localAddress: la!, localPort: Number(lp), peerAddress: pa!, peerPort: Number(pp), recvQ: 0, sendQ: 0, ...extra };
}

const listeners = [listener('0.0.0.0', 8080, 0, 4096), listener('10.77.0.2', 80, 2, 10)];
const sockets: SocketSnapshot[] = [
  sock('ESTAB', '10.77.0.2:80', '10.77.0.2:38622'),
  sock('ESTAB', '10.77.0.2:80', '10.77.0.2:38610'),
  sock('ESTAB', '10.77.0.2:38610', '10.77.0.2:80'),
  sock('ESTAB', '10.77.0.2:38622', '10.77.0.2:80'),
  sock('TIME-WAIT', '10.77.0.2:8080', '10.77.0.2:48348', { expiresMs: 56_321 }),
];

describe('ss -lnt', () => {
  it('matches ss 6.1 piped output: Recv-Q = accept queue, Send-Q = backlog (spec §5.5)', () => {
    expect(renderSsListeners(listeners)).toBe(
      'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n' +
        'LISTEN 0      4096         0.0.0.0:8080      0.0.0.0:*          \n' +
        'LISTEN 2      10         10.77.0.2:80        0.0.0.0:*          \n',
    );
  });

  it('prints only the header when nothing listens', () => {
    expect(renderSsListeners([])).toBe('State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n');
  });

  it('matches ss 6.1 on a terminal: spare width spread over columns (100, 80 and 60 columns)', () => {
    const tty = [listener('10.77.0.2', 80, 2, 10), listener('0.0.0.0', 8080, 0, 4096)];
    expect(renderSsListeners(tty, { screenWidth: 100 })).toBe(
      'State      Recv-Q     Send-Q         Local Address:Port           Peer Address:Port     Process     \n' +
        'LISTEN     2          10                 10.77.0.2:80                  0.0.0.0:*                    \n' +
        'LISTEN     0          4096                 0.0.0.0:8080                0.0.0.0:*                    \n',
    );
    expect(renderSsListeners(tty, { screenWidth: 80 })).toBe(
      'State    Recv-Q   Send-Q     Local Address:Port     Peer Address:Port  Process  \n' +
        'LISTEN   2        10             10.77.0.2:80            0.0.0.0:*              \n' +
        'LISTEN   0        4096             0.0.0.0:8080          0.0.0.0:*              \n',
    );
    // 64 columns of content on a 60-column screen: Process moves to a (wrapped) line of its own
    expect(renderSsListeners(tty, { screenWidth: 60 })).toBe(
      'State  Recv-Q Send-Q Local Address:Port   Peer Address:Port Process' + ' '.repeat(53) + '\n' +
        'LISTEN 2      10         10.77.0.2:80          0.0.0.0:*    ' + ' '.repeat(60) + '\n' +
        'LISTEN 0      4096         0.0.0.0:8080        0.0.0.0:*    ' + ' '.repeat(60) + '\n',
    );
  });

  it('-e appends syndrop\'s SYN-queue extension in the Process cell, key:value like ss -e', () => {
    const ext = [
      listener('10.77.0.2', 80, 11, 10, { synQueueLength: 128, synQueueMax: 128, young: 3, drops: 4567 }),
      listener('0.0.0.0', 8080, 0, 4096, { synQueueLength: 0, synQueueMax: 256 }),
    ];
    expect(renderSsListeners(ext, { extended: true })).toBe(
      'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess                         \n' +
        'LISTEN 11     10         10.77.0.2:80        0.0.0.0:*    synq:128/128 young:3 drops:4567\n' +
        // ss never measures the last cell of its output, so the last row does not widen the column
        'LISTEN 0      4096         0.0.0.0:8080      0.0.0.0:*    synq:0/256 young:0 drops:0     \n',
    );
  });

  it('brackets IPv6 addresses and shows port 0 as *', () => {
    const out = renderSsListeners([listener('::', 80, 0, 128)]);
    expect(out.split('\n')[1]).toBe('LISTEN 0      128             [::]:80           [::]:*          ');
  });
});

describe('ss -tan / -tano', () => {
  it('matches ss 6.1 -tano: TIME-WAIT timer (timewait,56sec,0), last cell unmeasured', () => {
    expect(renderSsAll(listeners, sockets)).toBe(
      'State     Recv-Q Send-Q Local Address:Port  Peer Address:Port Process\n' +
        'LISTEN    0      4096         0.0.0.0:8080       0.0.0.0:*           \n' +
        'LISTEN    2      10         10.77.0.2:80         0.0.0.0:*           \n' +
        'ESTAB     0      0          10.77.0.2:80       10.77.0.2:38622       \n' +
        'ESTAB     0      0          10.77.0.2:80       10.77.0.2:38610       \n' +
        'ESTAB     0      0          10.77.0.2:38610    10.77.0.2:80          \n' +
        'ESTAB     0      0          10.77.0.2:38622    10.77.0.2:80          \n' +
        'TIME-WAIT 0      0          10.77.0.2:8080     10.77.0.2:48348 timer:(timewait,56sec,0)\n',
    );
  });

  it('matches ss 6.1 -tan (no timers)', () => {
    expect(renderSsAll(listeners, sockets, { timers: false }).split('\n').at(-2)).toBe(
      'TIME-WAIT 0      0          10.77.0.2:8080     10.77.0.2:48348       ',
    );
  });

  it('SYN-RECV rows show the SYN-ACK retransmit timer as ss -o does: timer:(on,<expires>,<retransmits>)', () => {
    const out = renderSsAll(
      [listener('10.77.0.2', 80, 0, 128)],
      [
        sock('SYN-RECV', '10.77.0.2:80', '10.77.1.1:40000', { expiresMs: 1200, retransmits: 3 }),
        sock('SYN-RECV', '10.77.0.2:80', '10.77.1.2:40001', { expiresMs: 2900, retransmits: 1 }),
        sock('TIME-WAIT', '10.77.0.2:80', '10.77.1.3:40002', { expiresMs: 59_000 }),
      ],
    );
    expect(out).toBe(
      'State     Recv-Q Send-Q Local Address:Port Peer Address:Port Process              \n' +
        'LISTEN    0      128        10.77.0.2:80        0.0.0.0:*                         \n' +
        'SYN-RECV  0      0          10.77.0.2:80      10.77.1.1:40000 timer:(on,1.200ms,3)\n' +
        'SYN-RECV  0      0          10.77.0.2:80      10.77.1.2:40001 timer:(on,2.900ms,1)\n' +
        'TIME-WAIT 0      0          10.77.0.2:80      10.77.1.3:40002 timer:(timewait,59sec,0)\n',
    );
  });
});

describe('print_ms_timer', () => {
  it.each([
    [1200, '1.200ms'],
    [59_000, '59sec'],
    [56_321, '56sec'],
    [3000, '3sec'],
    [999, '999ms'],
    [125_000, '2min5sec'],
    [65_432, '1min5sec'],
    [601_000, '10min'],
    [0, ''],
    [-5, ''],
  ])('%i ms → "%s" (ss.c print_ms_timer)', (ms, text) => {
    expect(formatSsTimer(ms)).toBe(text);
  });
});

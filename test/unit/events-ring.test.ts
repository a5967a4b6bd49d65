// The event ring: fixed size, oldest overwritten, reads by sequence number, SYN counts per
// source straight from the columns (what `syndrop top` shows as top talkers).

import { describe, expect, it } from 'vitest';
import { EventRing, EVENT_HAS_TS } from '../../src/stack/events.js';
import { TcpFlag } from '../../src/wire/tcp.js';

function recordSyn(ring: EventRing, n: number, peer: number, flags = TcpFlag.SYN): void {
  ring.record(n, 1, peer, 1000 + n, 0x0a4d0002, 80, n, 0, flags | EVENT_HAS_TS, 100 + n, 0, 0);
}

describe('EventRing', () => {
  it('rounds its capacity up to a power of two and keeps the newest events', () => {
    const ring = new EventRing(5);
    expect(ring.capacity).toBe(8);
    for (let n = 0; n < 20; n++) recordSyn(ring, n, 1);
    expect(ring.total).toBe(20);
    expect(ring.oldest).toBe(12);
    const e = ring.read(19);
    expect(e).toMatchObject({ n: 19, time: 19, peerPort: 1019, localPort: 80, seq: 19, flags: TcpFlag.SYN, hasTimestamps: true, tsVal: 119 });
  });

  it('counts SYNs without ACK per source among the events it still holds', () => {
    const ring = new EventRing(8);
    for (let n = 0; n < 4; n++) recordSyn(ring, n, 0x0a000001);
    for (let n = 4; n < 10; n++) recordSyn(ring, n, 0x0a000002);
    recordSyn(ring, 10, 0x0a000001, TcpFlag.SYN | TcpFlag.ACK); // a SYN-ACK is not a SYN
    recordSyn(ring, 11, 0x0a000001, TcpFlag.ACK);
    // Events 4..11 remain: six SYNs from .2, none left from .1's first four.
    expect([...ring.synsBySource().entries()]).toEqual([[0x0a000002, 6]]);
  });
});

// The engine's frame loop against a device double holding real SYN frames: the first read of a
// wakeup takes one frame, its SYN-ACK is written before the read that finds the queue empty
// (the latency section of `make bench`), and under a backlog the rest comes in whole batches.

import { describe, expect, it } from 'vitest';

import { AcceptLoop } from '../../src/app/accept-loop.js';
import { Engine, type FrameDevice } from '../../src/io/engine.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { Host } from '../../src/stack/host.js';
import { DPORT, EMULATED, FRAME_STRIDE, buildSynPool, clientIsn, parseSynAck, tupleSource } from '../../src/tools/bench/frames.js';

type Call = { op: 'read'; max: number | undefined; got: number } | { op: 'write'; acks: number[] };

/** A device whose queue holds SYN frames i = 0..count-1; it logs every call in order. */
function queuedSyns(count: number): { device: FrameDevice; calls: Call[] } {
  const pool = buildSynPool(count);
  const calls: Call[] = [];
  let next = 0;
  const device: FrameDevice = {
    onReadable: () => undefined,
    close: () => undefined,
    readBatch(slab: Uint8Array, lengths: Int32Array, max?: number): number {
      const slotSize = Math.floor(slab.byteLength / lengths.length);
      const room = Math.min(lengths.length, max ?? lengths.length);
      let got = 0;
      while (got < room && next < count) {
        const length = pool.lengths[next]!;
        slab.set(pool.slab.subarray(next * FRAME_STRIDE, next * FRAME_STRIDE + length), got * slotSize);
        lengths[got++] = length;
        next++;
      }
      calls.push({ op: 'read', max, got });
      return got;
    },
    writeBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, n: number): number {
      const acks: number[] = [];
      for (let i = 0; i < n; i++) {
        const synAck = parseSynAck(slab, offsets[i]!, lengths[i]!);
        expect(synAck, `frame ${i} of the batch is a SYN-ACK`).not.toBeNull();
        acks.push(synAck!.ack);
      }
      calls.push({ op: 'write', acks });
      return n;
    },
  };
  return { device, calls };
}

function engineFor(device: FrameDevice): Engine {
  const profile = resolveProfile('6.x');
  const host = new Host({ profile, sysctls: new Sysctls(profile, ['net.ipv4.tcp_syncookies=2']), address: EMULATED, seed: 7 });
  new AcceptLoop(host).listen(DPORT, 128, { ratePerSecond: Infinity, paused: false, handler: null });
  return new Engine({ host, device, batch: 64 });
}

/** ack = ISN + 1 of SYN i: which SYN a reply answers. */
const ackOf = (i: number) => {
  const { addr, port } = tupleSource(i);
  return (clientIsn(addr, port) + 1) >>> 0;
};

describe('engine drain: reply first, then batches', () => {
  it('writes a lone SYN\'s SYN-ACK before the read that finds the queue empty', () => {
    const { device, calls } = queuedSyns(1);
    engineFor(device).drain();
    expect(calls).toEqual([
      { op: 'read', max: 1, got: 1 },
      { op: 'write', acks: [ackOf(0)] },
      { op: 'read', max: 64, got: 0 },
    ]);
  });

  it('answers a backlog of 130 SYNs in order: one frame, then batches of 64 until a short one', () => {
    const { device, calls } = queuedSyns(130);
    engineFor(device).drain();
    expect(calls.map((c) => (c.op === 'read' ? `read ${c.max}→${c.got}` : `write ${c.acks.length}`))).toEqual([
      'read 1→1',
      'write 1',
      'read 64→64',
      'write 64',
      'read 64→64',
      'write 64',
      'read 64→1',
      'write 1',
    ]);
    const acks = calls.flatMap((c) => (c.op === 'write' ? c.acks : []));
    expect(acks).toEqual(Array.from({ length: 130 }, (_, i) => ackOf(i)));
  });
});

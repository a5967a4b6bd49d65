// The frame loop's timer (src/io/alarm.ts, native/alarm.cc): a timerfd alarm fires once, never
// early, within a fraction of a millisecond of its deadline (setTimeout rounds up to whole ms
// and wakes at the loop's ms phase); cancel and re-arm hold; and the engine on it fires the
// stack's SYN-ACK retransmit at exactly its virtual millisecond (spec §4: TCP_TIMEOUT_INIT, 1 s after the SYN).

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, describe, expect, it } from 'vitest';

import { AcceptLoop } from '../../src/app/accept-loop.js';
import { preciseAlarm, type Alarm } from '../../src/io/alarm.js';
import { Engine, type FrameDevice } from '../../src/io/engine.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { Host } from '../../src/stack/host.js';
import { DPORT, EMULATED, buildSynPool, clientIsn, parseSynAck, tupleSource } from '../../src/tools/bench/frames.js';

const open: Alarm[] = [];
afterEach(() => {
  for (const alarm of open.splice(0)) alarm.close();
});

function alarmLog(): { alarm: Alarm; fired: number[] } {
  const fired: number[] = [];
  const alarm = preciseAlarm(() => fired.push(performance.now()));
  open.push(alarm);
  return { alarm, fired };
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await sleep(1);
}

describe('preciseAlarm', () => {
  it('fires once, never before its fractional deadline, and well inside the millisecond after it', async () => {
    const lateness: number[] = [];
    for (let i = 0; i < 15; i++) {
      const { alarm, fired } = alarmLog();
      const armedAt = performance.now();
      alarm.arm(1.25);
      await until(() => fired.length > 0, 1000);
      await sleep(5);
      expect(fired).toHaveLength(1);
      expect(fired[0]! - armedAt).toBeGreaterThanOrEqual(1.25);
      lateness.push(fired[0]! - armedAt - 1.25);
    }
    lateness.sort((a, b) => a - b);
    // setTimeout(…, ceil(1.25)) could not fire before 2 ms: lateness ≥ 0.75 ms every time.
    expect(lateness[7]!).toBeLessThan(0.5);
  });

  it('does not fire once cancelled; a second arm replaces the first', async () => {
    const cancelled = alarmLog();
    cancelled.alarm.arm(2);
    cancelled.alarm.cancel();
    const replaced = alarmLog();
    const armedAt = performance.now();
    replaced.alarm.arm(60);
    replaced.alarm.arm(3);
    await sleep(90);
    expect(cancelled.fired).toEqual([]);
    expect(replaced.fired).toHaveLength(1);
    expect(replaced.fired[0]! - armedAt).toBeLessThan(60);
  });

  it('rejects a delay that is not a finite number', () => {
    const { alarm } = alarmLog();
    expect(() => alarm.arm(Number.NaN)).toThrow(RangeError);
  });
});

describe('engine on preciseAlarm', () => {
  it('retransmits the SYN-ACK of a queued request at exactly its virtual millisecond (1 s after the SYN)', async () => {
    const pool = buildSynPool(1);
    // `at`: the stack's clock when the frame was written to the device (host.state.now, after
    // the tick); `tsVal`: the virtual ms the frame was built at, as the wire tells it.
    const writes: Array<{ at: number; ack: number; tsVal: number }> = [];
    let delivered = false;
    const device: FrameDevice = {
      onReadable: () => undefined,
      close: () => undefined,
      readBatch(slab, lengths) {
        if (delivered) return 0;
        delivered = true;
        slab.set(pool.slab.subarray(0, pool.lengths[0]!), 0);
        lengths[0] = pool.lengths[0]!;
        return 1;
      },
      writeBatch(slab, offsets, lengths, n) {
        for (let i = 0; i < n; i++) {
          const synAck = parseSynAck(slab, offsets[i]!, lengths[i]!)!;
          writes.push({ at: host.state.now, ack: synAck.ack, tsVal: synAck.tsVal });
        }
        return n;
      },
    };
    const profile = resolveProfile('6.x');
    const host = new Host({ profile, sysctls: new Sysctls(profile, ['net.ipv4.tcp_syncookies=1']), address: EMULATED, seed: 7 });
    new AcceptLoop(host).listen(DPORT, 128, { ratePerSecond: Infinity, paused: false, handler: null });
    const engine = new Engine({ host, device, batch: 4, alarm: preciseAlarm });
    try {
      engine.drain();
      await until(() => writes.length >= 2, 3000);
    } finally {
      engine.stop();
    }
    const { addr, port } = tupleSource(0);
    const ack = (clientIsn(addr, port) + 1) >>> 0;
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(writes[0]!.ack).toBe(ack);
    expect(writes[1]!.ack).toBe(ack);
    // Built at its virtual ms: 6.x's TSval clock counts ms, so the retransmit says exactly 1000
    // later. The write may come a ms later than that when the alarm wakes late on a loaded
    // machine (the tick then also moves the clock to the ms it woke in), never earlier.
    expect((writes[1]!.tsVal - writes[0]!.tsVal) >>> 0).toBe(1000);
    expect(writes[1]!.at - writes[0]!.at).toBeGreaterThanOrEqual(1000);
  });
});

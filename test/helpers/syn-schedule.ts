// What the client-schedule tests share: the SYNs of a tcpdump capture by source port (each
// client its own port), and the comparison with synSchedule's model SYN for SYN.
//
// Tolerance: the kernel's timers fire a little late, and each RTO starts from the late fire,
// so lateness adds up. Each time may be late by up to 50 ms + 4 % of its model time, never
// early by more than 20 ms; the SYN count is exact.

import { expect } from 'vitest';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { TcpFlag } from '../../src/wire/tcp.js';

/** Per source port less `firstSourcePort`: the SYNs' times in ms after that client's first. */
export function synTimesBySourcePort(capture: string, firstSourcePort: number): Map<number, number[]> {
  const synTimesMs = new Map<number, number[]>();
  const firstAt = new Map<number, number>();
  const reader = CaptureReader.open(capture);
  while (reader.next()) {
    const tcp = reader.ipOffset + ((reader.buf[reader.ipOffset]! & 0x0f) << 2);
    if ((reader.buf[tcp + 13]! & TcpFlag.SYN) === 0) continue;
    const client = ((reader.buf[tcp]! << 8) | reader.buf[tcp + 1]!) - firstSourcePort;
    if (!firstAt.has(client)) firstAt.set(client, reader.timeMicros);
    synTimesMs.set(client, [...(synTimesMs.get(client) ?? []), (reader.timeMicros - firstAt.get(client)!) / 1000]);
  }
  reader.close();
  return synTimesMs;
}

function expectNear(measuredMs: number, modelMs: number, what: string): void {
  const late = measuredMs - modelMs;
  expect(late, `${what}: measured ${measuredMs.toFixed(1)} ms, model ${modelMs} ms`).toBeGreaterThanOrEqual(-20);
  expect(late, `${what}: measured ${measuredMs.toFixed(1)} ms, model ${modelMs} ms`).toBeLessThanOrEqual(50 + 0.04 * modelMs);
}

/** The measured SYN times and give-up against `model` (synSchedule: SYN times, then the give-up). */
export function expectSchedule(synTimesMs: readonly number[], gaveUpMs: number, model: readonly number[]): void {
  const syns = model.slice(0, -1);
  expect(synTimesMs.length, `SYNs on the wire ${JSON.stringify(synTimesMs.map(Math.round))}, model ${JSON.stringify(syns)}`).toBe(syns.length);
  syns.forEach((at, i) => expectNear(synTimesMs[i]!, at, `SYN ${i}`));
  expectNear(gaveUpMs, model.at(-1)!, 'connect() failed');
}

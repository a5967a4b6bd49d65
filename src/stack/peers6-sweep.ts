// Which IPv6 peer keys are still in use: every pool that stores a peer key, walked when the
// peer table asks for a sweep (peers6.ts). Off the per-packet path: it runs once the table
// has doubled, so a flood of spoofed IPv6 sources keeps memory bounded by the live state.

import type { KernelState } from './state.js';
import { isIpv6Key } from './peers6.js';

export function sweepPeers6(state: KernelState): void {
  const inUse = new Set<number>();
  const note = (key: number): void => {
    if (isIpv6Key(key)) inUse.add(key);
  };
  const r = state.requests;
  for (let slot = 0; slot < r.highWater; slot++) if (r.isLive(slot)) note(r.peerAddr[slot]!);
  const tw = state.timewait;
  for (let slot = 0; slot < tw.highWater; slot++) if (tw.inUse[slot] === 1) note(tw.peerAddr[slot]!);
  for (const conn of state.connections.values()) note(conn.peerAddr);
  // Not list(): it flattens and sorts every entry for display, a third of an IPv6 flood's replay.
  state.metrics.forEachAddress(note);
  state.peers6.sweep((key) => inUse.has(key));
}

// A larger TurboFan inlining budget for the offline engines (replay, simulate, their grid
// workers: V8's flags are the process's). Their SYN path is many small functions (ip input →
// listener → request or cookie → SYN-ACK builder → verdict → the engine's sinks), and with V8's
// default budget (460 bytes per callee, 920 in all per function) the calls between them stay
// calls. Measured on this 2-core VM, four alternated rounds, CPU-second rates (best of two runs):
// simulate 1.05 → 1.29 M SYN/s, its stack floor 1.45 → 1.74 M/s. Twice the default (920/1840)
// gave about half of that; 4000/24000 was slower on simulate again (code too big), and
// --stress-inline seven times slower. `run` keeps V8's default: over TUN its time is the
// device's, and two alternated `make bench --only tun` rounds each way showed no gain (queued
// CPU per SYN-ACK ÷ the reflector's 1.27 → 1.36, within their 8–54 % spread).
// Call before the engine runs: the flags steer optimizations still to come, which is why
// setting them at run time acts as the same flags on the command line (measured).

import { setFlagsFromString } from 'node:v8';

let widened = false;

export function widenInliningBudget(): void {
  if (widened) return;
  widened = true;
  setFlagsFromString('--max-inlined-bytecode-size=2000');
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=8000');
  setFlagsFromString('--max-inlined-bytecode-size-absolute=20000');
}

// What else the machine was doing while a section ran: CPU busy and steal time from /proc/stat
// (all CPUs, the window of the section) and the load average. A shared VM can lose a third of a
// core to a neighbour for seconds; a section measured through that is flagged, not trusted.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

interface CpuTimes {
  total: number;
  idle: number;
  steal: number;
}

export interface MachineWindow {
  /** Share of all CPUs' time that was not idle (includes the benchmark itself), %. */
  busyPercent: number;
  /** Share the hypervisor gave to other guests, %. */
  stealPercent: number;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  seconds: number;
}

function cpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return { total, idle: f[3]! + f[4]!, steal: f[7]! };
  } catch {
    return null;
  }
}

/** Starts a window; call the result to close it. */
export function machineWindow(): () => MachineWindow {
  const start = cpuTimes();
  const loadStart = loadavg();
  const t0 = Date.now();
  return () => {
    const end = cpuTimes();
    const d = start !== null && end !== null ? end.total - start.total : 0;
    const pct = (x: number) => (d > 0 ? Math.round((x / d) * 1000) / 10 : 0);
    return {
      busyPercent: start !== null && end !== null ? pct(d - (end.idle - start.idle)) : 0,
      stealPercent: start !== null && end !== null ? pct(end.steal - start.steal) : 0,
      loadAvgStart: loadStart,
      loadAvgEnd: loadavg(),
      seconds: (Date.now() - t0) / 1000,
    };
  };
}

/** Relative spread (max − min) / median above which a section's ratio is called noisy. */
export const NOISY_SPREAD = 0.2;
/** Steal above this share of the machine makes any section noisy. */
export const NOISY_STEAL_PERCENT = 5;

/** Why a section's numbers should not be trusted, or null. */
export function noiseVerdict(spreads: Record<string, number>, machine: MachineWindow): string | null {
  const reasons: string[] = [];
  for (const [name, spread] of Object.entries(spreads)) {
    if (Number.isFinite(spread) && spread > NOISY_SPREAD) reasons.push(`${name} spread ${(spread * 100).toFixed(0)}% > ${NOISY_SPREAD * 100}%`);
  }
  if (machine.stealPercent > NOISY_STEAL_PERCENT) reasons.push(`steal ${machine.stealPercent}% > ${NOISY_STEAL_PERCENT}%`);
  return reasons.length > 0 ? reasons.join('; ') : null;
}

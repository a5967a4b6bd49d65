// `syndrop verify --family 6`: the differential scenarios over IPv6. The listen path is the same
// code for both families (spec §1), so the same scenario files are played with IPv6 addresses:
// the kernel listener on the server namespace's fd77:3::1, syndrop on fd77::2, crafted flows from
// spoofed sources in fd77:8000::/17 (routed back into c3 like 10.77.128.0/17).

import type { ScenarioFamily } from '../lab/scenarios/family.js';

export type VerifyFamily = ScenarioFamily;

export interface VerifyAddressing {
  /** The kernel listener's address in the server namespace (on its link to c3). */
  kernelAddress: string;
  /** Prefixes of the crafted flows' spoofed sources, one per side (a number is appended). */
  kernelSpoofNet: string;
  syndropSpoofNet: string;
}

export function verifyAddressing(family: VerifyFamily): VerifyAddressing {
  return family === 4
    ? { kernelAddress: '10.77.3.1', kernelSpoofNet: '10.77.200.', syndropSpoofNet: '10.77.201.' }
    : { kernelAddress: 'fd77:3::1', kernelSpoofNet: 'fd77:8200::', syndropSpoofNet: 'fd77:8201::' };
}

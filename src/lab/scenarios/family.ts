// Which IP family a scenario's clients use (`syndrop scenario run|matrix --family 4|6`), and the
// lab addresses that go with it: the rules of the listen path are the same code for both
// families (spec §1, issue 20), so the scenarios are the same stories with other addresses.

import { usageError } from '../../errors.js';
import { EMULATED_HOST6, NAT_PUBLIC_ADDRESS6, SPOOFED_PREFIX6, type LabNodeName, type LabTopology } from '../topology.js';

export type ScenarioFamily = 4 | 6;

export interface FamilyAddresses {
  family: ScenarioFamily;
  /** The address the emulator answers for (10.77.0.2 or fd77::2). */
  emulatedHost: string;
  /** The address c1 and c2 share behind the NAT (NAT44 or NAT66). */
  natPublicAddress: string;
  /** Spoofed sources, routed back into c3. */
  spoofedPrefix: string;
}

export function parseFamily(text: string): ScenarioFamily {
  if (text === '4' || text === '6') return Number(text) as ScenarioFamily;
  throw usageError(`--family ${text}: choose 4 or 6`);
}

export function familyAddresses(topology: LabTopology, family: ScenarioFamily): FamilyAddresses {
  return family === 4
    ? { family, emulatedHost: topology.emulatedHost, natPublicAddress: topology.natPublicAddress, spoofedPrefix: topology.spoofedPrefix }
    : { family, emulatedHost: EMULATED_HOST6, natPublicAddress: NAT_PUBLIC_ADDRESS6, spoofedPrefix: SPOOFED_PREFIX6 };
}

/** A lab client's own address in this family, without the prefix length (c3 → 10.77.3.2 / fd77:3::2). */
export function clientAddress(topology: LabTopology, node: LabNodeName, family: ScenarioFamily): string {
  const iface = topology.nodes[node].interfaces[0]!;
  return (family === 4 ? iface.address : iface.address6).split('/')[0]!;
}

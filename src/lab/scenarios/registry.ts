// The scenarios `syndrop scenario list|run|matrix` knows, in the order the matrix shows them.

import { usageError } from '../../errors.js';
import { abortOnOverflow } from './abort-on-overflow.js';
import { acceptOverflow } from './accept-overflow.js';
import { natPaws } from './nat-paws.js';
import { synFlood } from './syn-flood.js';
import type { Scenario } from './types.js';
import { unprovenPeer } from './unproven-peer.js';

export const SCENARIOS: readonly Scenario[] = [natPaws, acceptOverflow, abortOnOverflow, synFlood, unprovenPeer];

export function scenarioByName(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw usageError(`unknown scenario '${name}': use one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return scenario;
}

import { SyndropError } from '../errors.js';
import type { Profile } from './profile.js';
import { DEFAULT_PROFILE_NAME, PROFILES } from './table.js';

/** Every name `--kernel` accepts, in table order (versions then their aliases). */
export function profileChoices(): string[] {
  return PROFILES.flatMap((p) => [p.name, ...p.aliases]);
}

/** Resolves a `--kernel` value (version or distro alias, case-insensitive) to its profile. */
export function resolveProfile(name: string | undefined): Profile {
  const wanted = (name ?? DEFAULT_PROFILE_NAME).trim().toLowerCase();
  const found = PROFILES.find((p) => p.name === wanted || p.aliases.includes(wanted));
  if (found === undefined) {
    throw new SyndropError(
      'SYNDROP_ERR_BAD_PROFILE',
      `unknown kernel profile '${name}': choose one of ${profileChoices().join(', ')}`,
    );
  }
  return found;
}

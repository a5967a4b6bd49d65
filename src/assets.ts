// Where the product's runtime files are: the Python programs it runs in the lab's namespaces,
// the verify scenarios and known differences, the C tools `make` builds. Shipped code finds
// them here and nowhere else, never in the test tree (tests may use these, never the reverse).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file compiles to dist/assets.js). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Data and programs the product reads at run time (`make install` ships the whole package). */
export const ASSETS_DIR = join(PROJECT_ROOT, 'assets');

/** The C tools `make` builds (sdgen, reflector). */
export const BIN_DIR = join(PROJECT_ROOT, 'dist', 'bin');

export function assetPath(...parts: string[]): string {
  return join(ASSETS_DIR, ...parts);
}

/**
 * The one Python interpreter every helper program runs under: Debian's, which has
 * python3-scapy (a pyenv python3 first on PATH does not). SYNDROP_PYTHON overrides it.
 */
export const PYTHON: string =
  process.env.SYNDROP_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

// `sysctl -a` (or `sysctl net.ipv4 net.core`) output: `name = value` per line. Values that are
// one integer are what the listen path reads; others (ranges, strings) are kept out.

import type { Parsed } from './parse-counters.js';

export function parseSysctl(text: string): Parsed<Record<string, number>> {
  const value: Record<string, number> = {};
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('sysctl:')) continue;
    const match = /^([\w.\-/]+)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      malformed += 1;
      continue;
    }
    const name = match[1]!.replaceAll('/', '.');
    if (/^-?\d+$/.test(match[2]!.trim())) value[name] = Number(match[2]!.trim());
  }
  return { value, malformed };
}

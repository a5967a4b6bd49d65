// Which syndrop profile a real kernel image should behave like, from its version string (the
// bzImage header, or `uname -r` plus /proc/version in a guest), by the rules of spec §0: the
// era the version falls in (A 3.10, B 4.4–4.9, C 4.10–4.11, D 4.12–5.3, E 5.4–6.12, F 6.13+),
// the newest profile of that era not newer than the kernel, a `-late` variant when the stable
// sublevel carries its backport, `centos7` for a RHEL 7 kernel. `--kernel` overrides all this.

import type { Profile } from '../../profiles/profile.js';
import { resolveProfile } from '../../profiles/resolve.js';
import { PROFILES } from '../../profiles/table.js';

export interface KernelVersion {
  major: number;
  minor: number;
  /** The upstream stable sublevel when the string tells it (vanilla `6.1.20`, Debian's `Debian 6.1.192-3`), else null. */
  sublevel: number | null;
  /** Where the sublevel came from, for the explanation. */
  sublevelSource: string;
  rhel: number | null;
}

export interface Detection {
  profile: Profile;
  /** One sentence: why this profile. */
  reason: string;
}

/** Era boundaries of spec §0 (first version of each era). */
const ERA_STARTS: ReadonlyArray<readonly [number, number, string]> = [
  [3, 10, 'A'],
  [4, 4, 'B'],
  [4, 10, 'C'],
  [4, 12, 'D'],
  [5, 4, 'E'],
  [6, 13, 'F'],
];

/** Stable sublevels from which a `-late` variant applies (spec §0 "Variants", note A, §1.4). */
const LATE_FROM: Readonly<Record<string, number>> = { '4.4': 178, '4.9': 166, '6.1': 141 };

const compare = (a: readonly [number, number], b: readonly [number, number]): number => a[0] - b[0] || a[1] - b[1];

/** Parses `uname -r` and, when given, the rest of the banner (`… Debian 6.1.192-3 …`, `… .el7 …`). */
export function parseKernelVersion(release: string, banner = release): KernelVersion | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (m === null) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const rhelMatch = /\.el(\d+)/.exec(release);
  const debian = new RegExp(`Debian ${major}\\.${minor}\\.(\\d+)`).exec(banner);
  // Debian's 6.1.0-57 and Ubuntu's 5.15.0-91 carry an ABI number, not the sublevel: trust a
  // third number only when no distro ABI suffix follows it.
  const abiStyle = /^\d+\.\d+\.0-\d+/.test(release) || rhelMatch !== null;
  let sublevel: number | null = null;
  let sublevelSource = 'unknown (a distro ABI number, not the upstream sublevel)';
  if (debian !== null) {
    sublevel = Number(debian[1]);
    sublevelSource = `Debian's package version '${debian[0]}'`;
  } else if (m[3] !== undefined && !abiStyle) {
    sublevel = Number(m[3]);
    sublevelSource = `the release '${release}'`;
  }
  return { major, minor, sublevel, sublevelSource, rhel: rhelMatch ? Number(rhelMatch[1]) : null };
}

function eraOf(version: readonly [number, number]): string | null {
  let era: string | null = null;
  for (const [major, minor, name] of ERA_STARTS) if (compare(version, [major, minor]) >= 0) era = name;
  return era;
}

/** The version a plain (non-variant, non-distro) profile stands for: its name, or for `6.x` its oldest numeric alias. */
function profileVersion(profile: Profile): readonly [number, number] | null {
  const names = [profile.name, ...profile.aliases].filter((n) => /^\d+\.\d+$/.test(n));
  const versions = names.map((n) => n.split('.').map(Number) as [number, number]).sort(compare);
  return versions[0] ?? null;
}

/** The profile for a kernel, with the reason; null when the kernel is older than every profile. */
export function detectProfile(release: string, banner = release): Detection | { error: string } {
  const v = parseKernelVersion(release, banner);
  if (v === null) return { error: `'${release}' is not a kernel version` };
  const version = [v.major, v.minor] as const;
  const shown = `${v.major}.${v.minor}${v.sublevel !== null ? `.${v.sublevel}` : ''}`;
  if (v.rhel === 7) {
    return { profile: resolveProfile('centos7'), reason: `release ${release} is a RHEL/CentOS 7 kernel (.el7): profile centos7` };
  }
  const era = eraOf(version);
  if (era === null) return { error: `kernel ${shown} is older than 3.10: syndrop has no profile for it` };
  const inEra = PROFILES.filter((p) => p.era === era && !p.name.includes('-late') && profileVersion(p) !== null)
    .map((p) => ({ p, at: profileVersion(p)! }))
    .sort((a, b) => compare(a.at, b.at));
  const notNewer = inEra.filter((c) => compare(c.at, version) <= 0);
  const base = (notNewer[notNewer.length - 1] ?? inEra[0])!;
  const exact = compare(base.at, version) === 0;
  let reason = `kernel ${shown} (${release}) is era ${era}; ${exact ? `profile ${base.p.name}` : `nearest profile of that era: ${base.p.name}`}`;
  const lateFrom = LATE_FROM[base.p.name];
  const late = PROFILES.find((p) => p.name === `${base.p.name}-late`);
  if (exact && lateFrom !== undefined && late !== undefined) {
    if (v.sublevel === null) {
      reason += `; the stable sublevel is ${v.sublevelSource}, so ${late.name} (${base.p.name}.${lateFrom}+) cannot be told apart: kept ${base.p.name}`;
    } else if (v.sublevel >= lateFrom) {
      return { profile: late, reason: `${reason}; sublevel ${v.sublevel} from ${v.sublevelSource} is ≥ ${lateFrom}: ${late.name} (${late.description})` };
    } else {
      reason += `; sublevel ${v.sublevel} from ${v.sublevelSource} is below ${lateFrom} (${late.name})`;
    }
  }
  return { profile: base.p, reason };
}

// Which profile describes a real kernel, from its version string (`uname -r`, the bzImage
// header, and where available the banner of /proc/version, which carries a distro's upstream
// sublevel: `Debian 6.1.192-3`). One table for `verify --vm`, `profiles detect` and
// `syndrop doctor`: from each release on, the profile whose rules it has. Versions between
// two profiles take the profile of the last rule change before them (spec §0, §1.3, §1.4,
// §2.5, §8c); a distro ABI release (`6.1.0-57`) hides its sublevel, so a `-late` variant is
// only chosen when the banner tells it.

import type { Profile } from './profile.js';
import { resolveProfile } from './resolve.js';

export type KernelRelease = readonly [major: number, minor: number, sublevel: number];

/** From this release on, this profile applies (newest first). */
export const RELEASE_TABLE: ReadonlyArray<{ from: KernelRelease; profile: string; note?: string }> = [
  { from: [6, 13, 0], profile: '6.x', note: '6.13+ hold backlog + 1 SYNs (qlen > backlog)' },
  {
    from: [6, 12, 33],
    profile: '6.12-late',
    note: '6.12.y stable took the 6.13 SYN-queue comparison (measured on 6.12.118; the first sublevel, 6.12.33, is an estimate from when 6.1.141 took it)',
  },
  { from: [6, 10, 0], profile: '6.12', note: 'from 6.10 a SYN reusing TIME_WAIT keeps tcp_tw_isn (ISN = snd_nxt + 65537)' },
  { from: [6, 2, 0], profile: '6.8', note: '6.2+ log the listener as address:port' },
  {
    from: [6, 1, 192],
    profile: '6.1-latest',
    note: '6.1.192 (measured) also carries the RFC 5961 exact-seq RST for requests and ts_recent left to the child; 6.1.171–6.1.191 are not measured and stay 6.1-late',
  },
  { from: [6, 1, 141], profile: '6.1-late', note: '6.1.141+ carry the 6.13 SYN-queue comparison' },
  { from: [5, 17, 0], profile: '6.1', note: '5.18+ count TcpExtTW when TIME_WAIT begins' },
  { from: [5, 15, 0], profile: '5.15' },
  { from: [5, 10, 0], profile: '5.10' },
  { from: [5, 4, 0], profile: '5.4' },
  { from: [4, 19, 0], profile: '4.19', note: 'control-socket ACKs and RSTs carry IP id 0 from 4.17' },
  { from: [4, 12, 0], profile: '4.15', note: 'tcp_tw_recycle is gone from 4.12' },
  { from: [4, 10, 0], profile: '4.10', note: 'the "full" SYN rule from 4.10' },
  { from: [4, 9, 166], profile: '4.9-late', note: '4.9.166+ backport the "full" SYN rule' },
  { from: [4, 9, 0], profile: '4.9' },
  { from: [4, 4, 178], profile: '4.4-late', note: '4.4.178+ backport the "full" SYN rule' },
  { from: [4, 4, 0], profile: '4.4' },
  { from: [3, 10, 0], profile: '3.10' },
];

export interface KernelVersion {
  major: number;
  minor: number;
  /** The upstream stable sublevel when the strings tell it, else null. */
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

const compare = (a: KernelRelease, b: KernelRelease): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

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
  const abiStyle = /^\d+\.\d+\.0-\d+/.test(release.trim()) || rhelMatch !== null;
  let sublevel: number | null = null;
  let sublevelSource = 'unknown (a distro ABI number, not the upstream sublevel)';
  if (debian !== null) {
    sublevel = Number(debian[1]);
    sublevelSource = `Debian's package version '${debian[0]}'`;
  } else if (m[3] !== undefined && !abiStyle) {
    sublevel = Number(m[3]);
    sublevelSource = `the release '${release.trim()}'`;
  } else if (m[3] === undefined) {
    sublevelSource = 'not given';
  }
  return { major, minor, sublevel, sublevelSource, rhel: rhelMatch ? Number(rhelMatch[1]) : null };
}

/** The profile for a kernel with the reason; an error for a string that is no version. */
export function detectProfile(release: string, banner = release): Detection | { error: string } {
  const v = parseKernelVersion(release, banner);
  if (v === null) return { error: `'${release.trim()}' is not a kernel version` };
  const shown = `${v.major}.${v.minor}${v.sublevel !== null ? `.${v.sublevel}` : ''}`;
  if (v.rhel === 7) {
    return { profile: resolveProfile('centos7'), reason: `kernel ${release.trim()} is a RHEL/CentOS 7 kernel (.el7): profile centos7 (RHEL's tcp_syncookies=2 backport, young rule kept)` };
  }
  const at: KernelRelease = [v.major, v.minor, v.sublevel ?? 0];
  const row = RELEASE_TABLE.find((r) => compare(at, r.from) >= 0);
  if (row === undefined) return { error: `kernel ${shown} is older than 3.10: syndrop has no profile for it` };
  const parts = [`kernel ${shown} → profile ${row.profile}`];
  if (row.note) parts.push(row.note);
  // A -late variant of this very series that the sublevel would decide, when it is unknown.
  const lateRow = RELEASE_TABLE.find((r) => r.from[0] === v.major && r.from[1] === v.minor && r.from[2] > 0 && r.profile.endsWith('-late'));
  if (v.sublevel === null && lateRow !== undefined) {
    parts.push(`the stable sublevel is ${v.sublevelSource}, so ${lateRow.profile} (${lateRow.from.join('.')}+) cannot be told apart: kept ${row.profile}`);
  } else if (v.sublevel !== null && lateRow !== undefined) {
    parts.push(`sublevel ${v.sublevel} from ${v.sublevelSource}`);
  }
  return { profile: resolveProfile(row.profile), reason: parts.join('; ') };
}

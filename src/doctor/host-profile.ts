// Which profile describes a real kernel's listen-path rules: from `uname -r` (and the distro
// in /etc/os-release), resolved through the same names `--kernel` takes (resolveProfile).
// Versions between two profiles take the older one, except where the spec names the release
// a rule changed in (spec §0, §1.3, §2.5, §1.4): those boundaries are the table below.

import type { Profile } from '../profiles/profile.js';
import { detectProfile, RELEASE_TABLE, type KernelRelease } from '../profiles/detect.js';
import { resolveProfile } from '../profiles/resolve.js';

export interface OsRelease {
  id: string;
  versionId: string;
  prettyName: string;
}

export interface HostProfile {
  profile: Profile;
  /** Why this profile, in one sentence the user can check. */
  reason: string;
}

/** `3.10.0-1160.el7.x86_64` → [3, 10, 0]; null when it does not start with a version. */
export function parseRelease(release: string): KernelRelease | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

/** /etc/os-release: KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): OsRelease | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(?:"(.*)"|'(.*)'|(.*))$/.exec(line.trim());
    if (match) fields.set(match[1]!, match[2] ?? match[3] ?? match[4] ?? '');
  }
  if (!fields.has('ID')) return null;
  return { id: fields.get('ID')!.toLowerCase(), versionId: fields.get('VERSION_ID') ?? '', prettyName: fields.get('PRETTY_NAME') ?? fields.get('ID')! };
}

/** The `--kernel` alias a distro release would have (centos7, ubuntu20.04, debian12 …). */
function distroAlias(os: OsRelease): string {
  const major = os.id === 'ubuntu' ? os.versionId : os.versionId.split('.')[0]!;
  return `${os.id}${major}`;
}

/** RHEL/CentOS 7 kernels (3.10.0-*.el7) carry RHEL's backports: their own profile (spec §1.1 notes). */
function isEl7(release: string, os: OsRelease | null): boolean {
  return /\.el7/.test(release) || (os !== null && ['centos', 'rhel', 'ol', 'scientific'].includes(os.id) && os.versionId.startsWith('7'));
}

function isProfileName(name: string): boolean {
  return tryResolve(name) !== null;
}

function tryResolve(name: string): Profile | null {
  try {
    return resolveProfile(name);
  } catch {
    return null;
  }
}

export function profileForHost(release: string | null, os: OsRelease | null, banner?: string): HostProfile {
  const version = release === null ? null : parseRelease(release);
  if (release === null || version === null) {
    const fallback = resolveProfile(undefined);
    return { profile: fallback, reason: `kernel release ${release === null ? 'not readable' : `'${release}' not understood`}: assuming the newest profile ${fallback.name}` };
  }
  const shown = `kernel ${release.trim()}${os ? ` (${os.prettyName})` : ''}`;
  if (version[0] === 3 && version[1] === 10 && isEl7(release, os)) {
    return { profile: resolveProfile('centos7'), reason: `${shown}: a RHEL/CentOS 7 kernel → profile centos7 (RHEL's tcp_syncookies=2 backport, young rule kept)` };
  }
  // The one detection table (src/profiles/detect.ts), shared with verify --vm.
  const detected = detectProfile(release, banner ?? release);
  const profile = 'error' in detected ? resolveProfile('3.10') : detected.profile;
  const parts = [`${shown} → profile ${profile.name}`];
  if ('error' in detected) parts.push(`${detected.error}: the nearest is 3.10`);
  else parts.push(detected.reason.replace(/^kernel \S+ → profile \S+(; )?/, ''));
  if (!isProfileName(`${version[0]}.${version[1]}`) && !('error' in detected)) {
    const row = RELEASE_TABLE.find((r) => r.profile === profile.name);
    if (row !== undefined) parts.push(`no profile named ${version[0]}.${version[1]}: ${profile.name} covers ${row.from.join('.')} and later`);
  }
  const distroKernel = /^\d+\.\d+\.0-/.test(release.trim()) && version[0] === 4 && (version[1] === 4 || version[1] === 9);
  if (distroKernel) parts.push(`a distro ${version[0]}.${version[1]}.0-N kernel hides its stable level; if it carries the "full" SYN rule backport, ${profile.name}-late applies`);
  if (os !== null) {
    const alias = distroAlias(os);
    const aliased = tryResolve(alias);
    const base = (name: string): string => name.replace(/-late$/, '');
    if (aliased !== null && aliased.name !== profile.name && base(aliased.name) === base(profile.name)) parts.push(`the ${alias} alias names ${aliased.name}; this stable level is ${profile.name}`);
    else if (aliased !== null && aliased.name !== profile.name) parts.push(`${alias}'s stock kernel is ${aliased.name}; this one differs (an HWE or backport kernel), the running kernel decides`);
    else if (aliased !== null) parts.push(`the ${alias} alias names the same profile`);
  }
  return { profile, reason: parts.join('; ') };
}

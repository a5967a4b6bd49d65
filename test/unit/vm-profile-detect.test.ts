// Profile detection from a kernel's version string (spec §0): the profile of the last rule
// change at or before the release; -late variants from 4.4.178, 4.9.166, 6.1.141 (§0
// "Variants") and 6.12.y (measured 6.12.118); centos7 for .el7.

import { describe, expect, it } from 'vitest';
import { detectProfile, parseKernelVersion } from '../../src/profiles/detect.js';

function profileOf(release: string, banner?: string): string {
  const detected = detectProfile(release, banner);
  if ('error' in detected) throw new Error(detected.error);
  return detected.profile.name;
}

describe('kernel version strings', () => {
  it("takes Debian's sublevel from the banner, not the ABI number of the release", () => {
    expect(parseKernelVersion('6.1.0-57-cloud-amd64', '6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)')).toMatchObject({
      major: 6,
      minor: 1,
      sublevel: 192,
    });
    expect(parseKernelVersion('6.1.0-57-cloud-amd64')).toMatchObject({ sublevel: null });
    expect(parseKernelVersion('5.15.0-91-generic', '5.15.0-91-generic (buildd@lcy02) #101-Ubuntu SMP')).toMatchObject({ sublevel: null });
    expect(parseKernelVersion('6.12.118+deb12-cloud-amd64')).toMatchObject({ major: 6, minor: 12, sublevel: 118 });
    expect(parseKernelVersion('3.10.0-1160.el7.x86_64')).toMatchObject({ rhel: 7, sublevel: null });
    expect(parseKernelVersion('not a kernel')).toBeNull();
  });
});

describe('profile detection (spec §0)', () => {
  it('Debian 12 6.1.192 is 6.1-latest (measured: the SYN-queue, RST and ts_recent backports)', () => {
    expect(profileOf('6.1.0-57-cloud-amd64', '6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)')).toBe('6.1-latest');
  });

  it('Debian 12 as first shipped (6.1.38) and a vanilla 6.1.20 are 6.1; vanilla 6.1.170 is 6.1-late', () => {
    expect(profileOf('6.1.0-10-amd64', '6.1.0-10-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.38-1 (2023-07-14)')).toBe('6.1');
    expect(profileOf('6.1.20')).toBe('6.1');
    expect(profileOf('6.1.140')).toBe('6.1');
    expect(profileOf('6.1.141')).toBe('6.1-late');
  });

  it('a 6.1 release whose sublevel is unknown stays 6.1 and says why', () => {
    const detected = detectProfile('6.1.0-57-cloud-amd64');
    expect(detected).toMatchObject({ profile: { name: '6.1' }, reason: expect.stringContaining('cannot be told apart') });
  });

  it('4.4 and 4.9 take their -late variant from the stable backport of the full SYN rule', () => {
    expect(profileOf('4.4.1')).toBe('4.4');
    expect(profileOf('4.4.178')).toBe('4.4-late');
    expect(profileOf('4.9.0-8-amd64', '4.9.0-8-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 4.9.144-3 (2019-02-02)')).toBe('4.9');
    expect(profileOf('4.9.166')).toBe('4.9-late');
  });

  it('versions between profiles take the profile of the last rule change before them (spec §0, §1.3, §8c)', () => {
    expect(profileOf('3.10.108')).toBe('3.10');
    expect(profileOf('3.16.0')).toBe('3.10');
    expect(profileOf('4.11.12')).toBe('4.10');
    expect(profileOf('4.12.0')).toBe('4.15');
    expect(profileOf('4.14.300')).toBe('4.15');
    expect(profileOf('4.19.0-20-amd64')).toBe('4.19');
    expect(profileOf('5.3.18')).toBe('4.19');
    expect(profileOf('5.4.0-150-generic')).toBe('5.4');
    expect(profileOf('5.15.0-91-generic', '5.15.0-91-generic (buildd@lcy02) #101-Ubuntu SMP')).toBe('5.15');
    // 6.2+ flood text, tcp_tw_isn still lost before 6.10: the 6.8 rules.
    expect(profileOf('6.6.30')).toBe('6.8');
    expect(profileOf('6.10.3')).toBe('6.12');
    expect(profileOf('6.12.0')).toBe('6.12');
    // Debian's 6.12.118 backport (verify --vm): the 6.13 comparison and ts_recent in the child.
    expect(profileOf('6.12.118+deb12-cloud-amd64')).toBe('6.12-late');
    expect(profileOf('6.13.0')).toBe('6.x');
    expect(profileOf('6.18.44-fc-v669')).toBe('6.x');
  });

  it('RHEL/CentOS 7 kernels are centos7', () => {
    expect(profileOf('3.10.0-1160.el7.x86_64')).toBe('centos7');
  });

  it('kernels older than 3.10 have no profile', () => {
    expect(detectProfile('2.6.32-754.el6.x86_64')).toEqual({ error: expect.stringContaining('older than 3.10') });
  });
});

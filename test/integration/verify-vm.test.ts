// `verify --vm` end to end (issue 16) on every real Debian kernel installed under /boot (CI
// installs the newest Debian 12 6.1 and 6.12 cloud kernels with scripts/install-test-kernels.sh:
// apt-get download + dpkg -x, no boot hooks). Each boots under qemu on a tap in the lab's server
// namespace; every differential scenario runs against it and against the profile detected from
// its image, and must agree or be a listed known difference with its cause. Then one guest
// against a deliberately wrong profile must be reported as differing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPath } from '../../src/assets.js';
import { labDown } from '../../src/lab/lab.js';
import { SDGUEST } from '../../src/verify/guest/initramfs.js';
import { loadKnownDifferences } from '../../src/verify/scenario.js';
import { formatVmVerifyTable, runVmVerify, type VmVerifyReport } from '../../src/verify/vm-harness.js';
import { installedDebianKernels } from '../helpers/debian-kernels.js';
import { integrationPrerequisites, TEST_INSTANCE, TEST_PREFIX, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skipReason = await integrationPrerequisites(['ip', 'sysctl', '/usr/bin/python3', 'qemu-system-x86_64', '/bin/busybox', SDGUEST]);

const kernels = installedDebianKernels();
if (kernels.length < 2 && process.env.CI) throw new Error(`verify --vm needs two Debian kernels under /boot (scripts/install-test-kernels.sh); found ${kernels.length}`);

/** The SYN-queue capacity scenarios: where 6.1 (qlen >= backlog) and 6.1.141+ (qlen > backlog, spec §1.4) part. */
const SYN_QUEUE = ['sq-backlog4-sc0-flood20', 'sq-backlog0-sc0-flood5'];

describe.skipIf(skipReason !== undefined || kernels.length === 0)('verify --vm: real Debian kernels under qemu as the referee', () => {
  const reports = new Map<string, VmVerifyReport>();
  let wrong: VmVerifyReport;
  const known = new Map(loadKnownDifferences(assetPath('verify', 'known-differences-vm.json')).map((k) => [k.scenario, k.reason]));

  // The kernels run side by side, each in its own lab (a prefix of its own: the same addresses
  // in other namespaces) with its own syndrop instance. A guest mostly idles while its
  // scenarios wait on timers, so two share the two cores: one after the other they took
  // 144 + 172 s on the CI machine, most of it waiting.
  const prefixOf = (i: number): string => (i === 0 ? TEST_PREFIX : `${TEST_PREFIX}-k${i}`);

  beforeAll(async () => {
    await testLabUp();
    const started = Date.now();
    await Promise.all(
      kernels.map(async (image, i) => {
        const prefix = prefixOf(i);
        const instance = `${TEST_INSTANCE}-vm${i}`;
        reports.set(image, await runVmVerify({ image, prefix, instance }));
        // The deliberately wrong profile, in the 6.1 guest's lab after its own run.
        if (image.includes('vmlinuz-6.1.0-')) wrong = await runVmVerify({ image, prefix, instance, only: SYN_QUEUE, kernel: '6.1' });
      }),
    );
    for (const image of kernels) console.log(formatVmVerifyTable(reports.get(image)!));
    console.log(`verify --vm suite: ${kernels.length} kernel(s) side by side, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(async () => {
    await testLabDown();
    for (let i = 1; i < kernels.length; i++) await labDown({ prefix: prefixOf(i) });
  });

  it.each(kernels)('%s: the profile comes from the image and names its measured release', (image) => {
    const report = reports.get(image)!;
    if (image.includes('6.1.0-')) expect(report.profile).toMatch(/^6\.1-late/);
    else expect(report.profile).toMatch(/^6\.12/);
    expect(report.profileReason).toMatch(/Debian 6\.\d+\.\d+/);
  });

  it.each(kernels)('%s: one boot per distinct sysctl set, each ready in well under a minute', (image) => {
    const report = reports.get(image)!;
    const sets = new Set(report.boots.map((b) => JSON.stringify(b.sysctls)));
    expect(sets.size).toBe(report.boots.length);
    for (const boot of report.boots) expect(boot.bootMs).toBeLessThan(60_000);
  });

  it.each(kernels)('%s: every applicable scenario agrees with the detected profile (or is a known difference with its cause)', (image) => {
    const report = reports.get(image)!;
    const unexplained = report.scenarios.filter((s) => s.result === 'differ' && !known.has(s.name)).map((s) => `${s.name}: ${s.detail}`);
    expect(unexplained).toEqual([]);
    expect(report.agree + report.skipped + report.differ).toBe(report.scenarios.length);
    // The accept-queue and SYN-queue capacity scenarios are among those that ran and agreed.
    for (const name of ['aq-backlog2-never', 'aq-backlog0-never', ...SYN_QUEUE]) {
      expect(report.scenarios.find((s) => s.name === name)?.result, name).toBe('agree');
    }
  });

  it('against the plain 6.1 profile (qlen >= backlog) the SYN-queue scenarios differ: verify can disagree', () => {
    expect(wrong.profile).toBe('6.1');
    expect(wrong.profileReason).toContain('--kernel 6.1');
    expect(wrong.scenarios.map((s) => [s.name, s.result])).toEqual(SYN_QUEUE.map((name) => [name, 'differ']));
    for (const s of wrong.scenarios) expect(s.detail).not.toMatch(/^error/);
  });
});

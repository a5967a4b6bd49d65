// `verify --vm` end to end: a real Debian 12 kernel (the newest linux-image-6.1.0-*-cloud-amd64,
// fetched with apt-get download into the cache) boots under qemu on a tap in the lab's server
// namespace, and a handful of differential scenarios — the accept-queue and SYN-queue capacity
// ones among them — run against it and against the profile detected from its bzImage header.
// Then the same guest against a deliberately wrong profile must be reported as differing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { SDGUEST } from '../../src/verify/guest/initramfs.js';
import type { UnpackedKernel } from '../../src/verify/guest/debian-kernel.js';
import { formatVmVerifyTable, runVmVerify, type VmVerifyReport } from '../../src/verify/vm-harness.js';
import { debianKernel } from '../helpers/debian-kernel.js';
import { integrationPrerequisites, TEST_INSTANCE, TEST_PREFIX, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skipReason = await integrationPrerequisites(['ip', 'sysctl', '/usr/bin/python3', 'qemu-system-x86_64', '/bin/busybox', SDGUEST]);

/** Accept queue (backlog 0 and 2, app never accepts), one handshake with every option, SYN queue (backlog 4 and 0, cookies off). */
const SCENARIOS = ['aq-backlog0-never', 'aq-backlog2-never', 'opt-all', 'sq-backlog4-sc0-flood20', 'sq-backlog0-sc0-flood5'];
/** The SYN-queue capacity scenarios: where 6.1 (qlen >= backlog) and 6.1-late (qlen > backlog, spec §1.4) part. */
const SYN_QUEUE = ['sq-backlog4-sc0-flood20', 'sq-backlog0-sc0-flood5'];

describe.skipIf(skipReason !== undefined)('verify --vm: a Debian 12 kernel under qemu as the referee', () => {
  let kernel: UnpackedKernel | string;
  let detected: VmVerifyReport;
  let wrong: VmVerifyReport;
  const started = Date.now();

  beforeAll(async () => {
    kernel = await debianKernel();
    if (typeof kernel === 'string') throw new Error(kernel);
    if (!existsSync(kernel.image)) throw new Error(`${kernel.image} missing`);
    await testLabUp();
    const common = { image: kernel.image, prefix: TEST_PREFIX, instance: `${TEST_INSTANCE}-vm` };
    detected = await runVmVerify({ ...common, only: SCENARIOS });
    console.log(formatVmVerifyTable(detected));
    wrong = await runVmVerify({ ...common, only: SYN_QUEUE, kernel: '6.1' });
    console.log(formatVmVerifyTable(wrong));
    console.log(`verify --vm suite: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 400_000);

  afterAll(async () => {
    await testLabDown();
  });

  it("detects 6.1-late from the image's Debian 6.1.1xx version string and boots that very kernel", () => {
    expect(detected.profile).toBe('6.1-late');
    expect(detected.profileReason).toMatch(/Debian 6\.1\.\d+/);
    expect(detected.kernel).toBe((kernel as UnpackedKernel).release);
  });

  it('boots once per distinct sysctl set (none; tcp_syncookies=0), each in well under a minute', () => {
    expect(detected.boots.map((b) => b.sysctls)).toEqual([{}, { 'net.ipv4.tcp_syncookies': 0 }]);
    for (const boot of detected.boots) expect(boot.bootMs).toBeLessThan(60_000);
  });

  it('every scenario agrees with the detected profile: clients, segments and counters', () => {
    const differing = detected.scenarios.filter((s) => s.result !== 'agree').map((s) => `${s.name}: ${s.result} ${s.detail}`);
    expect(differing).toEqual([]);
    expect(detected.agree).toBe(SCENARIOS.length);
  });

  it('the accept queue of listen(2) holds 3 on the guest, as on the profile (spec §1.5)', () => {
    const aq = detected.scenarios.find((s) => s.name === 'aq-backlog2-never')!.comparison!;
    expect(Object.values(aq.kernel!.outcomes).filter((o) => o === 'connected')).toHaveLength(3);
  });

  it('against the plain 6.1 profile (qlen >= backlog) the SYN-queue scenarios differ: verify can disagree', () => {
    expect(wrong.profile).toBe('6.1');
    expect(wrong.profileReason).toContain('--kernel 6.1');
    expect(wrong.scenarios.map((s) => [s.name, s.result])).toEqual(SYN_QUEUE.map((name) => [name, 'differ']));
    for (const s of wrong.scenarios) expect(s.detail).not.toMatch(/^error/);
  });
});

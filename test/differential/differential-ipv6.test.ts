// The differential suite over IPv6 (issue 20, `syndrop verify --family 6`): the same scenarios,
// the host kernel's listener on fd77:3::1 and syndrop --kernel 6.x on fd77::2, clients and
// crafted flows over IPv6. Fails on any disagreement that assets/verify/known-differences.json
// does not list under "differencesIpv6"; scenarios not run on IPv6 must be listed under
// "skippedIpv6" with their reason.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAgreement, formatVerifyTable, runVerify, type VerifyReport } from '../../src/verify/harness.js';
import { loadKnownDifferences, loadScenarios } from '../../src/verify/scenario.js';
import { integrationPrerequisites, TEST_INSTANCE, TEST_PREFIX, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skipReason = await integrationPrerequisites(['ip', 'nstat', 'sysctl', '/usr/bin/python3']);

describe.skipIf(skipReason !== undefined)('differential over IPv6: host kernel vs syndrop --kernel 6.x', () => {
  let report: VerifyReport;

  beforeAll(async () => {
    await testLabUp();
    report = await runVerify({ prefix: TEST_PREFIX, profile: '6.x', instance: `${TEST_INSTANCE}-verify6`, family: 6 });
    console.log(formatVerifyTable(report));
  }, 600_000);

  afterAll(async () => {
    await testLabDown();
  });

  it('every IPv6 difference and skip names an existing scenario and gives its reason', () => {
    const names = new Set(loadScenarios().map((s) => s.name));
    for (const list of ['differencesIpv6', 'skippedIpv6'] as const) {
      for (const known of loadKnownDifferences(undefined, list)) {
        expect(names.has(known.scenario), `${list} names unknown scenario ${known.scenario}`).toBe(true);
        expect(known.reason.length).toBeGreaterThan(10);
      }
    }
  });

  it('the handshake, accept-queue and SYN-queue scenarios all ran over IPv6 (none skipped), with segments captured on both sides', () => {
    const ran = report.scenarios.filter((s) => s.skipped === undefined);
    for (const prefix of ['hs-', 'aq-', 'sq-']) {
      const group = report.scenarios.filter((s) => s.name.startsWith(prefix));
      expect(group.length, prefix).toBeGreaterThan(5);
      expect(group.filter((s) => s.skipped !== undefined).map((s) => s.name), prefix).toEqual([]);
    }
    expect(report.family).toBe(6);
    expect(report.skipped).toBe(report.scenarios.length - ran.length);
    // Both sides were reached over IPv6 (an unreachable server would agree on "nothing").
    const silent = ran.filter((s) => (s.kernel?.segmentCount ?? 0) === 0 || (s.syndrop?.segmentCount ?? 0) === 0).map((s) => s.name);
    expect(silent).toEqual([]);
  });

  it('every disagreement is a listed IPv6 known difference', () => {
    const unexpected = report.scenarios
      .filter((s) => s.skipped === undefined && !s.agree && s.known === null)
      .map((s) => `${s.name}: ${s.error ?? `${s.firstDifference?.stepText}: ${s.firstDifference?.what}: kernel ${JSON.stringify(s.firstDifference?.kernel)} / syndrop ${JSON.stringify(s.firstDifference?.syndrop)} [spec ${s.spec}]`}`);
    console.log(formatAgreement(report));
    expect(unexpected).toEqual([]);
  });

  it('at least 40 scenarios agree with the real kernel over IPv6', () => {
    expect(report.agreed).toBeGreaterThanOrEqual(40);
  });
});

// The differential suite in CI: every scenario against the host's real kernel and against the
// matching profile (6.x). Fails on any disagreement that assets/verify/known-differences.json does not list with
// its reason; prints the agreement figure.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAgreement, formatVerifyTable, runVerify, type VerifyReport } from '../../src/verify/harness.js';
import { loadKnownDifferences, loadScenarios } from '../../src/verify/scenario.js';
import { integrationPrerequisites, TEST_INSTANCE, TEST_PREFIX, testLabDown, testLabUp } from '../helpers/lab-fixture.js';

const skipReason = await integrationPrerequisites(['ip', 'nstat', 'sysctl', '/usr/bin/python3']);

describe.skipIf(skipReason !== undefined)('differential: host kernel vs syndrop --kernel 6.x (assets/verify)', () => {
  let report: VerifyReport;

  beforeAll(async () => {
    await testLabUp();
    report = await runVerify({ prefix: TEST_PREFIX, profile: '6.x', instance: `${TEST_INSTANCE}-verify` });
    console.log(formatVerifyTable(report));
  }, 600_000);

  afterAll(async () => {
    await testLabDown();
  });

  it('has at least 40 scenarios (issue 9)', () => {
    expect(loadScenarios().length).toBeGreaterThanOrEqual(40);
  });

  it('every known difference names an existing scenario and gives its reason', () => {
    const names = new Set(loadScenarios().map((s) => s.name));
    for (const known of loadKnownDifferences()) {
      expect(names.has(known.scenario), `known-differences.json lists unknown scenario ${known.scenario}`).toBe(true);
      expect(known.reason.length).toBeGreaterThan(10);
    }
  });

  it('every disagreement is a listed known difference', () => {
    const unexpected = report.scenarios
      .filter((s) => !s.agree && s.known === null)
      .map((s) => `${s.name}: ${s.error ?? `${s.firstDifference?.stepText}: ${s.firstDifference?.what}: kernel ${JSON.stringify(s.firstDifference?.kernel)} / syndrop ${JSON.stringify(s.firstDifference?.syndrop)} [spec ${s.spec}]`}`);
    console.log(formatAgreement(report));
    expect(unexpected).toEqual([]);
  });

  it('at least 40 scenarios agree with the real kernel', () => {
    expect(report.agreed).toBeGreaterThanOrEqual(40);
  });
});

// `syndrop scenario run NAME --kernel K --json` through the CLI, for the scenario integration
// tests: the verdict table must be all ✓, without error, and the exit code 0.

import { expect } from 'vitest';
import { CLI, TEST_ENV, run } from './lab-fixture.js';

export interface ScenarioRow {
  step: string;
  expected: string;
  observed: string;
  ok: boolean;
  spec: string;
}

export interface ScenarioRunResult {
  scenario: string;
  kernel: string;
  family: 4 | 6;
  ok: boolean;
  rows: ScenarioRow[];
  outcome: { cell: string; facts: Record<string, unknown> };
  error?: string;
}

export async function scenario(name: string, kernel: string, extraArgs: string[] = []): Promise<ScenarioRunResult> {
  const r = await run([process.execPath, CLI, 'scenario', 'run', name, '--kernel', kernel, '--json', '--quiet', ...extraArgs], {
    env: TEST_ENV,
    allowFailure: true,
    timeoutMs: 45_000,
  });
  const where = `${name} @ ${kernel} ${extraArgs.join(' ')}`.trim();
  const result = JSON.parse(r.stdout) as ScenarioRunResult;
  const bad = result.rows.filter((row) => !row.ok).map((row) => `${row.step}: expected ${row.expected}; observed ${row.observed}`);
  expect(result.error, where).toBeUndefined();
  expect(bad, where).toEqual([]);
  expect(result.ok, where).toBe(true);
  expect(r.code, where).toBe(0);
  return result;
}

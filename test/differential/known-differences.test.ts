// assets/verify/known-differences.json as data: the loader the differential suite and
// `syndrop verify` use to accept a listed disagreement. Needs no lab.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKnownDifferences, loadScenarios } from '../../src/verify/scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-known-'));
function file(content: unknown): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('known differences (assets/verify/known-differences.json)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the shipped file loads, and every listed difference names a shipped scenario with its reason', () => {
    const names = new Set(loadScenarios().map((s) => s.name));
    for (const known of loadKnownDifferences()) {
      expect(names.has(known.scenario), `lists unknown scenario ${known.scenario}`).toBe(true);
      expect(known.reason.length).toBeGreaterThan(10);
    }
  });

  it('each difference comes back with its scenario and its reason', () => {
    const path = file({ differences: [{ scenario: 'accept-never-backlog-1', reason: '  the emulator answers from user space  ' }] });
    expect(loadKnownDifferences(path)).toEqual([{ scenario: 'accept-never-backlog-1', reason: 'the emulator answers from user space' }]);
  });

  it('a difference without a reason is an error, not a silently accepted disagreement', () => {
    expect(() => loadKnownDifferences(file({ differences: [{ scenario: 'accept-never-backlog-1', reason: ' ' }] }))).toThrow(/reason/);
    expect(() => loadKnownDifferences(file({ differences: [{ reason: 'no scenario named' }] }))).toThrow(/scenario/);
  });

  it('a malformed or missing file is an error, not an empty list', () => {
    expect(() => loadKnownDifferences(file({ differences: 'none' }))).toThrow(/differences/);
    expect(() => loadKnownDifferences(file('{ not json'))).toThrow();
    expect(() => loadKnownDifferences(join(dir, 'absent.json'))).toThrow();
  });
});

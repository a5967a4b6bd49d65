// Text renderers: the verdict table of one scenario run and the scenarios × kernels matrix.

import { renderTable } from '../../observe/table.js';
import type { MatrixResult } from './runner.js';
import type { ScenarioResult } from './types.js';

const MARK_OK = '✓';
const MARK_BAD = '✗';

export function renderVerdict(result: ScenarioResult): string {
  const lines: string[] = [];
  lines.push(`scenario ${result.scenario}${result.family === 6 ? ' over IPv6' : ''} — kernel ${result.kernel}${result.profileDescription ? ` (${result.profileDescription})` : ''}`);
  lines.push('');
  const rows = result.rows.map((r, i) => [String(i + 1), r.step, `${r.expected} [${r.spec}]`, r.observed, r.ok ? MARK_OK : MARK_BAD]);
  lines.push(renderTable(rows, { head: ['#', 'step', `expected on ${result.kernel} (spec)`, 'observed (wire, counters)', ''], rule: true, widths: [2, 30, 44, 40, 1] }));
  lines.push('');
  if (result.error) lines.push(`error: ${result.error}`);
  const good = result.rows.filter((r) => r.ok).length;
  lines.push(
    `${result.ok ? MARK_OK : MARK_BAD} ${good}/${result.rows.length} steps as the spec predicts for ${result.kernel}; clients: ${result.outcome.cell} (${(result.durationMs / 1000).toFixed(1)} s)`,
  );
  return lines.join('\n');
}

export function renderMatrix(matrix: MatrixResult): string {
  const cellWidth = Math.max(24, Math.min(34, Math.floor(110 / Math.max(1, matrix.kernels.length))));
  const rows = matrix.scenarios.map((scenario) => [
    scenario,
    ...matrix.kernels.map((kernel) => {
      const r = matrix.results.find((x) => x.scenario === scenario && x.kernel === kernel);
      if (!r) return '-';
      return `${r.ok ? MARK_OK : MARK_BAD} ${r.outcome.cell}`;
    }),
  ]);
  const lines = [renderTable(rows, { head: ['scenario', ...matrix.kernels.map((k) => `kernel ${k}`)], rule: true, widths: [17, ...matrix.kernels.map(() => cellWidth)] })];
  const bad = matrix.results.filter((r) => !r.ok);
  lines.push('');
  lines.push(`${MARK_OK} = what the ${matrix.family === 6 ? 'IPv6 ' : ''}clients experienced matches the spec's prediction for that kernel; ${MARK_BAD} = it does not.`);
  for (const r of bad) {
    const failed = r.rows.filter((row) => !row.ok).map((row) => row.step);
    lines.push(`${MARK_BAD} ${r.scenario} @ ${r.kernel}: ${r.error ?? `mismatch in: ${failed.join('; ')}`} (syndrop scenario run ${r.scenario} --kernel ${r.kernel}${matrix.family === 6 ? ' --family 6' : ''})`);
  }
  const total = matrix.results.reduce((s, r) => s + r.durationMs, 0);
  lines.push(`${matrix.results.filter((r) => r.ok).length}/${matrix.results.length} runs as predicted (${(total / 1000).toFixed(0)} s)`);
  return lines.join('\n');
}

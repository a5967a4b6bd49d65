// Text renderers: the verdict table of one scenario run and the scenarios × kernels matrix.

import type { MatrixResult } from './runner.js';
import type { ScenarioResult } from './types.js';

const MARK_OK = '✓';
const MARK_BAD = '✗';

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line.length > 0 && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line.length > 0 ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A plain table with wrapped cells; widths are fixed per column. */
function table(header: string[], rows: string[][], widths: number[]): string {
  const out: string[] = [];
  const render = (cells: string[]) => {
    const wrapped = cells.map((c, i) => wrap(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let l = 0; l < height; l++) {
      out.push(wrapped.map((w, i) => (w[l] ?? '').padEnd(i === wrapped.length - 1 ? 0 : widths[i]!)).join('  ').trimEnd());
    }
  };
  render(header);
  out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const row of rows) render(row);
  return out.join('\n');
}

export function renderVerdict(result: ScenarioResult): string {
  const lines: string[] = [];
  lines.push(`scenario ${result.scenario} — kernel ${result.kernel}${result.profileDescription ? ` (${result.profileDescription})` : ''}`);
  lines.push('');
  const rows = result.rows.map((r, i) => [String(i + 1), r.step, `${r.expected} [${r.spec}]`, r.observed, r.ok ? MARK_OK : MARK_BAD]);
  lines.push(table(['#', 'step', `expected on ${result.kernel} (spec)`, 'observed (wire, counters)', ''], rows, [2, 30, 44, 40, 1]));
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
  const lines = [table(['scenario', ...matrix.kernels.map((k) => `kernel ${k}`)], rows, [17, ...matrix.kernels.map(() => cellWidth)])];
  const bad = matrix.results.filter((r) => !r.ok);
  lines.push('');
  lines.push(`${MARK_OK} = what the clients experienced matches the spec's prediction for that kernel; ${MARK_BAD} = it does not.`);
  for (const r of bad) {
    const failed = r.rows.filter((row) => !row.ok).map((row) => row.step);
    lines.push(`${MARK_BAD} ${r.scenario} @ ${r.kernel}: ${r.error ?? `mismatch in: ${failed.join('; ')}`} (syndrop scenario run ${r.scenario} --kernel ${r.kernel})`);
  }
  const total = matrix.results.reduce((s, r) => s + r.durationMs, 0);
  lines.push(`${matrix.results.filter((r) => r.ok).length}/${matrix.results.length} runs as predicted (${(total / 1000).toFixed(0)} s)`);
  return lines.join('\n');
}

// `syndrop doctor` as text: the header (kernel, profile and why, what was read), then the
// findings in the block layout `syndrop explain` prints.

import { renderFindingBlock } from '../observe/drop-causes.js';
import type { DoctorReport } from './diagnose.js';

export function renderDoctor(report: DoctorReport): string {
  const lines = [
    `syndrop doctor (kernel ${report.kernel ?? 'unknown'}, profile ${report.profile}): ${report.findings.length === 0 ? 'no listen-path problem found' : `${report.findings.length} finding(s)`}`,
    `   Profile:  ${report.profileReason}`,
    `   Read:     ${report.source}${report.intervalSeconds !== null ? `, counters twice ${report.intervalSeconds} s apart` : ', counters once (totals since boot)'}`,
  ];
  for (const note of report.notes) lines.push(`   Note:     ${note}`);
  lines.push('');
  report.findings.forEach((f, i) => lines.push(...renderFindingBlock(f, i)));
  return `${lines.join('\n').trimEnd()}\n`;
}

// The report page: one self-contained HTML file (inline CSS, inline SVG charts, no script, no
// external resource), so it opens from disk, in a mail attachment or on a machine offline.

import type { Problem } from '../observe/explain.js';
import type { Chart } from './charts.js';
import type { ReportInput, ReportSection, ReportVerdictRow, RunRecording } from './recording.js';
import type { SectionSeries } from './series.js';

export interface RenderedSection {
  section: ReportSection;
  series: SectionSeries;
  charts: Chart[];
}

export interface RenderedGroup {
  heading: string;
  description?: string;
  sections: RenderedSection[];
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header,main{padding:0 24px}header{background:#fff;border-bottom:1px solid #ddd;padding-top:8px;padding-bottom:8px}
h1{font-size:20px;margin:6px 0}h2{font-size:17px;margin:28px 0 4px}h3{font-size:15px;margin:0 0 4px}
.command{font-family:ui-monospace,monospace;color:#555;margin:2px 0}
.sections{display:grid;grid-template-columns:repeat(auto-fill,minmax(780px,1fr));gap:16px}
.section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 14px;min-width:0}
.ok{color:#1a7f37}.bad{color:#c62828}.muted{color:#666}
.totals{margin:4px 0 8px;color:#333}.totals b{font-weight:600}
figure{margin:6px 0;overflow-x:auto}figcaption{font-size:12px;color:#666}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0;width:100%}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.finding{border-left:3px solid #c62828;padding:2px 8px;margin:6px 0}.finding.info{border-color:#888}.finding.warning{border-color:#e69500}
.kv td:first-child{font-family:ui-monospace,monospace;white-space:nowrap}
`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

export function reportHtml(input: ReportInput, groups: RenderedGroup[]): string {
  const nav =
    groups.length > 1 ? `<p>${groups.map((g, i) => `<a href="#group-${i}">${e(g.heading)}</a>`).join(' · ')}</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(input.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${e(input.title)}</h1>
<p class="command">${e(input.command)}</p><p class="muted">generated ${e(input.generatedAt)} · time axis: seconds since each section's emulator started; dashed lines are queue limits</p>${nav}</header>
<main>${groups.map(groupHtml).join('\n')}</main></body></html>
`;
}

function groupHtml(group: RenderedGroup, index: number): string {
  return `<section class="group" id="group-${index}"><h2>${e(group.heading)}</h2>${group.description ? `<p class="muted">${e(group.description)}</p>` : ''}
<div class="sections">${group.sections.map(sectionHtml).join('\n')}</div></section>`;
}

function sectionHtml({ section, series, charts }: RenderedSection): string {
  const first = section.recordings[0];
  const mark = section.ok === undefined ? '' : section.ok ? ' <span class="ok">✓</span>' : ' <span class="bad">✗</span>';
  const lanesNote =
    series.lanes === null ? `<p class="muted">${series.clients} clients: too many for per-client lanes.</p>` : '';
  return `<article class="section" data-kernel="${e(first?.kernel.name ?? section.heading)}"${section.ok === undefined ? '' : ` data-ok="${section.ok}"`}>
<h3>${e(section.heading)}${mark}</h3>
${first ? `<p class="muted">${e(first.kernel.description)}</p>` : ''}
${section.summary ? `<p><b>Clients:</b> ${e(section.summary)}</p>` : ''}
${section.error ? `<p class="bad">error: ${e(section.error)}</p>` : ''}
${totalsHtml(series)}
${charts.map((c) => `<figure class="chart" data-chart="${c.kind}">${c.svg}</figure>`).join('\n')}
${lanesNote}
${findingsHtml(section.recordings)}
${section.verdict ? verdictHtml(section.verdict) : ''}
${settingsHtml(section.recordings)}
</article>`;
}

function totalsHtml(series: SectionSeries): string {
  const t = series.totals.traffic;
  const drops = Object.entries(series.totals.drops).sort((a, b) => b[1] - a[1]);
  const dropText = drops.length === 0 ? 'none' : drops.map(([reason, n]) => `${e(reason)} ${n}`).join(', ');
  return `<p class="totals"><b>SYNs in</b> ${t['SYNs in']} · <b>SYN-ACKs</b> ${t['SYN-ACKs out (first)']} (+${t['SYN-ACKs retransmitted']} retransmitted) · <b>cookies</b> ${t['cookies sent']} sent, ${t['cookies validated']} validated · <b>drops</b> ${dropText}</p>`;
}

function findingsHtml(recordings: RunRecording[]): string {
  const findings = recordings.flatMap((r) => r.findings);
  if (findings.length === 0) return '<details open><summary>Explain</summary><p class="muted">no problem found</p></details>';
  return `<details open><summary>Explain (${findings.length})</summary>${findings.map(findingHtml).join('')}</details>`;
}

function findingHtml(p: Problem): string {
  const list = (items: string[]) => (items.length === 0 ? '' : `<ul>${items.map((i) => `<li>${e(i)}</li>`).join('')}</ul>`);
  return `<div class="finding ${p.severity}"><b>${e(p.title)}</b> (${p.count}×, spec ${e(p.spec)})<br>${e(p.what)}<br><span class="muted">rule:</span> ${e(p.rule)}${list(p.evidence)}${p.fix.length ? `<span class="muted">fix:</span>${list(p.fix)}` : ''}</div>`;
}

function verdictHtml(rows: ReportVerdictRow[]): string {
  const body = rows
    .map((r, i) => `<tr><td>${i + 1}</td><td>${e(r.step)}</td><td>${e(r.expected)}</td><td>${e(r.observed)}</td><td class="${r.ok ? 'ok' : 'bad'}">${r.ok ? '✓' : '✗'}</td></tr>`)
    .join('');
  const ok = rows.filter((r) => r.ok).length;
  return `<details open class="verdict"><summary>Verdict: ${ok}/${rows.length} steps as the spec predicts</summary><table><thead><tr><th>#</th><th>step</th><th>expected (spec)</th><th>observed (wire, counters)</th><th></th></tr></thead><tbody>${body}</tbody></table></details>`;
}

function settingsHtml(recordings: RunRecording[]): string {
  return recordings
    .map((r, i) => {
      const settings = Object.entries(r.settings).map(([k, v]) => `<tr><td>${e(k)}</td><td>${e(v)}</td></tr>`).join('');
      const sysctls = r.sysctls.map((s) => `<tr><td>${e(s.name)}</td><td>${s.value}</td></tr>`).join('');
      const part = recordings.length > 1 ? ` — part ${i + 1} (from ${e(r.startedAt)})` : '';
      const lost = r.eventsLost > 0 ? `<p class="muted">${r.eventsLost} early events were overwritten in the ring: counts come from ${r.samples.length} samples.</p>` : '';
      return `<details><summary>Kernel, listener and sysctls${part}</summary>${lost}<table class="kv"><tbody><tr><td>kernel</td><td>${e(r.kernel.name)}: ${e(r.kernel.description)}</td></tr><tr><td>queue limits</td><td>SYN queue ${r.limits.synQueue}, accept queue ${r.limits.acceptQueue}</td></tr>${settings}</tbody></table><table class="kv"><tbody>${sysctls}</tbody></table></details>`;
    })
    .join('');
}

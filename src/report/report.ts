// The one report module every source calls: ReportInput (./recording.ts, plain data) → one
// self-contained HTML file. Groups share their axes: one bucket width, one x domain and one y
// domain per chart kind for all the sections (kernels) of a group.

import { writeFile } from 'node:fs/promises';
import { groupScales, sectionCharts } from './charts.js';
import { reportHtml, type RenderedGroup } from './html.js';
import type { ReportInput } from './recording.js';
import { bucketWidthMs, buildSectionSeries, sectionSpanMs } from './series.js';

export type { ReportInput, ReportGroup, ReportSection, RunRecording, RecordedEvent, RecordedSample } from './recording.js';

export async function renderReport(input: ReportInput): Promise<string> {
  const groups: RenderedGroup[] = [];
  for (const group of input.groups) {
    const recordings = group.sections.flatMap((s) => s.recordings);
    const spanMs = group.sections.reduce((span, s) => Math.max(span, sectionSpanMs(s.recordings)), 0);
    const floorMs = recordings.reduce((floor, r) => Math.max(floor, r.sampleIntervalMs), 1);
    const bucketMs = bucketWidthMs(spanMs, floorMs);
    const series = group.sections.map((s) => buildSectionSeries(s.recordings, bucketMs));
    const scales = groupScales(series);
    const sections = [];
    for (let i = 0; i < group.sections.length; i++) {
      sections.push({ section: group.sections[i]!, series: series[i]!, charts: await sectionCharts(series[i]!, scales) });
    }
    groups.push({ heading: group.heading, description: group.description, sections });
  }
  return reportHtml(input, groups);
}

/** Renders and writes the report; returns its size in bytes. */
export async function writeReport(path: string, input: ReportInput): Promise<number> {
  const html = await renderReport(input);
  await writeFile(path, html);
  return Buffer.byteLength(html);
}

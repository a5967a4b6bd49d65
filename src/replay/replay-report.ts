// `syndrop replay --report FILE`: the replay as the one HTML report every source writes
// (src/report/). Each kernel is a section of one group, so `--kernels 3.10,6.x` shows the
// same capture through each kernel on shared axes, as `scenario matrix --report` does.

import { basename } from 'node:path';
import { endpointPort } from '../observe/endpoint-text.js';
import type { RunRecorder } from '../report/recorder.js';
import type { ReportInput, ReportSection, RunRecording } from '../report/report.js';
import { OUTCOMES, type Outcome } from './outcome.js';
import type { ReplayResult } from './replay-result.js';

/** The recording of one replay, on the capture's clock (virtual 0 = its first packet). */
export function replayRecording(recorder: RunRecorder, result: ReplayResult, capturePath: string, endMs: number): RunRecording {
  const settings = result.settings;
  return recorder.recording(
    endMs,
    {
      capture: basename(capturePath),
      server: result.server,
      port: endpointPort(result.server),
      backlog: String(settings.backlog),
      'accept rate': String(settings.acceptRate),
      app: settings.app,
      connections: String(result.summary.connections),
    },
    result.findings,
  );
}

export function outcomeCounts(counts: Record<Outcome, number>): string {
  return OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${o}`).join(', ') || 'none';
}

function section(result: ReplayResult): ReportSection {
  const s = result.summary;
  return {
    heading: `kernel ${result.kernel}`,
    summary: `${s.connections} connections: ${outcomeCounts(s.emulated)} (the real server: ${outcomeCounts(s.real)}); ${s.diverged} diverged`,
    recordings: result.recording === null ? [] : [result.recording],
  };
}

/** One group: the capture, one section per kernel (the results of one `replay` command). */
export function replayReportInput(results: readonly ReplayResult[], capturePath: string, command: string): ReportInput {
  const first = results[0]!;
  return {
    title: `syndrop replay — ${basename(capturePath)}`,
    command,
    generatedAt: new Date().toISOString(),
    groups: [
      {
        heading: `${basename(capturePath)} → server ${first.server}`,
        description:
          'Open loop: the capture\'s client segments are fed at their capture times; time axis: seconds since the capture\'s first packet.',
        sections: results.map(section),
      },
    ],
  };
}

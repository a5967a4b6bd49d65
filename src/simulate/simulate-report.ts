// `syndrop simulate --report FILE`: the simulation as the one HTML report every source writes
// (src/report/). Every run of the command (each kernel, each value of --sweep) is a section of
// one group, so the kernels of a grid compare on shared axes, as `scenario matrix --report` does.

import { explain } from '../observe/explain.js';
import { hostExplainInput } from '../observe/snapshot.js';
import type { RunRecorder } from '../report/recorder.js';
import type { ReportInput, ReportSection, RunRecording } from '../report/report.js';
import type { Host } from '../stack/host.js';
import type { SimulateResult } from './simulate-result.js';

/** The recording of one simulation, with `explain`'s findings at its end. */
export function simulateRecording(recorder: RunRecorder, result: SimulateResult, host: Host, startWallMs: number, endMs: number): RunRecording {
  const set = result.settings;
  const findings = explain(hostExplainInput(host, startWallMs));
  return recorder.recording(
    endMs,
    {
      port: '80',
      backlog: String(set.backlog),
      'accept rate': String(set.acceptRate),
      workload: `${set.synRate} SYN/s ${set.arrivals} for ${set.durationMs / 1000} s, RTT ${set.rttMs} ms`,
      clients: `kernel ${set.clientKernel}, tcp_syn_retries ${set.synRetries}`,
      'spoofed flood': set.floodRate > 0 ? `${set.floodRate} SYN/s` : 'none',
      seed: String(set.seed),
    },
    findings,
  );
}

function section(label: string, result: SimulateResult): ReportSection {
  const s = result.summary;
  return {
    heading: label,
    summary: `${s.clients} clients: ${s.connected} connected (${s.ghosts} ghosts), ${s.reset} reset, ${s.timedOut} timed out — ${s.failedPercent}% failed`,
    recordings: result.recording === null ? [] : [result.recording],
  };
}

/** One group, one section per run of the grid, in the order they ran. */
export function simulateReportInput(runs: ReadonlyArray<{ label: string; result: SimulateResult }>, command: string): ReportInput {
  const first = runs[0]!.result.settings;
  return {
    title: 'syndrop simulate',
    command,
    generatedAt: new Date().toISOString(),
    groups: [
      {
        heading: `${first.synRate} SYN/s for ${first.durationMs / 1000} s${first.floodRate > 0 ? ` under a ${first.floodRate} SYN/s spoofed flood` : ''}`,
        description: 'Virtual time: seconds since the simulation started.',
        sections: runs.map(({ label, result }) => section(label, result)),
      },
    ],
  };
}

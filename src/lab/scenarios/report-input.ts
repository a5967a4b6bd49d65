// Scenario results → the report's input: one group per scenario, one section per kernel in the
// order asked for, so the kernels of a story sit side by side on the same axes.

import type { ReportGroup, ReportInput } from '../../report/recording.js';
import { scenarioByName } from './registry.js';
import type { ScenarioResult } from './types.js';

export function scenarioReportInput(results: readonly ScenarioResult[], command: string): ReportInput {
  const names = [...new Set(results.map((r) => r.scenario))];
  const groups: ReportGroup[] = names.map((name) => {
    const scenario = scenarioByName(name);
    return {
      heading: name,
      description: `${scenario.summary} (spec ${scenario.spec})`,
      sections: results
        .filter((r) => r.scenario === name)
        .map((r) => ({
          heading: `kernel ${r.kernel}`,
          summary: r.outcome.cell,
          ok: r.ok,
          recordings: r.recordings ?? [],
          verdict: r.rows,
          ...(r.error === undefined ? {} : { error: r.error }),
        })),
    };
  });
  const kernels = [...new Set(results.map((r) => r.kernel))];
  const title = names.length === 1 ? `syndrop scenario ${names[0]} — kernel ${kernels.join(' vs ')}` : `syndrop scenario matrix — kernels ${kernels.join(', ')}`;
  return { title, command, generatedAt: new Date().toISOString(), groups };
}

/** The result as --json prints it: the recordings go to the report, not to stdout. */
export function withoutRecordings(result: ScenarioResult): ScenarioResult {
  const { recordings: _recordings, ...rest } = result;
  return rest;
}

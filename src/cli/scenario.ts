// `syndrop scenario list|run|matrix`: the drop stories end to end with real clients.

import type { Command } from 'commander';
import { SCENARIOS } from '../lab/scenarios/registry.js';
import { renderMatrix, renderVerdict } from '../lab/scenarios/render.js';
import { DEFAULT_MATRIX_KERNELS, runMatrix, runScenario } from '../lab/scenarios/runner.js';
import { silentProgress, stderrProgress } from '../lab/scenarios/progress.js';
import { scenarioReportInput, withoutRecordings } from '../lab/scenarios/report-input.js';
import { parseFamily } from '../lab/scenarios/family.js';
import { printJson } from './common.js';
import { commandLine, reportPath, writeReportFile } from './report-file.js';

const FAMILY_HELP = "the clients' IP family: 4, or 6 (curl -6, IPv6 sockets, spoofed IPv6 SYNs; emulator --family 6)";
const REPORT_HELP = 'write an HTML timeline report (queues, drops by reason, per-client lanes, verdict) to this file';

interface RunFlags {
  kernel: string;
  json?: boolean;
  realTiming?: boolean;
  quiet?: boolean;
  report?: string;
  family: string;
}

interface MatrixFlags {
  kernels: string;
  scenarios?: string;
  json?: boolean;
  realTiming?: boolean;
  quiet?: boolean;
  report?: string;
  family: string;
}

export function registerScenario(program: Command): void {
  const scenario = program
    .command('scenario')
    .description('run a drop story end to end with real clients in the lab and compare with the spec (list, run, matrix)');

  scenario
    .command('list')
    .description('list the scenarios')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) return printJson(SCENARIOS.map((s) => ({ name: s.name, summary: s.summary, spec: s.spec })));
      const width = Math.max(...SCENARIOS.map((s) => s.name.length));
      for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(width)}  ${s.summary} (spec ${s.spec})\n`);
    });

  scenario
    .command('run')
    .description('run one scenario against one kernel profile and print its verdict table (exit 0 when everything matched)')
    .argument('<name>', `scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('-k, --kernel <version>', 'kernel profile (version or alias)', '6.x')
    .option('--json', 'print the verdict table as JSON')
    .option('--real-timing', "keep the clients' Linux default SYN retries and long timeouts (slow)")
    .option('--family <4|6>', FAMILY_HELP, '4')
    .option('--report <file>', REPORT_HELP)
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (name: string, options: RunFlags) => {
      const family = parseFamily(options.family);
      const progress = options.quiet ? silentProgress() : stderrProgress();
      const report = options.report === undefined ? null : reportPath(options.report);
      const result = await runScenario(name, options.kernel, { realTiming: options.realTiming, progress, record: report !== null, family });
      if (report !== null) await writeReportFile(report, scenarioReportInput([result], commandLine()));
      if (options.json) printJson(withoutRecordings(result));
      else process.stdout.write(`${renderVerdict(result)}\n`);
      process.exitCode = result.ok ? 0 : 1;
    });

  scenario
    .command('matrix')
    .description('run every scenario against several kernels: rows = scenarios, columns = kernels, cells = what clients experienced')
    .option('--kernels <list>', 'comma-separated kernel profiles', DEFAULT_MATRIX_KERNELS.join(','))
    .option('--scenarios <list>', 'comma-separated scenarios (default: all)')
    .option('--json', 'print every verdict table as JSON')
    .option('--real-timing', "keep the clients' Linux default SYN retries and long timeouts (slow)")
    .option('--family <4|6>', FAMILY_HELP, '4')
    .option('--report <file>', `${REPORT_HELP}: one section per kernel, on the same axes`)
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (options: MatrixFlags) => {
      const family = parseFamily(options.family);
      const progress = options.quiet ? silentProgress() : stderrProgress();
      const kernels = options.kernels.split(',').map((k) => k.trim()).filter(Boolean);
      const names = options.scenarios ? options.scenarios.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      const report = options.report === undefined ? null : reportPath(options.report);
      const matrix = await runMatrix(kernels, names, { realTiming: options.realTiming, progress, record: report !== null, family });
      if (report !== null) await writeReportFile(report, scenarioReportInput(matrix.results, commandLine()));
      if (options.json) printJson({ ...matrix, results: matrix.results.map(withoutRecordings) });
      else process.stdout.write(`${renderMatrix(matrix)}\n`);
      process.exitCode = matrix.ok ? 0 : 1;
    });
}

// `syndrop simulate`: capacity what-ifs in virtual time, one run or a grid.

import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { resolveProfile } from '../profiles/resolve.js';
import { simulateGrid } from '../offline/grid-pool.js';
import type { SimulateOptions } from '../simulate/simulate.js';
import { simulateReportInput } from '../simulate/simulate-report.js';
import { simulateJson } from '../simulate/simulate-result.js';
import { renderGrid, renderSimulation, seriesCsv } from '../simulate/simulate-text.js';
import { parseNat, parseRtt } from '../simulate/workload.js';
import { collect, parseInteger, parseNonNegativeInt, printJson } from './common.js';
import { JOBS_OPTION } from './grid-jobs.js';
import { commandLine, reportPath, writeReportFile } from './report-file.js';

interface SimulateCliOptions {
  kernel: string;
  kernels?: string;
  sysctl: string[];
  backlog: number;
  acceptRate?: number;
  synRate: number;
  clients?: number;
  arrivals: string;
  rtt: string;
  clientKernel: string;
  synRetries: number;
  floodRate: number;
  nat?: string;
  duration: number;
  bucket: number;
  seed: number;
  sweep?: string;
  json?: boolean;
  csv?: boolean;
  report?: string;
  jobs?: number;
}

/** Settings --sweep may vary, and the option each one overrides. */
const SWEEPABLE = { backlog: 'backlog', 'accept-rate': 'acceptRate', 'syn-rate': 'synRate', 'flood-rate': 'floodRate' } as const;
/** A bound on the work one run may take: clients and spoofed SYNs in the arrival window. */
const MAX_ARRIVALS = 20_000_000;

function parseSweep(text: string): { name: keyof typeof SWEEPABLE; values: number[] } {
  const match = /^([a-z-]+)=(\d+(?:,\d+)*)$/.exec(text.trim());
  if (match === null || !(match[1]! in SWEEPABLE)) throw usageError(`--sweep ${text}: expected NAME=v1,v2,… with NAME one of ${Object.keys(SWEEPABLE).join(', ')}`);
  return { name: match[1] as keyof typeof SWEEPABLE, values: match[2]!.split(',').map(Number) };
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a workload against a kernel profile in virtual time (capacity what-ifs)')
    .option('-k, --kernel <version>', 'kernel profile (a version or alias)', '6.x')
    .option('--kernels <list>', 'several kernel profiles, one row each, e.g. 3.10,6.x')
    .option('-o, --sysctl <name=value>', 'override a sysctl (repeatable)', collect, [])
    .option('-b, --backlog <n>', 'listen() backlog', parseInteger('--backlog'), 128)
    .option('--accept-rate <n>', 'accept() calls per second (0 = never; default: at once)', parseNonNegativeInt('--accept-rate'))
    .option('--syn-rate <n>', 'legitimate connection attempts per second', parseNonNegativeInt('--syn-rate'), 100)
    .option('--clients <n>', 'stop arrivals after this many clients', parseNonNegativeInt('--clients'))
    .option('--arrivals <kind>', 'poisson or uniform', 'poisson')
    .option('--rtt <ms>', 'round-trip time: MS, or MIN-MAX drawn per client', '1')
    .option('--client-kernel <version>', 'client kernel: its SYN retransmit schedule and when it gives up (6.5+: five 1 s retries first); behind --nat, 4.10 gives each connection its own timestamp clock', '6.8')
    .option('--syn-retries <n>', "clients' net.ipv4.tcp_syn_retries", parseNonNegativeInt('--syn-retries'), 6)
    .option('--flood-rate <n>', 'spoofed SYNs per second (never answered)', parseNonNegativeInt('--flood-rate'), 0)
    .option('--nat <[addresses:]hosts>', 'clients behind NAT: HOSTS hosts (each its own timestamp clock) share each of ADDRESSES addresses (default 1); the application then closes first (FIN, TIME_WAIT on the server), for tcp_tw_recycle what-ifs')
    .option('--duration <s>', 'seconds of arrivals (clients still trying are followed to their end)', parseNonNegativeInt('--duration'), 10)
    .option('--bucket <ms>', 'time series bucket', parseNonNegativeInt('--bucket'), 1000)
    .option('--seed <n>', 'seed: the same seed gives the same run', parseNonNegativeInt('--seed'), 1)
    .option('--sweep <name=values>', `run a grid over one setting: ${Object.keys(SWEEPABLE).join(', ')} (e.g. backlog=128,1024,4096)`)
    .option('--json', 'JSON: settings, summary, drops by reason, counters, series (an array for a grid)')
    .option('--csv', 'the time series as CSV')
    .option('--report <file>', 'write an HTML timeline report (queues, drops by reason, explain): one section per run of the grid, on the same axes')
    .option(...JOBS_OPTION)
    .action(async (options: SimulateCliOptions) => {
      const kernels = (options.kernels ?? options.kernel).split(',').map((k) => k.trim()).filter((k) => k !== '');
      for (const kernel of kernels) resolveProfile(kernel);
      if (options.arrivals !== 'poisson' && options.arrivals !== 'uniform') throw usageError(`--arrivals ${options.arrivals}: choose poisson or uniform`);
      if (options.bucket < 1) throw usageError('--bucket must be at least 1 ms');
      const rtt = parseRtt(options.rtt);
      const sweep = options.sweep === undefined ? null : parseSweep(options.sweep);
      const report = options.report === undefined ? null : reportPath(options.report);
      const base: SimulateOptions = {
        kernel: kernels[0]!,
        sysctls: options.sysctl,
        backlog: options.backlog,
        acceptRate: options.acceptRate ?? Infinity,
        seed: options.seed,
        bucketMs: options.bucket,
        synRate: options.synRate,
        maxClients: options.clients ?? Infinity,
        arrivals: options.arrivals,
        rttMinMs: rtt.min,
        rttMaxMs: rtt.max,
        clientKernel: options.clientKernel,
        synRetries: options.synRetries,
        floodRate: options.floodRate,
        nat: options.nat === undefined ? null : parseNat(options.nat),
        durationMs: options.duration * 1000,
        ...(report === null ? {} : { recordStartWallMs: Date.now() }),
      };
      const cells: Array<{ label: string; options: SimulateOptions }> = [];
      for (const kernel of kernels) {
        for (const value of sweep?.values ?? [null]) {
          const cell = { ...base, kernel };
          if (sweep !== null && value !== null) cell[SWEEPABLE[sweep.name]] = value;
          const label = [kernels.length > 1 || sweep !== null ? `kernel ${kernel}` : '', sweep !== null ? `${sweep.name}=${value}` : ''].filter((s) => s !== '').join(' ') || `kernel ${kernel}`;
          const arrivals = (Math.min(cell.synRate * options.duration, cell.maxClients) + cell.floodRate * options.duration);
          if (arrivals > MAX_ARRIVALS) throw usageError(`${label}: ${arrivals} arrivals in ${options.duration} s is more than one run may take (${MAX_ARRIVALS}): shorten --duration or lower the rates`);
          cells.push({ label, options: cell });
        }
      }
      const results = await simulateGrid(cells.map((cell) => cell.options), options.jobs);
      const runs = cells.map(({ label }, i) => ({ label, result: results[i]! }));
      if (options.json) printJson(runs.length === 1 ? simulateJson(runs[0]!.result) : runs.map(({ label, result }) => ({ run: label, ...simulateJson(result) })));
      else if (options.csv) process.stdout.write(seriesCsv(runs));
      else if (runs.length === 1) process.stdout.write(renderSimulation(runs[0]!.result));
      else process.stdout.write(renderGrid(runs));
      if (report !== null) await writeReportFile(report, simulateReportInput(runs, commandLine()));
    });
}

// `syndrop stats`: counters like nstat (deltas since the last call), netstat -s, Prometheus.

import type { Command } from 'commander';
import { request } from '../control/client.js';
import { endpointText } from '../observe/endpoint-text.js';
import { renderNetstat } from '../observe/netstat.js';
import { renderNstat } from '../observe/nstat.js';
import { renderPrometheus } from '../observe/prom.js';
import { computeDeltas, StatsHistory } from '../observe/stats-history.js';
import { controlPathOf, printJson, withControlOptions, type ControlOptions } from './common.js';

interface StatsOptions extends ControlOptions {
  json?: boolean;
  zeros?: boolean;
  absolute?: boolean;
  reset?: boolean;
  noUpdate?: boolean;
  netstat?: boolean;
  prom?: boolean;
}

export function registerStats(program: Command): void {
  withControlOptions(
    program
      .command('stats')
      .description('counters of the running instance, nstat style: deltas since the last call (history kept per instance)')
      .argument('[patterns...]', 'shell globs on counter names, e.g. TcpExtListen*')
      .option('-z, --zeros', 'show counters that are zero')
      .option('-a, --absolute', 'absolute values since start, ignoring the history')
      .option('-r, --reset', 'forget the history: print absolute values and start deltas from now')
      .option('-s, --no-update', 'do not update the history')
      .option('--json', 'one JSON object: counter name → absolute value')
      .option('--netstat', 'print as `netstat -s` does (absolute values)')
      .option('--prom', 'Prometheus text exposition (absolute values)'),
  ).action(async (patterns: string[], options: StatsOptions & { update?: boolean }) => {
    const path = controlPathOf(options);
    const reply = await request(path, 'stats', {});
    if (options.json) return printJson(reply.counters);
    if (options.netstat) return void process.stdout.write(renderNetstat(reply.counters));
    if (options.prom) {
      const listener = reply.listeners[0];
      process.stdout.write(
        renderPrometheus(
          reply.counters,
          { profile: reply.profile, listener: listener ? endpointText(listener.localAddress, listener.localPort) : undefined },
          listener
            ? {
                acceptQueueLength: listener.acceptQueueLength,
                acceptQueueMax: listener.acceptQueueMax,
                synQueueLength: listener.synQueueLength,
                synQueueMax: listener.synQueueMax,
              }
            : undefined,
          reply.dropsByReason,
        ),
      );
      return;
    }
    const history = new StatsHistory(path.replace(/\.sock$/, '') + '.nstat');
    const previous = options.absolute || options.reset ? null : history.load();
    // A history from another run of the instance (it restarted) is not a baseline.
    const baseline = previous !== null && previous.source === reply.startedAt ? previous : null;
    let values = reply.counters;
    let rates: Record<string, number> | undefined;
    let overflow: Set<string> | undefined;
    if (baseline !== null) {
      const d = computeDeltas(reply.counters, baseline.values, (reply.time - baseline.time) / 1000);
      values = d.deltas;
      rates = d.rates;
      overflow = d.overflow;
    }
    process.stdout.write(renderNstat(values, { showZeros: options.zeros, patterns, rates, overflow }));
    if (options.update !== false && !options.absolute) history.save(reply.counters, reply.time, reply.startedAt);
  });
}

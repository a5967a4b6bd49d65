// `syndrop run`: the emulated server in the foreground, on the lab's TUN.

import type { Command } from 'commander';
import { APP_NAMES } from '../app/handlers.js';
import { usageError } from '../errors.js';
import { Instance } from '../server/instance.js';
import { requireRoot } from '../lab/lab.js';
import { labTopology, EMULATED_HOST, EMULATED_HOST6 } from '../lab/topology.js';
import { resolveProfile } from '../profiles/resolve.js';
import { deferAcceptSeconds } from '../stack/defer-accept.js';
import type { ListenFamilies } from '../stack/state.js';
import { singleRunReport } from '../report/recording.js';
import { commandLine, reportPath, writeReportFile } from './report-file.js';
import { collect, controlPathOf, parseInteger, parseNonNegativeInt, parsePort, withControlOptions, type ControlOptions } from './common.js';

interface RunOptions extends ControlOptions {
  kernel?: string;
  sysctl?: string[];
  port: number;
  app: string;
  backlog: number;
  acceptRate?: number;
  netns?: string;
  dev?: string;
  address: string;
  address6: string;
  family: string;
  bind: string;
  deferAccept: number;
  pcap?: string;
  pcapMax?: number;
  seed?: number;
  quiet?: boolean;
  report?: string;
}

export function registerRun(program: Command): void {
  withControlOptions(
    program
      .command('run')
      .description('run the emulated server on the lab TUN device, in the foreground (Ctrl-C stops it)')
      .option('-k, --kernel <version>', 'kernel profile: a version (3.10, 4.4, 4.10, 5.4, 6.x …) or alias (centos7, ubuntu20.04 …)', '6.x')
      .option('-o, --sysctl <name=value>', 'override a sysctl, e.g. net.ipv4.tcp_syncookies=0 (repeatable)', collect, [])
      .option('-p, --port <port>', 'listening port', parsePort, 80)
      .option('--app <name>', `application: ${APP_NAMES.join(', ')}`, 'http')
      .option('-b, --backlog <n>', 'listen() backlog (clamped to net.core.somaxconn)', parseInteger('--backlog'), 128)
      .option('--accept-rate <n>', 'accept() calls per second (0 = never accept; default: at once)', parseNonNegativeInt('--accept-rate'))
      .option('--netns <name>', 'network namespace holding the TUN device (default: the lab server, sd-srv)')
      .option('--dev <name>', 'TUN device name (default: sd0)')
      .option('--address <ipv4>', 'address of the emulated host', EMULATED_HOST)
      .option('--address6 <ipv6>', 'IPv6 address of the emulated host', EMULATED_HOST6)
      .option('--family <4|6|both>', 'families the listener answers: 4 (0.0.0.0), 6 (IPV6_V6ONLY [::]) or both (dual-stack [::])', 'both')
      .option('--bind <ipv4>', "the listener's bind(2) address: 0.0.0.0 (any, as most servers) or the host's address", '0.0.0.0')
      .option('--defer-accept <seconds>', 'TCP_DEFER_ACCEPT on the listener: bare third ACKs are dropped until data or the deferral ends', parseNonNegativeInt('--defer-accept'), 0)
      .option('--pcap <file>', 'write every frame in and out to a pcapng file (drops carry a comment)')
      .option('--pcap-max <MB>', 'rotate the capture at this size (keeps 10 files)', parseNonNegativeInt('--pcap-max'))
      .option('--seed <n>', 'seed for ISNs, cookie keys and clocks (reproducible runs)', parseNonNegativeInt('--seed'))
      .option('--report <file>', 'at stop, write an HTML timeline report (queues, drops, per-client lanes, explain)')
      .option('-q, --quiet', 'do not print the startup summary'),
  ).action(async (options: RunOptions) => {
    const profile = resolveProfile(options.kernel);
    if (!APP_NAMES.includes(options.app as never)) throw usageError(`--app ${options.app}: choose one of ${APP_NAMES.join(', ')}`);
    const report = options.report === undefined ? null : reportPath(options.report);
    if (!['4', '6', 'both'].includes(options.family)) throw usageError(`--family ${options.family}: choose 4, 6 or both`);
    requireRoot();
    const topology = labTopology();
    const instance = await Instance.start({
      profile,
      sysctlOverrides: options.sysctl ?? [],
      address: options.address,
      address6: options.address6,
      family: options.family as ListenFamilies,
      port: options.port,
      backlog: options.backlog,
      bind: options.bind,
      deferAccept: options.deferAccept,
      app: options.app,
      acceptRate: options.acceptRate === undefined ? Infinity : options.acceptRate,
      device: options.dev ?? topology.tun.name,
      netns: options.netns ?? topology.tun.netns,
      controlPath: controlPathOf(options),
      pcapPath: options.pcap ?? null,
      pcapMaxBytes: (options.pcapMax ?? 0) * 1024 * 1024,
      seed: options.seed,
    });
    const listener = instance.host.listeners[0]!;
    if (!options.quiet) {
      const rate = options.acceptRate === undefined ? 'at once' : options.acceptRate === 0 ? 'never' : `${options.acceptRate}/s`;
      process.stderr.write(
        `syndrop: kernel ${profile.name} (${profile.description})\n` +
          `syndrop: listening on ${options.bind}:${options.port} (host ${options.address}, ${options.address6}; family ${options.family}) app=${options.app} backlog ${options.backlog} → ` +
          `accept queue ${listener.maxAckBacklog} (+1), SYN queue ${listener.synQueueCapacity(profile.switches)}; accept ${rate}` +
          `${listener.deferAcceptRetrans > 0 ? `; TCP_DEFER_ACCEPT ${options.deferAccept} s (reads back ${deferAcceptSeconds(listener.deferAcceptRetrans)} s = ${listener.deferAcceptRetrans} SYN-ACK retransmits)` : ''}\n` +
          `syndrop: TUN ${options.dev ?? topology.tun.name} in ${options.netns ?? topology.tun.netns} (${instance.tunIoMode === 'uring' ? 'write batches through io_uring' : 'a write() per frame'}); control ${instance.controlPath}` +
          `${options.pcap ? `; capture ${options.pcap}` : ''}\n`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const stop = (signal: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const recording = report === null ? null : instance.recording();
        void instance.stop().then(async () => {
          if (!options.quiet) process.stderr.write(`syndrop: stopped (${signal})\n`);
          if (recording !== null) await writeReportFile(report!, singleRunReport(recording, commandLine()));
        }).then(resolve, reject);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  });
}

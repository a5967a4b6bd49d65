// Live mode: the host's own kernel, in the current network namespace or a named one. Counters,
// listeners, sysctls and tcp_metrics are per network namespace, so they are read inside it
// (`ip netns exec NAME …`); the kernel release and the kernel log are host-wide. Read-only:
// every command here only reads.

import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, runInNetns } from '../lab/exec.js';
import { SyndropError } from '../errors.js';
import type { Capture, CaptureKind } from './captures.js';

export interface LiveOptions {
  netns?: string;
  intervalSeconds: number;
}

interface Source {
  file: string;
  kind: CaptureKind;
  /** argv run in the namespace; the first that succeeds wins. */
  argv: string[][];
  /** Host-wide: never run through `ip netns exec`. */
  hostWide?: boolean;
}

const COUNTER_FILES: readonly Source[] = [
  { file: 'proc-net-netstat', kind: 'proc-counters', argv: [['cat', '/proc/net/netstat']] },
  { file: 'proc-net-snmp', kind: 'proc-counters', argv: [['cat', '/proc/net/snmp']] },
];

const ONCE: readonly Source[] = [
  { file: 'ss-ltn.txt', kind: 'ss', argv: [['ss', '-ltn']] },
  { file: 'sysctl-a.txt', kind: 'sysctl', argv: [['sysctl', '-a']] },
  { file: 'ip-tcp_metrics.txt', kind: 'tcp-metrics', argv: [['ip', 'tcp_metrics', 'show']] },
  { file: 'dmesg.txt', kind: 'kernel-log', argv: [['dmesg'], ['journalctl', '-k', '--no-pager', '-q', '-o', 'short-monotonic']], hostWide: true },
];

async function capture(source: Source, options: LiveOptions, later: boolean, notes: string[]): Promise<Capture | null> {
  const reasons: string[] = [];
  for (const argv of source.argv) {
    try {
      const inNetns = options.netns !== undefined && !source.hostWide;
      // sysctl -a exits non-zero for keys it may not read, after printing the rest.
      const result = inNetns ? await runInNetns(options.netns!, argv, { allowFailure: true }) : await run(argv, { allowFailure: true });
      const file = later ? `${source.file}.later` : source.file;
      if (result.code === 0 || (argv[0] === 'sysctl' && result.stdout.trim() !== '')) return { file, kind: source.kind, text: result.stdout, later };
      reasons.push(`${argv.join(' ')}: ${result.stderr.trim().split('\n')[0] || `exit code ${result.code}`}`);
    } catch (error) {
      reasons.push(error instanceof SyndropError ? error.message : String(error));
    }
  }
  notes.push(`could not read ${source.file.replace(/\.txt$/, '')}: ${reasons.join('; ')}`);
  return null;
}

async function netnsExists(name: string): Promise<boolean> {
  try {
    await readFile(`/run/netns/${name}`);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Everything doctor reads from a live host, as captures (the same files --collect writes). */
export async function captureLive(options: LiveOptions): Promise<{ captures: Capture[]; notes: string[] }> {
  if (options.netns !== undefined && !(await netnsExists(options.netns))) {
    throw new SyndropError('SYNDROP_ERR_USAGE', `--netns ${options.netns}: no such network namespace (ip netns list)`);
  }
  const notes: string[] = [];
  const captures: Capture[] = [{ file: 'uname-r.txt', kind: 'uname', text: `${release()}\n`, later: false }];
  try {
    captures.push({ file: 'os-release', kind: 'os-release', text: await readFile('/etc/os-release', 'utf8'), later: false });
  } catch {
    notes.push('could not read /etc/os-release: distro unknown');
  }
  const readCounters = async (later: boolean): Promise<void> => {
    for (const source of COUNTER_FILES) {
      const got = await capture(source, options, later, notes);
      if (got) captures.push(got);
    }
  };
  const started = process.hrtime.bigint();
  await readCounters(false);
  for (const source of ONCE) {
    const got = await capture(source, options, false, notes);
    if (got) captures.push(got);
  }
  if (options.intervalSeconds > 0) {
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    await sleep(Math.max(0, options.intervalSeconds * 1000 - elapsedMs));
    const measured = Number(process.hrtime.bigint() - started) / 1e9;
    await readCounters(true);
    captures.push({ file: 'interval.txt', kind: 'interval', text: `${measured.toFixed(3)}\n`, later: false });
  }
  return { captures, notes };
}

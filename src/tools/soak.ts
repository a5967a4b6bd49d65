// `make soak` (issue 10): 10,000 real connections against `syndrop run --app echo` in the lab,
// from several concurrent clients (c1 and c2 behind the NAT, c3 direct), each sending a random
// payload of 1 B–64 KiB and checking the echo byte for byte (assets/python/soak_client.py, Python
// stdlib, run with `ip netns exec`). At the end `syndrop ss -a` must show no socket but
// TIME_WAIT, and the process must still answer. Before the soak, 1 M random and malformed
// frames (sdgen garbage, bounded) go through the TUN: every frame read is accounted for.
//
//   node dist/tools/soak.js [--garbage 1000000] [--connections 10000] [--concurrency 8] [--max-bytes 65536] [--seed 1] [--json]
//
// Lab prefix and instance from SYNDROP_LAB_PREFIX / SYNDROP_INSTANCE. A lab this tool creates is
// removed at the end. Exit 0: 0 mismatches, 0 errors, 0 stuck; 1 otherwise.

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { request } from '../control/client.js';
import { startRunChild, type RunChild } from '../io/run-child.js';
import { runInNetns } from '../lab/exec.js';
import { EMULATED_HOST } from '../lab/topology.js';
import { toolOptionsOrExit, type ToolOptions } from './tool-args.js';
import { openToolLab } from './tool-lab.js';
import { assetPath, BIN_DIR, PYTHON } from '../assets.js';

const CLIENT = assetPath('python', 'soak_client.py');
const CLIENT_NODES = ['c1', 'c2', 'c3'] as const;

export interface SoakOptions {
  connections: number;
  concurrency: number;
  minBytes: number;
  maxBytes: number;
  seed: number;
  prefix?: string;
  instance?: string;
  manageLab?: boolean;
  /** Random/malformed frames sent through the TUN first (sdgen garbage, bounded); 0 = none. */
  garbage?: number;
  /** Per-connection socket timeout in the client (s): longer is "stuck". */
  timeoutSeconds?: number;
}

interface ClientReport {
  connections: number;
  ok: number;
  mismatches: number;
  errors: number;
  stuck: number;
  bytes: number;
  seconds: number;
  firstErrors: string[];
}

export interface SoakReport {
  connections: number;
  ok: number;
  mismatches: number;
  errors: number;
  stuck: number;
  bytesEchoed: number;
  seconds: number;
  connectionsPerSec: number;
  /** Payload bytes each way per second (the echo doubles what crosses the TUN). */
  mbPerSec: number;
  clients: Record<string, ClientReport>;
  /** Sockets `ss -a` still shows at the end, by state (TIME_WAIT allowed). */
  leftoverStates: Record<string, number>;
  counters: Record<string, number>;
  /** The garbage phase: frames sent, frames the emulator read, accepted + rejected by reason. */
  garbage: { sent: number; read: number; accepted: number; rejected: Record<string, number>; accountedExactly: boolean; echoAfter: string } | null;
  runAlive: boolean;
  ok_: boolean;
  problems: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SDGEN = join(BIN_DIR, 'sdgen');

/** sdgen garbage from c3 through the router into the TUN; every frame read must be accounted for. */
async function garbagePhase(count: number, prefix: string, controlPath: string, seed: number): Promise<NonNullable<SoakReport['garbage']>> {
  const stats = async () => (await request(controlPath, 'stats', {}, { timeoutMs: 10_000 })).counters;
  const before = await stats();
  const seconds = Math.min(120, Math.max(10, Math.ceil(count / 20_000)));
  const gen = await runInNetns(`${prefix}-c3`, [SDGEN, 'garbage', '--dst', EMULATED_HOST, '--dport', '80', '--count', String(count), '--seconds', String(seconds), '--seed', String(seed)], {
    timeoutMs: (seconds + 30) * 1000,
  });
  const sent = (JSON.parse(gen.stdout.trim().split('\n').pop() ?? '{}') as { sent?: number }).sent ?? 0;
  await sleep(1000);
  const after = await stats();
  const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
  const rejected: Record<string, number> = {};
  for (const name of Object.keys(after)) {
    if (!name.startsWith('SyndropRx') || ['SyndropRxFrames', 'SyndropRxAccepted', 'SyndropRxSyn'].includes(name)) continue;
    rejected[name.slice('SyndropRx'.length)] = delta(name);
  }
  const read = delta('SyndropRxFrames');
  const accepted = delta('SyndropRxAccepted');
  const total = Object.values(rejected).reduce((a, b) => a + b, 0);
  // The app is echo, not http: "still serves" = one more connection echoes byte for byte.
  const after1 = await runInNetns(`${prefix}-c3`, [PYTHON, CLIENT, EMULATED_HOST, '80', '1', '1', String(seed), '1000', '1000', '10'], { allowFailure: true, timeoutMs: 30_000 });
  let echoAfter = 'failed';
  try {
    echoAfter = (JSON.parse(after1.stdout.trim()) as ClientReport).ok === 1 ? 'ok' : 'failed';
  } catch {
    // stays 'failed'
  }
  return { sent, read, accepted, rejected, accountedExactly: accepted + total === read, echoAfter };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const lab = await openToolLab(options, 'soak');
  const { prefix, env, controlPath } = lab;
  let run: RunChild | null = null;
  try {
    run = await startRunChild(['-q', '--kernel', '6.x', '--app', 'echo', '--backlog', '1024', '--seed', '3'], { env, controlPath });
    const child = run.child;
    const garbage = (options.garbage ?? 0) > 0 ? await garbagePhase(options.garbage!, prefix, controlPath, options.seed) : null;
    const share = (i: number) => Math.floor(options.connections / CLIENT_NODES.length) + (i < options.connections % CLIENT_NODES.length ? 1 : 0);
    const timeout = options.timeoutSeconds ?? 30;
    const started = performance.now();
    const results = await Promise.all(
      CLIENT_NODES.map(async (node, i) => {
        const r = await runInNetns(
          `${prefix}-${node}`,
          [PYTHON, CLIENT, EMULATED_HOST, '80', String(share(i)), String(options.concurrency), String(options.seed * 10 + i), String(options.minBytes), String(options.maxBytes), String(timeout)],
          { timeoutMs: 3_600_000, allowFailure: true },
        );
        const line = r.stdout.trim().split('\n').pop() ?? '';
        try {
          return [node, JSON.parse(line) as ClientReport] as const;
        } catch {
          return [node, { connections: share(i), ok: 0, mismatches: 0, errors: share(i), stuck: 0, bytes: 0, seconds: 0, firstErrors: [`client exited ${r.code}: ${r.stderr.slice(0, 500)}`] }] as const;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    // Let the last FIN/ACK exchanges finish before looking for leftovers.
    await sleep(1500);
    const ss = await request(controlPath, 'ss', {}, { timeoutMs: 10_000 });
    const leftoverStates: Record<string, number> = {};
    for (const s of ss.sockets) leftoverStates[s.state] = (leftoverStates[s.state] ?? 0) + 1;
    const stats = await request(controlPath, 'stats', {}, { timeoutMs: 10_000 });
    const pick = ['TcpPassiveOpens', 'TcpCurrEstab', 'TcpRetransSegs', 'TcpExtListenDrops', 'TcpEstabResets', 'TcpExtTCPAbortOnTimeout', 'SyndropRxFrames', 'SyndropTxFrames', 'SyndropTxDropped'];
    const counters = Object.fromEntries(pick.map((n) => [n, stats.counters[n] ?? 0]));
    const clients = Object.fromEntries(results);
    const sum = (key: keyof ClientReport) => results.reduce((acc, [, r]) => acc + (r[key] as number), 0);
    const report: SoakReport = {
      connections: options.connections,
      ok: sum('ok'),
      mismatches: sum('mismatches'),
      errors: sum('errors'),
      stuck: sum('stuck'),
      bytesEchoed: sum('bytes'),
      seconds: Math.round(seconds * 10) / 10,
      connectionsPerSec: Math.round(sum('ok') / seconds),
      mbPerSec: Math.round((sum('bytes') / 1e6 / seconds) * 10) / 10,
      clients,
      leftoverStates,
      counters,
      garbage,
      runAlive: child.exitCode === null,
      ok_: false,
      problems: [],
    };
    if (report.mismatches > 0) report.problems.push(`${report.mismatches} echo mismatches`);
    if (report.errors > 0) report.problems.push(`${report.errors} connection errors`);
    if (report.stuck > 0) report.problems.push(`${report.stuck} stuck connections (no progress for ${timeout} s)`);
    if (report.ok !== options.connections) report.problems.push(`${report.ok}/${options.connections} connections completed`);
    const notTimewait = Object.entries(leftoverStates).filter(([state]) => state !== 'TIME-WAIT');
    if (notTimewait.length > 0) report.problems.push(`ss -a shows ${notTimewait.map(([s, n]) => `${n} ${s}`).join(', ')}`);
    if (!report.runAlive) report.problems.push('syndrop run died');
    if (garbage !== null && !garbage.accountedExactly) report.problems.push('garbage: received ≠ accepted + rejected');
    if (garbage !== null && garbage.echoAfter !== 'ok') report.problems.push('garbage: the echo failed afterwards');
    report.ok_ = report.problems.length === 0;
    return report;
  } finally {
    await run?.stop();
    await lab.close();
  }
}

export function formatSoakReport(r: SoakReport): string {
  const lines = [
    `soak: ${r.ok.toLocaleString('en')}/${r.connections.toLocaleString('en')} connections echoed byte for byte in ${r.seconds} s: ${r.connectionsPerSec} conn/s, ${r.mbPerSec} MB/s of payload each way (${(r.bytesEchoed / 1e6).toFixed(1)} MB)`,
    ...(r.garbage ? [`soak: garbage first: ${r.garbage.sent.toLocaleString('en')} frames sent, ${r.garbage.read.toLocaleString('en')} read by the emulator = ${r.garbage.accepted.toLocaleString('en')} accepted + ${(r.garbage.read - r.garbage.accepted).toLocaleString('en')} rejected (${Object.entries(r.garbage.rejected).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ')}); exact: ${r.garbage.accountedExactly}; echo after: ${r.garbage.echoAfter}`] : []),
    `soak: mismatches ${r.mismatches}, errors ${r.errors}, stuck ${r.stuck}; ss -a at the end: ${JSON.stringify(r.leftoverStates)}`,
    ...Object.entries(r.clients).map(([node, c]) => `  ${node}: ${c.ok}/${c.connections} in ${c.seconds} s${c.firstErrors.length ? ` — ${c.firstErrors.join('; ')}` : ''}`),
    `  ${Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    r.ok_ ? 'soak: OK' : `soak: FAILED: ${r.problems.join('; ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

const SOAK_OPTIONS = {
  garbage: { type: 'integer', default: 1_000_000, help: 'garbage frames sent over the TUN first' },
  connections: { type: 'integer', default: 10_000, help: 'echo connections from c1, c2 and c3' },
  concurrency: { type: 'integer', default: 8, min: 1, help: 'connections open at once per client' },
  'min-bytes': { type: 'integer', default: 1, min: 1, help: 'smallest payload per connection' },
  'max-bytes': { type: 'integer', default: 65_536, min: 1, help: 'largest payload per connection' },
  seed: { type: 'integer', default: 1, help: 'payload sizes and bytes derive from it' },
  json: { type: 'boolean', help: 'one JSON report on stdout' },
} satisfies ToolOptions;

async function main(): Promise<number> {
  const values = toolOptionsOrExit('soak', SOAK_OPTIONS, process.argv.slice(2));
  if (values === null) return process.exitCode as number;
  const options: SoakOptions = {
    garbage: values.garbage,
    connections: values.connections,
    concurrency: values.concurrency,
    minBytes: values['min-bytes'],
    maxBytes: values['max-bytes'],
    seed: values.seed,
  };
  const json = values.json;
  if (process.geteuid?.() !== 0) {
    process.stderr.write('soak: needs root (namespaces, TUN): run as root\n');
    return 1;
  }
  const report = await runSoak(options);
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatSoakReport(report));
  return report.ok_ ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}

// Bounded memory under a spoofed-SYN flood (issue 10). Two phases against a real `syndrop run`
// in the lab, each a count- and time-bounded `sdgen syn` from the direct client at the highest
// rate it reaches, spoofed sources from the lab's spoofed prefix (routed back into that client's
// namespace only):
//   cookies on  (tcp_syncookies=1): RSS sampled every second (the curve is reported), the SYN
//               queue sampled over the control socket never above its limit, and legitimate
//               curls from behind the NAT during the flood still connect (through cookies);
//   cookies off (tcp_syncookies=0): legitimate curls fail as the kernel's would, TCPReqQFullDrop
//               rises, memory stays bounded.
//
//   node dist/tools/flood-memory.js [--seconds 60] [--rate PPS] [--json]
//
// Lab prefix and instance from SYNDROP_LAB_PREFIX / SYNDROP_INSTANCE. A lab this tool creates is
// removed at the end; an existing one is left as found. Exit 0 when every check holds, 1 if not.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { BIN_DIR } from '../assets.js';
import { request } from '../control/client.js';
import { startRunChild } from '../io/run-child.js';
import { runInNetns } from '../lab/exec.js';
import { EMULATED_HOST, SPOOFED_PREFIX } from '../lab/topology.js';
import { toolOptionsOrExit, type ToolOptions } from './tool-args.js';
import { openToolLab } from './tool-lab.js';

const SDGEN = join(BIN_DIR, 'sdgen');

export interface FloodPhaseReport {
  syncookies: number;
  seconds: number;
  sent: number;
  sentPerSec: number;
  synAcks: number;
  /** RSS of `syndrop run` in MB, one sample a second from just before the flood. */
  rssMb: number[];
  rssBeforeMb: number;
  rssMaxMb: number;
  /** max − min over the samples after warm-up (the first quarter of the flood). */
  rssSpreadAfterWarmupMb: number;
  synQueueMax: number;
  synQueueLimit: number;
  curls: { ok: number; total: number; codes: string[] };
  counters: Record<string, number>;
  runAlive: boolean;
}

export interface FloodReport {
  prefix: string;
  phases: FloodPhaseReport[];
  ok: boolean;
  problems: string[];
}

export interface FloodOptions {
  seconds: number;
  /** Packets per second for sdgen; undefined = as fast as it goes. */
  rate?: number;
  prefix?: string;
  instance?: string;
  /** Create/remove the lab (default: create if missing, remove only what this run created). */
  manageLab?: boolean;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
  } catch {
    return NaN;
  }
}

async function phase(syncookies: number, options: FloodOptions, prefix: string, env: NodeJS.ProcessEnv, controlPath: string): Promise<FloodPhaseReport> {
  const log = options.log ?? (() => {});
  const run = await startRunChild(['-q', '--kernel', '6.x', '--backlog', '128', '--app', 'http', '--sysctl', `net.ipv4.tcp_syncookies=${syncookies}`, '--seed', '10'], { env, controlPath });
  const child = run.child;
  const pid = child.pid!;
  try {
    const rss: number[] = [rssMb(pid)];
    const rssBefore = rss[0]!;
    let synQueueMax = 0;
    let synQueueLimit = 0;
    let flooding = true;
    const sampler = setInterval(() => rss.push(rssMb(pid)), 1000);
    const queuePoll = (async () => {
      while (flooding) {
        try {
          const ss = await request(controlPath, 'ss', {}, { timeoutMs: 2000 });
          for (const l of ss.listeners) {
            synQueueMax = Math.max(synQueueMax, l.synQueueLength);
            synQueueLimit = l.synQueueMax;
          }
        } catch {
          // A busy emulator may miss one poll; the next one counts.
        }
        await sleep(200);
      }
    })();
    const count = Math.min(50_000_000, options.seconds * 1_500_000);
    const sdgenArgs = [SDGEN, 'syn', '--dst', EMULATED_HOST, '--dport', '80', '--src-net', SPOOFED_PREFIX, '--count', String(count), '--seconds', String(options.seconds)];
    if (options.rate !== undefined) sdgenArgs.push('--rate', String(options.rate));
    log(`flood-memory: tcp_syncookies=${syncookies}: ${options.seconds} s flood from ${prefix}-c3`);
    const flood = runInNetns(`${prefix}-c3`, sdgenArgs, { timeoutMs: (options.seconds + 30) * 1000, allowFailure: true });
    // Legitimate clients behind the NAT, one after the other, while the flood runs.
    const codes: string[] = [];
    const curls = (async () => {
      // A connect timeout that covers the SYN and two retransmissions (0, 1, 3 s): a SYN the
      // saturated TUN queue dropped is retried, as a real client would.
      await sleep(Math.min(2000, (options.seconds * 1000) / 6));
      const end = Date.now() + options.seconds * 1000 * 0.6;
      while (Date.now() < end && codes.length < 8) {
        const r = await runInNetns(`${prefix}-c1`, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', String(Math.max(5, Math.min(10, Math.floor(options.seconds / 2)))), `http://${EMULATED_HOST}/`], {
          allowFailure: true,
          timeoutMs: 30_000,
        });
        codes.push(r.stdout.trim() || '000');
      }
    })();
    const [gen] = await Promise.all([flood, curls]);
    flooding = false;
    clearInterval(sampler);
    await queuePoll;
    rss.push(rssMb(pid));
    const report = JSON.parse(gen.stdout.trim().split('\n').pop() || '{}') as { sent?: number; seconds?: number; sentPerSec?: number; synAcks?: number };
    const stats = await request(controlPath, 'stats', {}, { timeoutMs: 10_000 });
    const pick = ['SyndropRxFrames', 'SyndropRxSyn', 'SyndropTxSynAck', 'SyndropTxDropped', 'TcpExtSyncookiesSent', 'TcpExtTCPReqQFullDoCookies', 'TcpExtTCPReqQFullDrop', 'TcpExtListenDrops', 'TcpPassiveOpens'];
    const counters = Object.fromEntries(pick.map((name) => [name, stats.counters[name] ?? 0]));
    const warm = rss.slice(Math.max(1, Math.floor(rss.length / 4)), -1).filter((v) => Number.isFinite(v));
    return {
      syncookies,
      seconds: report.seconds ?? 0,
      sent: report.sent ?? 0,
      sentPerSec: report.sentPerSec ?? 0,
      synAcks: report.synAcks ?? 0,
      rssMb: rss,
      rssBeforeMb: rssBefore,
      rssMaxMb: Math.max(...rss.filter((v) => Number.isFinite(v))),
      rssSpreadAfterWarmupMb: warm.length > 0 ? Math.round((Math.max(...warm) - Math.min(...warm)) * 10) / 10 : 0,
      synQueueMax,
      synQueueLimit,
      curls: { ok: codes.filter((c) => c === '200').length, total: codes.length, codes },
      counters,
      runAlive: child.exitCode === null,
    };
  } finally {
    await run.stop();
  }
}

/** Both phases; never leaves a `syndrop run` behind. */
export async function runFloodMemory(options: FloodOptions): Promise<FloodReport> {
  const lab = await openToolLab(options, 'flood');
  const { prefix, env, controlPath } = lab;
  const phases: FloodPhaseReport[] = [];
  try {
    phases.push(await phase(1, options, prefix, env, controlPath));
    phases.push(await phase(0, options, prefix, env, controlPath));
  } finally {
    await lab.close();
  }
  const problems: string[] = [];
  const [on, off] = phases as [FloodPhaseReport, FloodPhaseReport];
  for (const p of phases) {
    if (!p.runAlive) problems.push(`cookies=${p.syncookies}: syndrop run died during the flood`);
    if (p.synQueueMax > p.synQueueLimit + 1) problems.push(`cookies=${p.syncookies}: SYN queue reached ${p.synQueueMax}, limit ${p.synQueueLimit}`);
    // "Bounded": the request pool is fixed by the queue limit; allow GC slack, not growth with the flood.
    if (p.rssMaxMb - p.rssBeforeMb > 64) problems.push(`cookies=${p.syncookies}: RSS grew ${Math.round(p.rssMaxMb - p.rssBeforeMb)} MB during the flood`);
  }
  if (on.counters.TcpExtSyncookiesSent === 0) problems.push('cookies=1: no cookie was sent (did the flood reach the emulator?)');
  if (on.curls.ok === 0) problems.push(`cookies=1: no legitimate curl connected during the flood (${on.curls.codes.join(' ')})`);
  if (off.counters.TcpExtTCPReqQFullDrop === 0) problems.push('cookies=0: TCPReqQFullDrop did not rise');
  if (off.curls.ok === off.curls.total && off.curls.total > 0) problems.push('cookies=0: every legitimate curl connected; a full SYN queue should drop them');
  return { prefix, phases, ok: problems.length === 0, problems };
}

export function formatFloodReport(r: FloodReport): string {
  const lines: string[] = [];
  for (const p of r.phases) {
    lines.push(
      `flood-memory: tcp_syncookies=${p.syncookies}: sent ${p.sent.toLocaleString('en')} SYNs in ${p.seconds} s (${p.sentPerSec.toLocaleString('en')}/s), SYN-ACKs seen ${p.synAcks.toLocaleString('en')}`,
      `  RSS MB (1/s): ${p.rssMb.join(' ')}`,
      `  RSS before ${p.rssBeforeMb} MB, max ${p.rssMaxMb} MB, spread after warm-up ${p.rssSpreadAfterWarmupMb} MB`,
      `  SYN queue max ${p.synQueueMax} (limit ${p.synQueueLimit}); legitimate curls ${p.curls.ok}/${p.curls.total} got 200 (${p.curls.codes.join(' ')})`,
      `  ${Object.entries(p.counters).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    );
  }
  lines.push(r.ok ? 'flood-memory: OK' : `flood-memory: FAILED: ${r.problems.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

const FLOOD_OPTIONS = {
  seconds: { type: 'integer', default: 60, min: 1, max: 120, help: 'flood length per phase (at most 120)' },
  rate: { type: 'string', default: null, help: "SYN/s (default: the generator's top rate)" },
  json: { type: 'boolean', help: 'one JSON report on stdout' },
} satisfies ToolOptions;

async function main(): Promise<number> {
  const values = toolOptionsOrExit('flood-memory', FLOOD_OPTIONS, process.argv.slice(2));
  if (values === null) return process.exitCode as number;
  const seconds = values.seconds;
  const json = values.json;
  let rate: number | undefined;
  if (values.rate !== null) {
    if (!/^\d+$/.test(values.rate) || Number(values.rate) === 0) {
      process.stderr.write(`flood-memory: --rate ${values.rate}: expected a whole number > 0\n`);
      return 2;
    }
    rate = Number(values.rate);
  }
  if (process.geteuid?.() !== 0) {
    process.stderr.write('flood-memory: needs root (namespaces, TUN): run as root\n');
    return 1;
  }
  const report = await runFloodMemory({ seconds, rate, log: json ? undefined : (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatFloodReport(report));
  return report.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}

// `syndrop replay CAPTURE`: a real capture through one or more kernel profiles, offline.

import type { Command } from 'commander';
import { APP_NAMES } from '../app/handlers.js';
import { usageError } from '../errors.js';
import { resolveProfile } from '../profiles/resolve.js';
import { DETAIL_LIMIT } from '../replay/connection-table.js';
import { replayGrid } from '../offline/grid-pool.js';
import { DEFAULT_RTT_MS } from '../replay/handshake-rtt.js';
import type { ReplayOptions } from '../replay/replay.js';
import { replayJson, type ReplayResult } from '../replay/replay-result.js';
import { renderReplay, renderSideBySide } from '../replay/replay-text.js';
import { replayReportInput } from '../replay/replay-report.js';
import { detectServer, parseServerEndpoint } from '../replay/server-endpoint.js';
import { collect, parseInteger, parseNonNegativeInt, printJson } from './common.js';
import { JOBS_OPTION } from './grid-jobs.js';
import { commandLine, reportPath, writeReportFile } from './report-file.js';

interface ReplayCliOptions {
  kernel: string;
  kernels?: string;
  server?: string;
  sysctl: string[];
  backlog: number;
  acceptRate?: number;
  app?: string;
  seed: number;
  out?: string;
  bucket: number;
  json?: boolean;
  all?: boolean;
  report?: string;
  detail: number;
  jobs?: number;
  completeHandshakes?: boolean;
}

const OPEN_LOOP = `
Open loop: the capture's client segments are replayed as captured, at their capture times,
even where the emulated server would have made the client behave differently. A client ACK
is translated to the emulated server's sequence numbers when the emulated kernel sent a
SYN-ACK for that connection; an ACK for a SYN-ACK it never sent reaches it as a stray ACK
(answered with RST, as the kernel does). A client the emulated kernel dropped still
retransmits only as often as it did against the real server. Each connection says when the
replay "diverged": the emulated outcome differs from what the client saw, so what follows in
the capture for that connection is no longer what this client would have sent.

--complete-handshakes closes the loop for one thing: where the emulated server sends a SYN-ACK
(first or retransmitted) and the real server sent none for that connection, the client's ACK
is synthesized one client RTT later — seq = client ISN+1, ack = emulated ISN+1, the window of
the client's SYN (scaled when both sides offered window scale), and, when the SYN and the
SYN-ACK carried timestamps, TSval = the SYN's advanced by the ms since it (1 kHz clock), TSecr =
the SYN-ACK's TSval. The RTT is that client's median handshake RTT in the capture (last SYN to
its ACK of the SYN-ACK), else the capture's median, else ${DEFAULT_RTT_MS} ms. Nothing is synthesized
once the capture shows the real server's SYN-ACK or the client's ACK for that connection, nor
after the capture's last packet; the client's captured segments (SYN retransmits too) are
still fed as captured. Each connection counts its synthesized segments (--json "synthesized";
--out marks each with a packet comment).

Outcomes: established, established-cookie, dropped (no SYN-ACK ever), reset, half-open
(SYN-ACK'd, never completed), ghost (the client completed, the server dropped its ACK).
The server's own segments in the capture are not fed: they are what the real server did.
Checksums in the capture are not trusted (offload): the fed copies get fresh ones.
IPv6 is replayed like IPv4 (an IPv6 server answers from its own address; clients print as
[ADDR]:PORT), except packets with an extension header before TCP (hop-by-hop, routing,
destination options, AH…): they are counted and skipped, as fragments are.
With --accept-rate N the application has been idle in accept() before the first packet: it
starts with one second of accepts (N) banked, as a live \`syndrop run\` does after a second.`;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .argument('<capture>', 'a pcap or pcapng file (tcpdump, tshark, syndrop run --pcap)')
    .description('replay a real capture through a kernel profile: what would this kernel have done with this traffic?')
    .option('-k, --kernel <version>', 'kernel profile (a version or alias)', '6.x')
    .option('--kernels <list>', 'several kernel profiles side by side, e.g. 3.10,4.10,6.x')
    .option('--server <addr:port>', 'the server endpoint, ADDR:PORT or [IPv6ADDR]:PORT (default: the one receiving the most SYNs, either family)')
    .option('-o, --sysctl <name=value>', 'override a sysctl (repeatable)', collect, [])
    .option('-b, --backlog <n>', 'listen() backlog (clamped to net.core.somaxconn)', parseInteger('--backlog'), 128)
    .option('--accept-rate <n>', 'accept() calls per second (0 = never; default: at once)', parseNonNegativeInt('--accept-rate'))
    .option('--app <name>', `application on accepted connections: ${APP_NAMES.join(', ')} (default: none, accept and hold)`)
    .option('--seed <n>', 'seed for ISNs and cookie keys', parseNonNegativeInt('--seed'), 1)
    .option('--out <file>', 'write the client segments and the emulated replies to a pcapng file (drops carry a comment)')
    .option('--bucket <ms>', 'time series bucket (in --json)', parseNonNegativeInt('--bucket'), 1000)
    .option('--all', 'list every connection kept in detail (default: the first 50)')
    .option('--detail <n>', 'keep the rows of the first N connections (the rest are counted in the summary)', parseNonNegativeInt('--detail'), DETAIL_LIMIT)
    .option('--report <file>', 'write an HTML timeline report (queues, drops by reason, explain): one section per kernel, on the same axes')
    .option('--complete-handshakes', 'synthesize the client ACK of a SYN-ACK the real server never sent (see below)')
    .option('--json', 'JSON: { server, kernel, connections: [{ client, real, emulated, diverged }], counters, summary, findings, input }')
    .option(...JOBS_OPTION)
    .addHelpText('after', OPEN_LOOP)
    .action(async (capture: string, options: ReplayCliOptions) => {
      const kernels = (options.kernels ?? options.kernel).split(',').map((k) => k.trim()).filter((k) => k !== '');
      for (const kernel of kernels) resolveProfile(kernel); // an unknown name fails before any reading
      if (options.app !== undefined && !APP_NAMES.includes(options.app as never)) throw usageError(`--app ${options.app}: choose one of ${APP_NAMES.join(', ')}`);
      if (options.out !== undefined && kernels.length > 1) throw usageError('--out writes one kernel\'s replies: use it with --kernel, not --kernels');
      if (options.bucket < 1) throw usageError('--bucket must be at least 1 ms');
      const report = options.report === undefined ? null : reportPath(options.report);
      const server = options.server !== undefined ? parseServerEndpoint(options.server) : detectServer(capture);
      const base: Omit<ReplayOptions, 'kernel'> = {
        capturePath: capture,
        server,
        sysctls: options.sysctl,
        backlog: options.backlog,
        acceptRate: options.acceptRate ?? Infinity,
        app: options.app ?? null,
        seed: options.seed,
        outPath: options.out ?? null,
        bucketMs: options.bucket,
        record: report !== null,
        detailLimit: options.detail,
        completeHandshakes: options.completeHandshakes === true,
      };
      // One cell per kernel; a worker thread opens and streams the capture itself.
      const results: ReplayResult[] = await replayGrid(kernels.map((kernel) => ({ ...base, kernel })), options.jobs);
      if (options.json) printJson(results.length === 1 ? replayJson(results[0]!) : results.map(replayJson));
      else if (results.length === 1) process.stdout.write(renderReplay(results[0]!, options.all ? Infinity : 50));
      else process.stdout.write(renderSideBySide(results));
      if (report !== null) await writeReportFile(report, replayReportInput(results, capture, commandLine()));
    });
}

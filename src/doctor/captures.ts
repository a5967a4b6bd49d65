// A capture is one command's output (or one file of a bundle) with the kind of text it is.
// Live mode captures from the host, --collect writes captures to files, --bundle reads files
// back as captures: all three meet here, where captures become one HostReading.

import { parseNetstatS, parseNstat, parseProcCounters, type CounterValues, type Parsed } from './parse-counters.js';
import { parseFloodLines } from './parse-kernel-log.js';
import { listenerName, parseSsListeners } from './parse-ss.js';
import { parseSysctl } from './parse-sysctl.js';
import { parseTcpMetrics } from './parse-tcp-metrics.js';
import { parseOsRelease } from './host-profile.js';
import { emptyReading, type HostReading } from './reading.js';

/** The bundle's own description of its files; not a capture. */
export const BUNDLE_README = 'README.bundle';

export type CaptureKind =
  | 'uname'
  | 'os-release'
  | 'proc-counters'
  | 'nstat'
  | 'netstat-s'
  | 'ss'
  | 'sysctl'
  | 'kernel-log'
  | 'tcp-metrics'
  | 'interval';

export interface Capture {
  /** File name in a bundle (also the name --collect writes). */
  file: string;
  kind: CaptureKind;
  text: string;
  /** Part of the second counter reading (bundle files with "later" in their name). */
  later: boolean;
}

/** What a bundle file is, from its content; the name decides only for the interval. */
export function classify(file: string, text: string): CaptureKind | null {
  if (/^interval/i.test(file)) return 'interval';
  const trimmed = text.trim();
  if (/^\d+\.\d+[\w.+~-]*$/.test(trimmed) || /^Linux \S+ \d+\.\d+\S* /.test(trimmed)) return 'uname';
  if (/^ID=/m.test(text) && /^(NAME|PRETTY_NAME|VERSION_ID)=/m.test(text)) return 'os-release';
  if (/^\w+: [A-Za-z]\w*( \w+)*\n\w+: -?\d/.test(trimmed)) return 'proc-counters';
  if (/^#kernel/m.test(text) || /^(Tcp|TcpExt|Ip|Udp)\w+\s+\d+(\s+[\d.]+)?$/m.test(text)) return 'nstat';
  if (/^(Tcp|TcpExt):\s*$/m.test(text)) return 'netstat-s';
  if (/^(Netid\s+)?State\s+Recv-Q\s+Send-Q/m.test(text) || /^(tcp\s+)?(LISTEN|ESTAB|SYN-RECV)\s+\d+\s+\d+\s/m.test(text)) return 'ss';
  if (/^[a-z]+\.[\w.-]+ = /m.test(text)) return 'sysctl';
  if (/^\S+ age \d+(\.\d+)?sec/m.test(text)) return 'tcp-metrics';
  if (/Possible SYN flooding|^\[\s*\d+\.\d+\] |kernel: /m.test(text)) return 'kernel-log';
  return null;
}

const COUNTER_PARSERS: Partial<Record<CaptureKind, (text: string) => Parsed<CounterValues>>> = {
  'netstat-s': parseNetstatS,
  nstat: parseNstat,
  'proc-counters': parseProcCounters,
};

/** Most exact last: /proc names every counter, netstat -s only those it prints. */
const COUNTER_ORDER: CaptureKind[] = ['netstat-s', 'nstat', 'proc-counters'];

function noteMalformed(reading: HostReading, capture: Capture, malformed: number): void {
  if (malformed > 0) reading.notes.push(`${capture.file}: ${malformed} malformed line(s) skipped`);
}

function mergeCounters(reading: HostReading, captures: Capture[]): CounterValues | null {
  const ordered = captures.filter((c) => COUNTER_PARSERS[c.kind]).sort((a, b) => COUNTER_ORDER.indexOf(a.kind) - COUNTER_ORDER.indexOf(b.kind));
  if (ordered.length === 0) return null;
  const values: CounterValues = {};
  for (const capture of ordered) {
    const parsed = COUNTER_PARSERS[capture.kind]!(capture.text);
    noteMalformed(reading, capture, parsed.malformed);
    if (Object.keys(parsed.value).length === 0) reading.notes.push(`${capture.file}: no counters in it`);
    Object.assign(values, parsed.value);
  }
  return values;
}

export function readingFromCaptures(source: string, captures: Capture[], notes: string[] = []): HostReading {
  const reading = emptyReading(source);
  reading.notes.push(...notes);
  reading.first = mergeCounters(reading, captures.filter((c) => !c.later));
  reading.second = mergeCounters(reading, captures.filter((c) => c.later));
  for (const capture of captures) {
    switch (capture.kind) {
      case 'uname':
        reading.kernelRelease = /^Linux \S+ (\S+)/.exec(capture.text.trim())?.[1] ?? capture.text.trim();
        break;
      case 'os-release':
        reading.osRelease = parseOsRelease(capture.text);
        break;
      case 'interval': {
        const seconds = Number(capture.text.trim());
        if (Number.isFinite(seconds) && seconds > 0) reading.intervalSeconds = seconds;
        else reading.notes.push(`${capture.file}: not a number of seconds`);
        break;
      }
      case 'ss': {
        const parsed = parseSsListeners(capture.text);
        noteMalformed(reading, capture, parsed.malformed);
        // ss -ltn and ss -ltnH of one moment list the same sockets: one entry per ADDR:PORT.
        const byName = new Map((reading.listeners ?? []).map((l) => [listenerName(l), l]));
        for (const l of parsed.value) byName.set(listenerName(l), l);
        reading.listeners = [...byName.values()];
        break;
      }
      case 'sysctl': {
        const parsed = parseSysctl(capture.text);
        noteMalformed(reading, capture, parsed.malformed);
        reading.sysctls = { ...reading.sysctls, ...parsed.value };
        break;
      }
      case 'kernel-log':
        reading.floodLines = [...(reading.floodLines ?? []), ...parseFloodLines(capture.text)];
        break;
      case 'tcp-metrics': {
        const parsed = parseTcpMetrics(capture.text);
        noteMalformed(reading, capture, parsed.malformed);
        reading.tcpMetrics = [...(reading.tcpMetrics ?? []), ...parsed.value];
        break;
      }
      default:
        break; // counters: merged above
    }
  }
  if (reading.second !== null && reading.first === null) {
    reading.notes.push('a later counter reading without a first one: using it as totals');
    reading.first = reading.second;
    reading.second = null;
  }
  if (reading.second !== null && reading.intervalSeconds === null) reading.notes.push('two counter readings but no interval file: rates unknown');
  return reading;
}

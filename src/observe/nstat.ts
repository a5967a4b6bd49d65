// `syndrop stats`: iproute2 nstat's plain and --json output (misc/nstat.c dump_kern_db /
// dump_incr_db, read; checked against nstat from iproute2 6.1 fed the same values through
// PROC_NET_SNMP / PROC_NET_NETSTAT). Pure: values in, text out.

import { formatFixed1, formatUnsigned, globToRegExp, padRight } from './format.js';

export interface NstatOptions {
  /** nstat -z: print counters whose value and rate are both 0. */
  readonly showZeros?: boolean;
  /** nstat PATTERN arguments: shell globs (fnmatch, case-sensitive); none = all. */
  readonly patterns?: readonly string[];
  /** Per-counter rate for the third column (nstat shows 0.0 without its daemon). */
  readonly rates?: Readonly<Record<string, number>>;
  /** Counters that went backwards since the history sample: nstat appends ` (overflow)`. */
  readonly overflow?: ReadonlySet<string>;
  /**
   * The info source after `#` on the header line. Defaults to `kernel`, what nstat prints
   * when it read /proc itself; syndrop keeps that so scripts parsing nstat output work
   * unchanged (the profile is shown elsewhere, not here).
   */
  readonly header?: string;
}

export interface NstatJsonOptions {
  readonly showZeros?: boolean;
  readonly patterns?: readonly string[];
  /** nstat -p: json_writer's pretty layout (4-space indent). */
  readonly pretty?: boolean;
  readonly header?: string;
}

/**
 * nstat drops these while loading /proc (useless_numbers[]): configuration, not counts.
 * TcpCurrEstab is among them, so `nstat` never prints it and neither do we.
 */
const USELESS_NUMBERS: ReadonlySet<string> = new Set([
  'IpForwarding',
  'IpDefaultTTL',
  'TcpRtoAlgorithm',
  'TcpRtoMin',
  'TcpRtoMax',
  'TcpMaxConn',
  'TcpCurrEstab',
]);

function makeMatcher(patterns: readonly string[] | undefined): (name: string) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  const res = patterns.map(globToRegExp);
  return (name) => res.some((re) => re.test(name));
}

/** The counters nstat would print, in input order, with nstat's filters applied. */
function selected(
  values: Readonly<Record<string, number>>,
  showZeros: boolean,
  patterns: readonly string[] | undefined,
  rates: Readonly<Record<string, number>> | undefined,
): string[] {
  const match = makeMatcher(patterns);
  const names: string[] = [];
  for (const name of Object.keys(values)) {
    if (USELESS_NUMBERS.has(name)) continue;
    const value = values[name]!;
    const rate = rates?.[name] ?? 0;
    if (!showZeros && value === 0 && rate === 0) continue;
    if (!match(name)) continue;
    names.push(name);
  }
  return names;
}

/**
 * nstat's plain output: `#kernel`, then `%-32s%-16llu%6.1f` per counter, in the order of
 * `values` (pass snapshotCounters(): Ip, Icmp, Tcp, then TcpExt, as nstat lists them).
 */
export function renderNstat(values: Readonly<Record<string, number>>, opts: NstatOptions = {}): string {
  let out = `#${opts.header ?? 'kernel'}\n`;
  for (const name of selected(values, opts.showZeros ?? false, opts.patterns, opts.rates)) {
    out +=
      padRight(name, 32) +
      padRight(formatUnsigned(values[name]!), 16) +
      formatFixed1(opts.rates?.[name] ?? 0).padStart(6) +
      (opts.overflow?.has(name) ? ' (overflow)' : '') +
      '\n';
  }
  return out;
}

/**
 * nstat --json: `{"kernel":{"TcpExtListenOverflows":3,...}}` and a newline, one object
 * named after the info source holding one unsigned field per counter; no rates.
 * The same zero and pattern filters apply as in plain output.
 */
export function renderNstatJson(values: Readonly<Record<string, number>>, opts: NstatJsonOptions = {}): string {
  const source = JSON.stringify(opts.header ?? 'kernel');
  const names = selected(values, opts.showZeros ?? false, opts.patterns, undefined);
  const fields = names.map((name) => `${JSON.stringify(name)}:${opts.pretty ? ' ' : ''}${formatUnsigned(values[name]!)}`);
  if (!opts.pretty) return `{${source}:{${fields.join(',')}}}\n`;
  if (fields.length === 0) return `{\n    ${source}: {}\n}\n`;
  return `{\n    ${source}: {\n${fields.map((f) => '        ' + f).join(',\n')}\n    }\n}\n`;
}

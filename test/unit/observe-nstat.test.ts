import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COUNTER_PROC_ORDER, COUNTERS } from '../../src/stack/mib.js';
import { globToRegExp, formatFixed1 } from '../../src/observe/format.js';
import { renderNstat, renderNstatJson } from '../../src/observe/nstat.js';

/** /proc/net/snmp or /proc/net/netstat text ("Group: names" / "Group: values" pairs). */
function procTable(groups: [string, [string, number][]][]): string {
  return groups.map(([g, cols]) => `${g}: ${cols.map((c) => c[0]).join(' ')}\n${g}: ${cols.map((c) => c[1]).join(' ')}\n`).join('');
}

/** Split nstat names into /proc files the way the kernel lays them out. */
function procFiles(values: Record<string, number>): { snmp: string; netstat: string; snmp6: string } {
  const snmp = new Map<string, [string, number][]>();
  const netstat = new Map<string, [string, number][]>();
  let snmp6 = '';
  for (const [name, value] of Object.entries(values)) {
    // /proc/net/snmp6 is one "Name value" line per counter, full names.
    if (name.startsWith('Ip6') || name.startsWith('Icmp6')) {
      snmp6 += `${name.padEnd(32)}\t${value}\n`;
      continue;
    }
    const group = ['TcpExt', 'Icmp', 'Tcp', 'Ip'].find((g) => name.startsWith(g))!;
    const map = group === 'TcpExt' ? netstat : snmp;
    if (!map.has(group)) map.set(group, []);
    map.get(group)!.push([name.slice(group.length), value]);
  }
  return { snmp: procTable([...snmp]), netstat: procTable([...netstat]), snmp6 };
}

function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const work = mkdtempSync(join(tmpdir(), 'syndrop-nstat-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The real nstat (iproute2) reading crafted /proc files through its PROC_NET_* overrides. */
function realNstat(values: Record<string, number>, args: string[]): string {
  const { snmp, netstat, snmp6 } = procFiles(values);
  writeFileSync(join(work, 'snmp'), snmp);
  writeFileSync(join(work, 'netstat'), netstat);
  writeFileSync(join(work, 'snmp6'), snmp6);
  return execFileSync('nstat', args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      PROC_NET_SNMP: join(work, 'snmp'),
      PROC_NET_NETSTAT: join(work, 'netstat'),
      PROC_NET_SNMP6: join(work, 'snmp6'),
      NSTAT_HISTORY: join(work, 'history'),
    },
  });
}

/** Every syndrop counter nstat can see (Syndrop* have no /proc file), in /proc file order. */
function catalogueValues(f: (i: number) => number): Record<string, number> {
  const values: Record<string, number> = {};
  for (const i of COUNTER_PROC_ORDER) {
    const c = COUNTERS[i]!;
    if (!c.name.startsWith('Syndrop')) values[c.name] = f(i);
  }
  return values;
}

describe('renderNstat (iproute2 misc/nstat.c dump_kern_db)', () => {
  it('prints #kernel then %-32s%-16llu%6.1f lines, zeros hidden', () => {
    expect(renderNstat({ TcpExtListenOverflows: 3, TcpExtListenDrops: 5, TcpExtTCPReqQFullDrop: 0 })).toBe(
      '#kernel\n' +
        'TcpExtListenOverflows           3                  0.0\n' +
        'TcpExtListenDrops               5                  0.0\n',
    );
  });

  it('-z shows zeros; a rate keeps a zero counter visible as in nstat', () => {
    const values = { TcpExtListenOverflows: 0, TcpExtListenDrops: 0 };
    expect(renderNstat(values, { showZeros: true }).split('\n')).toHaveLength(4);
    expect(renderNstat(values, { rates: { TcpExtListenDrops: 2.5 } })).toBe('#kernel\nTcpExtListenDrops               0                  2.5\n');
  });

  it('patterns are case-sensitive shell globs, as nstat -az TcpExtListen*', () => {
    const values = { TcpExtListenOverflows: 3, TcpExtListenDrops: 5, TcpExtTCPReqQFullDrop: 7, TcpPassiveOpens: 1 };
    expect(renderNstat(values, { patterns: ['TcpExtListen*'] })).toBe(
      '#kernel\nTcpExtListenOverflows           3                  0.0\nTcpExtListenDrops               5                  0.0\n',
    );
    expect(renderNstat(values, { patterns: ['tcpextlisten*'] })).toBe('#kernel\n');
    expect(renderNstat(values, { patterns: ['TcpExtTCPReqQ*', 'Tcp[P]assive?pens'] }).split('\n').slice(1, 3)).toEqual([
      'TcpExtTCPReqQFullDrop           7                  0.0',
      'TcpPassiveOpens                 1                  0.0',
    ]);
  });

  it('never prints TcpCurrEstab (nstat useless_numbers[])', () => {
    expect(renderNstat({ TcpCurrEstab: 4, TcpPassiveOpens: 2 }, { showZeros: true })).toBe(
      '#kernel\nTcpPassiveOpens                 2                  0.0\n',
    );
  });

  it('marks counters that went backwards with " (overflow)"', () => {
    expect(renderNstat({ TcpExtListenDrops: 4 }, { overflow: new Set(['TcpExtListenDrops']) })).toBe(
      '#kernel\nTcpExtListenDrops               4                  0.0 (overflow)\n',
    );
  });

  it('prints counters beyond 2^53 exactly and never in exponent notation', () => {
    expect(renderNstat({ TcpInSegs: 2 ** 60 })).toContain('TcpInSegs                       1152921504606846976   0.0\n');
  });

  it('%6.1f rounds exact binary ties to even like glibc (oracle: Python %.1f, same correctly rounded printf)', () => {
    expect([0.25, 0.75, 0.05, 1.25, 2.35, 12345.65, 3.45, 0.15, 0, 1e21 + 0.25].map(formatFixed1)).toEqual([
      '0.2', '0.8', '0.1', '1.2', '2.4', '12345.6', '3.5', '0.1', '0.0', '1000000000000000000000.0',
    ]);
  });

  it('--json: {"kernel":{...}} on one line, pretty with -p', () => {
    const values = { TcpExtListenOverflows: 13, TcpExtListenDrops: 25, TcpExtTW: 0 };
    expect(renderNstatJson(values)).toBe('{"kernel":{"TcpExtListenOverflows":13,"TcpExtListenDrops":25}}\n');
    expect(renderNstatJson(values, { pretty: true })).toBe(
      '{\n    "kernel": {\n        "TcpExtListenOverflows": 13,\n        "TcpExtListenDrops": 25\n    }\n}\n',
    );
    expect(renderNstatJson(values, { patterns: ['Nothing*'] })).toBe('{"kernel":{}}\n');
    expect(renderNstatJson(values, { patterns: ['Nothing*'], pretty: true })).toBe('{\n    "kernel": {}\n}\n');
  });

  it('glob translation follows fnmatch: classes, negation, escapes, literal unmatched [', () => {
    expect(globToRegExp('Tcp[!E]*').test('TcpPassiveOpens')).toBe(true);
    expect(globToRegExp('Tcp[!E]*').test('TcpExtTW')).toBe(false);
    expect(globToRegExp('Tcp[A-F]xt*').test('TcpExtTW')).toBe(true);
    expect(globToRegExp('a\\*b').test('a*b')).toBe(true);
    expect(globToRegExp('a\\*b').test('axb')).toBe(false);
    expect(globToRegExp('[abc').test('[abc')).toBe(true);
  });

  const nstat = hasTool('nstat');
  it.skipIf(!nstat)('byte-identical to the installed nstat for every syndrop counter (-az, -a, --json, patterns)', () => {
    const values = catalogueValues((i) => (i % 3 === 0 ? 0 : i * 1000 + 7));
    for (const args of [['-az'], ['-a'], ['-a', '--json'], ['-az', '--json', '-p'], ['-az', 'TcpExt*', 'Ip?n*']]) {
      const json = args.includes('--json');
      const zeros = args.includes('-az');
      const patterns = args.filter((a) => !a.startsWith('-'));
      const ours = json
        ? renderNstatJson(values, { showZeros: zeros, patterns, pretty: args.includes('-p') })
        : renderNstat(values, { showZeros: zeros, patterns });
      expect(ours, `nstat ${args.join(' ')}`).toBe(realNstat(values, args));
    }
  });
  if (!nstat) console.warn('observe-nstat: nstat (iproute2) not installed; differential test skipped');
});

// Counters as a real host prints them, back into nstat names (TcpExtListenOverflows …):
// /proc/net/netstat and /proc/net/snmp (header line + value line per section), `nstat -az`
// (name value rate), and `netstat -s` (net-tools phrases, read back through the same table
// `syndrop stats --netstat` prints with). Malformed lines are counted, never thrown.

import { netToolsPhrases } from '../observe/netstat.js';

export interface Parsed<T> {
  value: T;
  /** Lines that looked like this format's data but could not be read. */
  malformed: number;
}

export type CounterValues = Record<string, number>;

const INTEGER = /^-?\d+$/;

/** /proc/net/netstat or /proc/net/snmp: `Sec: A B C` followed by `Sec: 1 2 3`. */
export function parseProcCounters(text: string): Parsed<CounterValues> {
  const value: CounterValues = {};
  let malformed = 0;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i < lines.length; i += 2) {
    const header = splitSection(lines[i]!);
    const values = lines[i + 1] === undefined ? null : splitSection(lines[i + 1]!);
    if (header === null || values === null || header.section !== values.section || header.fields.length !== values.fields.length) {
      malformed += 1;
      i -= 1; // resynchronise on the next line
      continue;
    }
    header.fields.forEach((title, k) => {
      const field = values.fields[k]!;
      if (INTEGER.test(field)) value[`${header.section}${title}`] = Number(field);
      else malformed += 1;
    });
  }
  return { value, malformed };
}

function splitSection(line: string): { section: string; fields: string[] } | null {
  const match = /^(\w+):\s*(.*)$/.exec(line.trim());
  if (!match) return null;
  return { section: match[1]!, fields: match[2]!.split(/\s+/).filter(Boolean) };
}

/** `nstat -az` (or `nstat -a`): `#kernel` then `Name value rate` per line. */
export function parseNstat(text: string): Parsed<CounterValues> {
  const value: CounterValues = {};
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z][\w-]*)\s+(\d+)(?:\s+\S+)?$/.exec(line);
    if (match) value[match[1]!] = Number(match[2]);
    else malformed += 1;
  }
  return { value, malformed };
}

/**
 * Phrases older net-tools builds print (spec §6): ≤ 1.60 "ignored", 2015–2019 "packetes",
 * older "rejects", "segments send out".
 */
const OLDER_PHRASES: Readonly<Record<string, ReadonlyArray<{ title: string; phrase: string }>>> = {
  Tcp: [{ title: 'OutSegs', phrase: '%u segments send out' }],
  TcpExt: [
    { title: 'ListenDrops', phrase: '%u SYNs to LISTEN sockets ignored' },
    { title: 'PAWSEstab', phrase: '%u packetes rejected in established connections because of timestamp' },
    { title: 'PAWSEstab', phrase: '%u packets rejects in established connections because of timestamp' },
  ],
};

interface PhraseMatcher {
  title: string;
  pattern: RegExp;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const matchersBySection = new Map<string, PhraseMatcher[]>();

function matchersFor(section: string): PhraseMatcher[] {
  let matchers = matchersBySection.get(section);
  if (matchers === undefined) {
    const phrases = [...netToolsPhrases(section), ...(OLDER_PHRASES[section] ?? [])];
    matchers = phrases.map(({ title, phrase }) => ({
      title,
      pattern: new RegExp(`^${escapeRegExp(phrase).replace('%u', '(\\d+)')}$`),
    }));
    matchersBySection.set(section, matchers);
  }
  return matchers;
}

/**
 * `netstat -s`: a `Section:` header at column 0, then indented lines, each a net-tools
 * phrase or the `Name: N` form net-tools uses for counters missing from its table. Lines
 * that are neither (histogram titles, static text) carry no counter and are skipped.
 */
export function parseNetstatS(text: string): Parsed<CounterValues> {
  const value: CounterValues = {};
  let malformed = 0;
  let section: string | null = null;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const header = /^(\w+):\s*$/.exec(raw);
    if (header) {
      section = header[1]!;
      continue;
    }
    const line = raw.trim();
    if (section === null) {
      malformed += 1;
      continue;
    }
    const named = /^(\w+): (\d+)$/.exec(line);
    if (named) {
      value[`${section}${named[1]}`] = Number(named[2]);
      continue;
    }
    const matcher = matchersFor(section).find((m) => m.pattern.test(line));
    if (matcher) value[`${section}${matcher.title}`] = Number(matcher.pattern.exec(line)![1]);
  }
  return { value, malformed };
}

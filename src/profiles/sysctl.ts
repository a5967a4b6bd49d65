import { SyndropError } from '../errors.js';
import type { Profile, ScalarSysctlName, SysctlName, SysctlTriple, SysctlValues, VectorSysctlName } from './profile.js';

interface SysctlRule {
  readonly min: number;
  readonly max: number;
  /** What the value means, for `syndrop profiles show` and errors. */
  readonly meaning: string;
}

const INT_MAX = 2 ** 31 - 1;

/**
 * Accepted ranges. Real kernels reject out-of-range writes to min/max-checked entries with
 * EINVAL; for the small enumerations (0/1/2) syndrop refuses anything else too, where some
 * kernels would silently accept it.
 */
const RULES: Record<SysctlName, SysctlRule> = {
  'net.ipv4.tcp_syncookies': { min: 0, max: 2, meaning: '0 off, 1 when the SYN queue overflows, 2 always' },
  'net.ipv4.tcp_timestamps': { min: 0, max: 2, meaning: '0 off, 1 on with random offsets, 2 on without offsets (4.10+)' },
  'net.ipv4.tcp_tw_recycle': { min: 0, max: 1, meaning: 'fast TIME_WAIT recycling with the per-host PAWS check (removed in 4.12)' },
  'net.ipv4.tcp_tw_reuse': { min: 0, max: 2, meaning: 'reuse TIME_WAIT for outgoing connections (client side only)' },
  'net.core.somaxconn': { min: 0, max: INT_MAX, meaning: 'upper bound of listen() backlog' },
  'net.ipv4.tcp_max_syn_backlog': { min: 0, max: INT_MAX, meaning: '3.10: caps the SYN queue; all: drives the unproven-peer quarter rule' },
  'net.ipv4.tcp_synack_retries': { min: 0, max: 255, meaning: 'SYN-ACK retransmissions before a request is dropped' },
  'net.ipv4.tcp_syn_retries': { min: 1, max: 127, meaning: 'client SYN retransmissions (no effect on the listen path)' },
  'net.ipv4.tcp_abort_on_overflow': { min: 0, max: 1, meaning: '1: RST the client when the accept queue is full at the third ACK' },
  'net.ipv4.tcp_fin_timeout': { min: 0, max: INT_MAX, meaning: 'FIN_WAIT_2 timeout in seconds' },
  'net.ipv4.tcp_max_tw_buckets': { min: 0, max: INT_MAX, meaning: 'TIME_WAIT sockets kept at most' },
  'net.ipv4.tcp_window_scaling': { min: 0, max: 1, meaning: 'RFC 7323 window scaling' },
  'net.ipv4.tcp_sack': { min: 0, max: 1, meaning: 'selective acknowledgements' },
  'net.ipv4.tcp_invalid_ratelimit': { min: 0, max: INT_MAX, meaning: 'ms between answers to out-of-window segments' },
  'net.ipv4.tcp_rfc1337': { min: 0, max: 1, meaning: '1: RST does not kill TIME_WAIT' },
  'net.ipv4.tcp_ecn': { min: 0, max: 2, meaning: '0 off, 1 ask on outgoing and accept incoming, 2 accept when the peer asks (default)' },
  'net.core.rmem_max': { min: 0, max: INT_MAX, meaning: 'largest SO_RCVBUF; with tcp_rmem max it sets the window scale we offer' },
  'net.ipv4.tcp_rmem': { min: 1, max: INT_MAX, meaning: 'receive buffer min, default, max: default/2 is the initial window, max sets the window scale' },
};

const VECTOR_SYSCTLS: ReadonlySet<string> = new Set<VectorSysctlName>(['net.ipv4.tcp_rmem']);

export function isVectorSysctl(name: SysctlName): name is VectorSysctlName {
  return VECTOR_SYSCTLS.has(name);
}

/** A sysctl value: one integer, or three for the vector ones. */
export type SysctlValue = number | SysctlTriple;

/** As `sysctl` prints it: vectors tab-separated. */
export function formatSysctlValue(value: SysctlValue): string {
  return typeof value === 'number' ? String(value) : value.join('\t');
}

/** Per-kernel overrides of a range (e.g. tcp_timestamps=2 only from 4.10). */
function ruleFor(profile: Profile, name: SysctlName): SysctlRule {
  const rule = RULES[name];
  if (name === 'net.ipv4.tcp_timestamps' && profile.switches.tsOffsets === 'none') return { ...rule, max: 1 };
  if (name === 'net.ipv4.tcp_tw_reuse' && profile.sysctlDefaults['net.ipv4.tcp_tw_reuse'] !== 2) return { ...rule, max: 1 };
  if (name === 'net.core.somaxconn' && profile.era < 'E') return { ...rule, max: 65535 };
  return rule;
}

/** `net.ipv4.tcp_syncookies`, `net/ipv4/tcp_syncookies`, `/proc/sys/net/ipv4/tcp_syncookies` → dotted form. */
export function normalizeSysctlName(raw: string): string {
  return raw.trim().replace(/^\/proc\/sys\//, '').replace(/\//g, '.');
}

function procPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

export function sysctlExists(profile: Profile, name: string): name is SysctlName {
  return Object.prototype.hasOwnProperty.call(profile.sysctlDefaults, name);
}

/** Validates one write; returns the canonical name and numeric value or throws like `sysctl -w` would. */
export function validateSysctl(profile: Profile, rawName: string, rawValue: string): { name: SysctlName; value: SysctlValue } {
  const name = normalizeSysctlName(rawName);
  if (!sysctlExists(profile, name)) {
    const removed = name === 'net.ipv4.tcp_tw_recycle' ? ' (tcp_tw_recycle was removed in Linux 4.12)' : '';
    throw new SyndropError(
      'SYNDROP_ERR_UNKNOWN_SYSCTL',
      `sysctl: cannot stat ${procPath(name)}: No such file or directory — kernel ${profile.name} has no ${name}${removed}`,
    );
  }
  const text = rawValue.trim();
  const rule = ruleFor(profile, name);
  const fields = isVectorSysctl(name) ? 3 : 1;
  const parts = text.split(/[\s,]+/);
  const valid = parts.length === fields && parts.every((p) => /^-?\d+$/.test(p) && Number(p) >= rule.min && Number(p) <= rule.max);
  if (!valid) {
    const expected = fields === 1 ? `an integer ${rule.min}..${rule.max}` : `${fields} integers ${rule.min}..${rule.max} ("4096 131072 6291456")`;
    throw new SyndropError('SYNDROP_ERR_BAD_SYSCTL', `sysctl: setting key "${name}": Invalid argument — expected ${expected} (${rule.meaning})`);
  }
  const numbers = parts.map(Number);
  return { name, value: fields === 1 ? numbers[0]! : (numbers as unknown as SysctlTriple) };
}

/** Parses `name=value` as given to --sysctl / `syndrop sysctl`. */
export function parseSysctlAssignment(profile: Profile, assignment: string): { name: SysctlName; value: SysctlValue } {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    throw new SyndropError('SYNDROP_ERR_BAD_SYSCTL', `sysctl: "${assignment}" must be of the form name=value`);
  }
  return validateSysctl(profile, assignment.slice(0, eq), assignment.slice(eq + 1));
}

/**
 * The sysctls the packet path reads, as plain numeric fields: a SYN reads several of them,
 * and a string-keyed lookup per read cost ~5 % of the SYN path (make bench --profile).
 */
export interface HotSysctls {
  syncookies: number;
  timestamps: number;
  sack: number;
  windowScaling: number;
  twRecycle: number;
  maxSynBacklog: number;
  abortOnOverflow: number;
  synackRetries: number;
  invalidRatelimit: number;
  rfc1337: number;
  maxTwBuckets: number;
  /** tcp_rmem[1]: the listener's receive buffer, whose half is the initial receive space. */
  rmemDefault: number;
  ecn: number;
  /** max(tcp_rmem[2], rmem_max): the space the offered window scale must cover. */
  rmemLimit: number;
}

/** The live sysctl table of one emulated host: the profile's defaults, then overrides. */
export class Sysctls {
  readonly profile: Profile;
  private readonly values: Partial<SysctlValues>;
  /** Always equal to the table's values; refreshed on every change. */
  readonly hot: HotSysctls = {
    syncookies: 0,
    timestamps: 0,
    sack: 0,
    windowScaling: 0,
    twRecycle: 0,
    maxSynBacklog: 0,
    abortOnOverflow: 0,
    synackRetries: 0,
    invalidRatelimit: 0,
    rfc1337: 0,
    maxTwBuckets: 0,
    rmemDefault: 0,
    ecn: 0,
    rmemLimit: 0,
  };

  constructor(profile: Profile, overrides: readonly string[] = []) {
    this.profile = profile;
    this.values = { ...profile.sysctlDefaults };
    for (const assignment of overrides) {
      const { name, value } = parseSysctlAssignment(profile, assignment);
      this.store(name, value);
    }
    this.refreshHot();
  }

  private refreshHot(): void {
    const hot = this.hot;
    hot.syncookies = this.get('net.ipv4.tcp_syncookies');
    hot.timestamps = this.get('net.ipv4.tcp_timestamps');
    hot.sack = this.get('net.ipv4.tcp_sack');
    hot.windowScaling = this.get('net.ipv4.tcp_window_scaling');
    hot.twRecycle = this.get('net.ipv4.tcp_tw_recycle');
    hot.maxSynBacklog = this.get('net.ipv4.tcp_max_syn_backlog');
    hot.abortOnOverflow = this.get('net.ipv4.tcp_abort_on_overflow');
    hot.synackRetries = this.get('net.ipv4.tcp_synack_retries');
    hot.invalidRatelimit = this.get('net.ipv4.tcp_invalid_ratelimit');
    hot.rfc1337 = this.get('net.ipv4.tcp_rfc1337');
    hot.maxTwBuckets = this.get('net.ipv4.tcp_max_tw_buckets');
    hot.ecn = this.get('net.ipv4.tcp_ecn');
    const rmem = this.vector('net.ipv4.tcp_rmem');
    hot.rmemDefault = rmem[1];
    hot.rmemLimit = Math.max(rmem[2], this.get('net.core.rmem_max'));
  }

  private store(name: SysctlName, value: SysctlValue): void {
    (this.values as Record<string, SysctlValue>)[name] = value;
  }

  /** Value of a sysctl; 0 for one this kernel does not have (e.g. tcp_tw_recycle on 4.12+). */
  get(name: ScalarSysctlName): number {
    return this.values[name] ?? 0;
  }

  /** A three-integer sysctl (tcp_rmem). */
  vector(name: VectorSysctlName): SysctlTriple {
    return this.values[name] ?? [0, 0, 0];
  }

  private valueOf(name: SysctlName): SysctlValue {
    return isVectorSysctl(name) ? this.vector(name) : this.get(name);
  }

  set(assignment: string): { name: SysctlName; value: SysctlValue } {
    const parsed = parseSysctlAssignment(this.profile, assignment);
    this.store(parsed.name, parsed.value);
    this.refreshHot();
    return parsed;
  }

  read(rawName: string): { name: SysctlName; value: SysctlValue } {
    const name = normalizeSysctlName(rawName);
    if (!sysctlExists(this.profile, name)) {
      throw new SyndropError(
        'SYNDROP_ERR_UNKNOWN_SYSCTL',
        `sysctl: cannot stat ${procPath(name)}: No such file or directory — kernel ${this.profile.name} has no ${name}`,
      );
    }
    return { name, value: this.valueOf(name) };
  }

  entries(): Array<{ name: SysctlName; value: SysctlValue }> {
    return (Object.keys(this.values) as SysctlName[]).sort().map((name) => ({ name, value: this.valueOf(name) }));
  }

  /** The integer sysctls only, by name (what explain and the scenario models read). */
  scalars(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { name, value } of this.entries()) if (typeof value === 'number') out[name] = value;
    return out;
  }
}

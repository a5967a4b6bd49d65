// SYN cookies (spec §3.4): stateless ISNs that carry the MSS index and a minute counter,
// checked again on the third ACK. The layout is the kernel's (secure_tcp_syn_cookie);
// the hash is HalfSipHash under per-host keys instead of SHA-1/siphash.

import { hsiphash3, hsiphash4, type HostKeys } from './hash.js';

const COOKIEBITS = 24;
const COOKIEMASK = (1 << COOKIEBITS) - 1;

/** Low 6 bits of a cookie SYN-ACK's TSval carry the options (cookie_init_timestamp). */
export const TS_OPT_WSCALE_MASK = 0x0f;
export const TS_OPT_SACK = 1 << 4;
/** The cookie's TS bit for an ECN agreement (TS_OPT_ECN). */
export const TS_OPT_ECN = 1 << 5;
const TSBITS = 6;
const TSMASK = (1 << TSBITS) - 1;

/** tcp_cookie_time(): minutes on the host's clock. */
export function cookieMinute(clockBaseMs: number, now: number): number {
  return Math.floor((clockBaseMs + now) / 60000) >>> 0;
}

/** Index of the largest table entry ≤ mss, 0 if none (spec §3.4). */
export function cookieMssIndex(table: readonly number[], mss: number): number {
  for (let i = table.length - 1; i > 0; i--) if (mss >= table[i]!) return i;
  return 0;
}

function ports(sport: number, dport: number): number {
  return ((sport << 16) | dport) >>> 0;
}

/** secure_tcp_syn_cookie: saddr/sport are the client's, daddr/dport ours. */
export function makeCookie(
  keys: HostKeys,
  saddr: number,
  daddr: number,
  sport: number,
  dport: number,
  clientIsn: number,
  minute: number,
  mssIndex: number,
): number {
  const p = ports(sport, dport);
  const h0 = hsiphash3(keys.cookieA0, keys.cookieA1, saddr, daddr, p);
  const h1 = hsiphash4(keys.cookieB0, keys.cookieB1, saddr, daddr, p, minute);
  return (h0 + clientIsn + (minute << COOKIEBITS) + ((h1 + mssIndex) & COOKIEMASK)) | 0;
}

/**
 * check_tcp_syn_cookie: the MSS index the cookie carries, or -1 if it is not ours or older
 * than `maxAgeMinutes`. `cookie` = the ACK's ack − 1, `clientIsn` = its seq − 1.
 */
export function checkCookie(
  keys: HostKeys,
  saddr: number,
  daddr: number,
  sport: number,
  dport: number,
  cookie: number,
  clientIsn: number,
  minute: number,
  maxAgeMinutes: number,
  tableLength: number,
): number {
  const p = ports(sport, dport);
  const h0 = hsiphash3(keys.cookieA0, keys.cookieA1, saddr, daddr, p);
  const rest = (cookie - h0 - clientIsn) >>> 0;
  const diff = (minute - (rest >>> COOKIEBITS)) & 0xff;
  if (diff >= maxAgeMinutes) return -1;
  const h1 = hsiphash4(keys.cookieB0, keys.cookieB1, saddr, daddr, p, (minute - diff) >>> 0);
  const mssIndex = (rest - h1) & COOKIEMASK;
  return mssIndex < tableLength ? mssIndex : -1;
}

/**
 * cookie_init_timestamp: our raw TS clock with the low 6 bits replaced by the options,
 * never ahead of the clock. `peerWindowScale` -1 = the client sent none.
 */
export function cookieTimestamp(tsNow: number, peerWindowScale: number, sackOk: boolean, ecnOk = false): number {
  let options = peerWindowScale >= 0 ? peerWindowScale : TS_OPT_WSCALE_MASK;
  if (sackOk) options |= TS_OPT_SACK;
  if (ecnOk) options |= TS_OPT_ECN;
  // int32 bit patterns throughout (callers fold with >>> 0): no boxed uint32 on the cookie path.
  let ts = (tsNow & ~TSMASK) | options;
  if (((ts - tsNow) | 0) > 0) ts = (((tsNow >>> TSBITS) - 1) << TSBITS) | options;
  return ts;
}

export interface DecodedCookieOptions {
  ok: boolean;
  sackOk: boolean;
  /** -1 = no window scaling. */
  peerWindowScale: number;
  timestamps: boolean;
  /** The SYN negotiated ECN (cookie_ecn_ok). */
  ecnOk: boolean;
}

/**
 * cookie_timestamp_decode: options of a cookie connection from the ACK's TSecr (our TSval
 * minus our offset). Without timestamps every option is off. Fails when a sysctl refuses
 * an option the cookie claims.
 */
export function decodeCookieOptions(
  out: DecodedCookieOptions,
  sawTimestamps: boolean,
  tsEcrRaw: number,
  sysctlTimestamps: number,
  sysctlSack: number,
  sysctlWindowScaling: number,
  sysctlEcn = 2,
): DecodedCookieOptions {
  out.ok = true;
  out.sackOk = false;
  out.peerWindowScale = -1;
  out.timestamps = false;
  out.ecnOk = false;
  if (!sawTimestamps) return out;
  if (sysctlTimestamps === 0) {
    out.ok = false;
    return out;
  }
  out.timestamps = true;
  // cookie_ecn_ok: an ECN agreement in the cookie needs tcp_ecn on (no per-route ECN here).
  out.ecnOk = (tsEcrRaw & TS_OPT_ECN) !== 0;
  if (out.ecnOk && sysctlEcn === 0) {
    out.ok = false;
    return out;
  }
  out.sackOk = (tsEcrRaw & TS_OPT_SACK) !== 0;
  if (out.sackOk && sysctlSack === 0) {
    out.ok = false;
    return out;
  }
  const ws = tsEcrRaw & TS_OPT_WSCALE_MASK;
  if (ws === TS_OPT_WSCALE_MASK) return out;
  out.peerWindowScale = ws;
  if (sysctlWindowScaling === 0) out.ok = false;
  return out;
}

// The spec's listen-path rules for clients that connect one after another, written as a tiny
// model over the profile's switches: what each client should experience. Scenarios use it for
// their "expected" column; it never looks at what the emulator did.
//
// Assumes the clients arrive faster than the first SYN-ACK timeout (1 s), so no request has
// timed out yet and every queued request is still "young" (spec §1.6).

import type { ProfileSwitches } from '../../profiles/profile.js';

/** What happened to one client's handshake on the server. */
export type Fate =
  /** SYN-ACK, third ACK accepted: the child waits in the accept queue. */
  | 'queued'
  /** SYN-ACK, third ACK dropped because the accept queue is full: the client believes it is
   *  connected, the server holds a SYN-RECV request (the "ghost", spec §3.2, §9b #109). */
  | 'ghost'
  /** SYN-ACK, third ACK overflowed with tcp_abort_on_overflow=1: RST (spec §3.1, §9b #110). */
  | 'reset'
  /** Cookie SYN-ACK, cookie ACK accepted. */
  | 'cookie'
  /** Cookie SYN-ACK, cookie ACK dropped (accept queue full; never a RST, spec §3.4). */
  | 'cookie-ghost'
  /** SYN dropped: accept queue full (rule of §1.1 C3 / §1.2 D2). */
  | 'dropped-acceptq'
  /** SYN dropped: SYN queue full, syncookies 0 (§1.3). */
  | 'dropped-synq';

export interface ListenSysctls {
  syncookies: number;
  somaxconn: number;
  maxSynBacklog: number;
  abortOnOverflow: number;
}

export interface SequentialPrediction {
  fates: Fate[];
  /** Counter deltas the listen path produces for those clients (one SYN each). */
  listenOverflows: number;
  listenDrops: number;
  reqQFullDoCookies: number;
  embryonicRsts: number;
  /** Accept queue length (ss Recv-Q) and sk_max_ack_backlog (ss Send-Q) afterwards. */
  acceptQueue: number;
  maxAckBacklog: number;
  /** Requests left in SYN-RECV. */
  synRecv: number;
}

/** sk_max_ack_backlog: listen()'s backlog clamped to somaxconn, unsigned compare (spec §5.1). */
export function maxAckBacklog(backlog: number, somaxconn: number): number {
  return backlog < 0 || backlog > somaxconn ? somaxconn : backlog;
}

/** SYN-queue capacity (spec §5.2 for pow2, §1.4/§5.3 for backlog sizing). */
export function synQueueCapacity(sw: ProfileSwitches, backlog: number, sysctls: Pick<ListenSysctls, 'somaxconn' | 'maxSynBacklog'>): number {
  const max = maxAckBacklog(backlog, sysctls.somaxconn);
  if (sw.synQueueSizing === 'pow2') {
    let n = Math.max(Math.min(max, sysctls.maxSynBacklog), 8);
    let pow = 1;
    while (pow < n + 1) pow *= 2;
    n = pow;
    return n;
  }
  return sw.synQueueFullCmp === '>' ? max + 1 : max;
}

/** Accept queue full: sk_ack_backlog > sk_max_ack_backlog (spec §1.5, all versions). */
export function acceptQueueFull(acceptQueue: number, max: number): boolean {
  return acceptQueue > max;
}

/**
 * Clients 1..n connect one after another, the application never accepts, nothing times out.
 * Spec §1.1 (3.10) and §1.2 (4.4+), order C2/D1 (SYN queue + flood action) then C3/D2
 * (accept-queue rule), then §3.1 R10 for the third ACK.
 */
export function predictSequentialConnects(sw: ProfileSwitches, backlog: number, sysctls: ListenSysctls, n: number): SequentialPrediction {
  const max = maxAckBacklog(backlog, sysctls.somaxconn);
  const synCap = synQueueCapacity(sw, backlog, sysctls);
  const alwaysCookies = sysctls.syncookies === 2 && sw.syncookiesAlwaysMode;
  let acc = 0;
  let qlen = 0;
  let young = 0;
  const p: SequentialPrediction = {
    fates: [],
    listenOverflows: 0,
    listenDrops: 0,
    reqQFullDoCookies: 0,
    embryonicRsts: 0,
    acceptQueue: 0,
    maxAckBacklog: max,
    synRecv: 0,
  };
  for (let i = 0; i < n; i++) {
    let wantCookie = false;
    if (alwaysCookies || qlen >= synCap) {
      // tcp_syn_flood_action (§1.3)
      if (sysctls.syncookies === 0) {
        p.fates.push('dropped-synq');
        p.listenDrops++;
        continue;
      }
      wantCookie = true;
      p.reqQFullDoCookies++;
    }
    if (acceptQueueFull(acc, max) && (sw.synDropRule === 'full' || young > 1)) {
      p.fates.push('dropped-acceptq');
      p.listenOverflows++;
      p.listenDrops++;
      continue;
    }
    if (wantCookie) {
      if (sw.cookieCountsListenDrop) p.listenDrops++;
      if (acceptQueueFull(acc, max)) {
        p.fates.push('cookie-ghost');
        p.listenOverflows++;
        p.listenDrops++;
      } else {
        acc++;
        p.fates.push('cookie');
      }
      continue;
    }
    // Request queued (young), SYN-ACK sent; the client's third ACK follows at once.
    qlen++;
    young++;
    if (acceptQueueFull(acc, max)) {
      p.listenOverflows++;
      p.listenDrops++;
      if (sysctls.abortOnOverflow === 1) {
        qlen--;
        young--;
        p.embryonicRsts++;
        p.fates.push('reset');
      } else {
        p.fates.push('ghost');
      }
    } else {
      qlen--;
      young--;
      acc++;
      p.fates.push('queued');
    }
  }
  p.acceptQueue = acc;
  p.synRecv = qlen;
  return p;
}

/** What the client itself sees for a fate. */
export function clientView(fate: Fate): 'connected' | 'dropped' | 'reset' {
  switch (fate) {
    case 'queued':
    case 'ghost':
    case 'cookie':
    case 'cookie-ghost':
      return 'connected';
    case 'reset':
      return 'reset';
    default:
      return 'dropped';
  }
}

/** "1–3 queued, 4–5 ghost, 6 dropped-acceptq" */
export function describeFates(fates: readonly string[]): string {
  const parts: string[] = [];
  let start = 0;
  for (let i = 1; i <= fates.length; i++) {
    if (i === fates.length || fates[i] !== fates[start]) {
      parts.push(`${i - start === 1 ? `${start + 1}` : `${start + 1}–${i}`} ${fates[start]}`);
      start = i;
    }
  }
  return parts.join(', ');
}

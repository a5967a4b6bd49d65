// cookie_v4_check (spec §3.4): a bare ACK to a listener is a syncookie's third ACK, or a
// stray segment that gets a RST.

import type { Host } from './host.js';
import type { Listener } from './listener.js';
import { checkCookie, cookieMinute, decodeCookieOptions } from './syncookies.js';
import { Verdict } from './verdict.js';

/** A bare ACK to a listener: a syncookie, or a stray segment (spec §3.4). */
export function cookieCheck(host: Host, listener: Listener, src: number): number {
  const sw = host.switches;
  const tcp = host.tcp;
  const syncookies = host.sysctls.hot.syncookies;
  if (syncookies === 0) {
    host.sendReset();
    return host.apply(Verdict.RST_STRAY_ACK);
  }
  const sinceOverflow = host.now - listener.lastOverflow;
  const noRecentOverflow =
    sinceOverflow > sw.cookieOverflowWindowMs || (sw.cookieRejectFutureOverflow && sinceOverflow < -1000);
  if (noRecentOverflow) {
    host.sendReset();
    return host.apply(sw.syncookiesFailedOnNoOverflow ? Verdict.COOKIE_NO_RECENT_OVERFLOW : Verdict.RST_STRAY_ACK);
  }
  const minute = cookieMinute(host.cookieClockBase, host.now);
  const cookie = (tcp.ack - 1) >>> 0;
  const clientIsn = (tcp.seq - 1) >>> 0;
  const mssIndex = checkCookie(
    host.keys,
    src,
    host.address,
    tcp.srcPort,
    tcp.dstPort,
    cookie,
    clientIsn,
    minute,
    sw.cookieMaxAgeMinutes,
    sw.cookieMssTable.length,
  );
  if (mssIndex < 0) {
    host.sendReset();
    return host.apply(Verdict.COOKIE_BAD);
  }
  const o = host.options;
  const tsOffset = o.hasTimestamps ? host.tsOffsetFor(src, tcp.srcPort, tcp.dstPort) : 0;
  const decoded = decodeCookieOptions(
    host.cookieOptions,
    o.hasTimestamps,
    (o.tsEcr - tsOffset) >>> 0,
    host.sysctls.hot.timestamps,
    host.sysctls.hot.sack,
    host.sysctls.hot.windowScaling,
  );
  if (!decoded.ok) {
    host.sendReset();
    return host.apply(Verdict.COOKIE_OPTIONS_BAD);
  }
  if (listener.acceptQueueFull()) return host.apply(Verdict.COOKIE_ACCEPTQ_FULL, listener.acceptQueueLength, listener);
  const conn = host.createChild(
    listener,
    src,
    tcp.srcPort,
    tcp.dstPort,
    cookie,
    clientIsn,
    sw.cookieMssTable[mssIndex]!,
    decoded.peerWindowScale,
    decoded.sackOk,
    decoded.timestamps,
    tsOffset,
    o.hasTimestamps ? o.tsVal : 0,
    -1,
  );
  host.apply(Verdict.COOKIE_ACCEPTED, mssIndex, listener);
  host.childReceive(conn);
  return Verdict.COOKIE_ACCEPTED;
}

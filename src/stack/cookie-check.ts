// cookie_v4_check / cookie_v6_check (spec §3.4): a bare ACK to a listener is a syncookie's third ACK, or a
// stray segment that gets a RST.

import type { Listener } from './listener.js';
import { apply, sendReset } from './output.js';
import { initialReceiveWindow } from './receive-window.js';
import type { Segment } from './segment.js';
import { childReceive, createChild } from './sockets.js';
import type { KernelState } from './state.js';
import { checkCookie, cookieMinute, decodeCookieOptions } from './syncookies.js';
import { Verdict } from './verdict.js';

/** A bare ACK to a listener: a syncookie, or a stray segment (spec §3.4). */
export function cookieCheck(state: KernelState, seg: Segment, listener: Listener): number {
  const src = seg.peerAddr;
  const sw = state.switches;
  const tcp = seg.tcp;
  const syncookies = state.sysctls.hot.syncookies;
  if (syncookies === 0) {
    sendReset(state, seg);
    return apply(state, seg, Verdict.RST_STRAY_ACK);
  }
  const sinceOverflow = state.now - listener.lastOverflow;
  const noRecentOverflow =
    sinceOverflow > sw.cookieOverflowWindowMs || (sw.cookieRejectFutureOverflow && sinceOverflow < -1000);
  if (noRecentOverflow) {
    sendReset(state, seg);
    return apply(state, seg, sw.syncookiesFailedOnNoOverflow ? Verdict.COOKIE_NO_RECENT_OVERFLOW : Verdict.RST_STRAY_ACK);
  }
  const minute = cookieMinute(state.cookieClockBase, state.now);
  const cookie = (tcp.ack - 1) >>> 0;
  const clientIsn = (tcp.seq - 1) >>> 0;
  const table = state.cookieMssTableFor(src);
  const mssIndex = checkCookie(
    state.keys,
    state.peerWord(src),
    state.localWord(src),
    tcp.srcPort,
    tcp.dstPort,
    cookie,
    clientIsn,
    minute,
    sw.cookieMaxAgeMinutes,
    table.length,
  );
  if (mssIndex < 0) {
    sendReset(state, seg);
    return apply(state, seg, Verdict.COOKIE_BAD);
  }
  const o = seg.options;
  const tsOffset = o.hasTimestamps ? state.tsOffsetFor(src, tcp.srcPort, tcp.dstPort) : 0;
  const decoded = decodeCookieOptions(
    seg.cookieOptions,
    o.hasTimestamps,
    (o.tsEcr - tsOffset) >>> 0,
    state.sysctls.hot.timestamps,
    state.sysctls.hot.sack,
    state.sysctls.hot.windowScaling,
    state.sysctls.hot.ecn,
  );
  if (!decoded.ok) {
    sendReset(state, seg);
    return apply(state, seg, Verdict.COOKIE_OPTIONS_BAD);
  }
  if (listener.acceptQueueFull()) return apply(state, seg, Verdict.COOKIE_ACCEPTQ_FULL, listener.acceptQueueLength, listener);
  const child = state.child;
  child.peerAddr = src;
  child.peerPort = tcp.srcPort;
  child.localPort = tcp.dstPort;
  child.iss = cookie;
  child.irs = clientIsn;
  child.peerMss = table[mssIndex]!;
  child.peerWindowScale = decoded.peerWindowScale;
  child.sackOk = decoded.sackOk;
  child.timestamps = decoded.timestamps;
  child.tsOffset = tsOffset;
  child.tsRecent = o.hasTimestamps ? o.tsVal : 0;
  // cookie_v4_check sizes the window from the cookie's MSS (65000 = 50 × 1300, spec §8c).
  child.rcvWnd = initialReceiveWindow(sw, state.sysctls.hot, table[mssIndex]!);
  child.ecnOk = decoded.ecnOk;
  child.rttSample = -1;
  const conn = createChild(state, listener, child);
  apply(state, seg, Verdict.COOKIE_ACCEPTED, mssIndex, listener);
  childReceive(state, seg, conn);
  return Verdict.COOKIE_ACCEPTED;
}

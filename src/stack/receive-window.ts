// tcp_select_initial_window and tcp_select_window as far as the listen path shows them (spec
// §1.10, §8c): the receive window a SYN-ACK, a child socket and its TIME_WAIT advertise, and
// the window scale we offer. A real socket's window later grows with autotuning; syndrop's
// application reads at once, so the initial window stays the advertised one.

import type { ProfileSwitches } from '../profiles/profile.js';
import type { HotSysctls } from '../profiles/sysctl.js';

/** TCP_MAX_WSCALE. */
const MAX_WSCALE = 14;

/**
 * The window scale we offer: the smallest shift that makes max(tcp_rmem[2], rmem_max) fit in
 * 16 bits, ilog2(space) − 15 clamped to 0..14 (3.10's shift loop gives the same): 6 MiB → 7,
 * 32 MiB → 10, 1 MiB → 5.
 */
export function offeredWindowScale(hot: HotSysctls): number {
  const space = hot.rmemLimit >>> 0;
  if (space === 0) return 0;
  const ilog2 = 31 - Math.clz32(space);
  return Math.min(MAX_WSCALE, Math.max(0, ilog2 - 15));
}

/**
 * rcv_wnd for a connection whose segments carry `mss` bytes (our advertised MSS minus the TS
 * option, or a cookie's MSS): the receive space tcp_rmem[1] / 2 (tcp_win_from_space at the
 * default scaling) rounded down to the MSS, at most 65535, and on 3.10 / 4.x at most 10 / 20
 * segments (fewer above a 1460-byte MSS, never under 2).
 */
export function initialReceiveWindow(sw: ProfileSwitches, hot: HotSysctls, mss: number): number {
  let space = Math.floor(hot.rmemDefault / 2);
  if (space > mss) space -= space % mss;
  let window = Math.min(space, 0xffff);
  const segments = sw.initialRcvWndSegments;
  if (segments > 0) {
    const cap = mss > 1460 ? Math.max(Math.floor((1460 * segments) / mss), 2) : segments;
    window = Math.min(window, cap * mss);
  }
  return window;
}

/**
 * tcp_select_window for a full socket (spec §8c): the new rcv_wnd, given the window still open
 * (cur_win = rcv_wup + rcv_wnd − rcv_nxt); `windowField` turns it into the header's value (a
 * number, not an object of both: every segment a connection sends asks). While what arrived is unread, free space is below it and the
 * kernel keeps cur_win rounded up to the scale unit (ALIGN): 65160 − 18 data bytes → 509 × 128,
 * a FIN → 65184 / 32 = 2037, 65536 / 1024 = 64; unscaled, 6.1 gives 64239 after a FIN where
 * 3.10 and 4.x keep 14600 / 29200 (`unscaledShrinks`). Once the application has read, free
 * space is back to the initial window, rounded up to the unit; never below cur_win.
 */
export function selectWindow(
  curWin: number,
  initialRcvWnd: number,
  wscale: number,
  unread: 'none' | 'data' | 'fin',
  unscaledShrinks: boolean,
  roundsFreeSpaceDown = false,
): number {
  const unit = 2 ** wscale;
  let rcvWnd: number;
  // Unscaled, only the FIN case is measured (6.1: 64239); the 6.18 cookie connection kept
  // 65000 with data in flight, so unread data leaves an unscaled window as it was.
  const shrinks = wscale > 0 ? unread !== 'none' : unread === 'fin' && unscaledShrinks;
  if (shrinks) rcvWnd = alignUp(curWin, unit);
  else {
    // After the read the free space is the initial window again; newer kernels round it down
    // to the scale unit first, and a window smaller than what was promised is not taken.
    const free = roundsFreeSpaceDown && wscale > 0 ? Math.floor(initialRcvWnd / unit) * unit : alignUp(initialRcvWnd, unit);
    rcvWnd = free >= curWin ? free : alignUp(curWin, unit);
  }
  return rcvWnd;
}

/** The window field that advertises `rcvWnd` bytes at scale `wscale`. */
export function windowField(rcvWnd: number, wscale: number): number {
  return Math.min(0xffff, rcvWnd / 2 ** wscale);
}

function alignUp(bytes: number, unit: number): number {
  return Math.ceil(bytes / unit) * unit;
}

// The frame loop's one timer. The stack's timers fall on whole virtual milliseconds
// (Engine.now); what matters is waking at the start of that millisecond. setTimeout wakes up
// to a millisecond late, at the phase within the millisecond of the frame that armed it — and
// at a steady rate the next frame comes at that same phase, so it usually arrived first and
// its reply waited behind the expiry work (issue 21: 94 % of SYNs at 1,000/s on the queued
// path). The addon's timerfd (native/alarm.cc) wakes within microseconds of the boundary.

import { openNativeAlarm } from './tun.js';

export interface Alarm {
  /** Calls the alarm's callback once, `delayMs` (fractional) from now; replaces a pending arm. */
  arm(delayMs: number): void;
  cancel(): void;
  close(): void;
}

export type AlarmFactory = (fire: () => void) => Alarm;

/** setTimeout, whole milliseconds: for devices without the addon (tests, test doubles). */
export const timeoutAlarm: AlarmFactory = (fire) => {
  let timer: NodeJS.Timeout | null = null;
  const cancel = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  return {
    arm(delayMs) {
      cancel();
      timer = setTimeout(() => {
        timer = null;
        fire();
      }, Math.max(0, Math.ceil(delayMs)));
    },
    cancel,
    close: cancel,
  };
};

/** The addon's timerfd alarm (needs the built addon, as the TUN device does). */
export const preciseAlarm: AlarmFactory = (fire) => openNativeAlarm(fire);

// TCP_DEFER_ACCEPT's unit conversion (net/ipv4/tcp.c secs_to_retrans / retrans_to_secs, the
// same from 2.6.32 to 6.18): the option is kept as a number of SYN-ACK retransmissions, so
// getsockopt reads back the seconds those retransmissions span (5 → 3 → 1 + 2 + 4 = 7, spec §8).

import { TCP_RTO_MAX, TCP_TIMEOUT_INIT } from './constants.js';

const TIMEOUT_SEC = TCP_TIMEOUT_INIT / 1000;
const RTO_MAX_SEC = TCP_RTO_MAX / 1000;

/** setsockopt(TCP_DEFER_ACCEPT, seconds) → rskq_defer_accept (retransmissions, at most 255). */
export function deferAcceptRetrans(seconds: number): number {
  if (seconds <= 0) return 0;
  let timeout = TIMEOUT_SEC;
  let period = timeout;
  let retrans = 1;
  while (seconds > period && retrans < 255) {
    retrans++;
    timeout = Math.min(timeout * 2, RTO_MAX_SEC);
    period += timeout;
  }
  return retrans;
}

/** getsockopt(TCP_DEFER_ACCEPT): the seconds `retrans` retransmissions span. */
export function deferAcceptSeconds(retrans: number): number {
  if (retrans <= 0) return 0;
  let timeout = TIMEOUT_SEC;
  let period = timeout;
  for (let k = 1; k < retrans; k++) {
    timeout = Math.min(timeout * 2, RTO_MAX_SEC);
    period += timeout;
  }
  return period;
}

// Which version-dependent counters a kernel has (spec §6 "Counter sets differ"): profile
// data, read by the stack's counter catalogue.

/** Which kernel-version-dependent counters a profile's kernel has (spec §6 "Counter sets differ"). */
export interface CounterPresence {
  /** TCPSynRetrans, TCPACKSkippedSynRecv: 4.x+ (absent in 3.10). */
  readonly hasSynRetransCounters: boolean;
  /** PAWSPassive: only while tw_recycle exists (≤ 4.11). */
  readonly hasPawsPassive: boolean;
  /** PAWSTimewait, TCPACKSkippedTimeWait's TW PAWS split: 6.16+. */
  readonly hasPawsTimewait: boolean;
  /** TSEcrRejected: 6.15+ (and 6.14.y stable). */
  readonly hasTsecrRejected: boolean;
}

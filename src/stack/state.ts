// The emulated kernel's state: what Linux keeps in its hash tables, MIBs, timer wheels and
// per-netns sysctls, in one object. Kernel functions take it as their first parameter with
// the segment being processed as the second (gVisor's handleListenSegment(ctx, s), smoltcp's
// process_tcp(&mut self, sockets, ip_repr, payload)); nothing about the current segment or
// a function's result is stored here.

import type { Profile } from '../profiles/profile.js';
import type { Sysctls } from '../profiles/sysctl.js';
import { SegmentSpec } from '../wire/builder.js';
import type { Connection, ConnectionHost } from './conn.js';
import { EventRing } from './events.js';
import { FlowTable } from './flow-table.js';
import { HostKeys, hsiphash3, hsiphash4, seededRandom } from './hash.js';
import { Ipv6Peers, isIpv6Key } from './peers6.js';

/** IP_IDENTS_SZ. */
const IP_IDENTS = 2048;
/** Separates the IP id hash from the TS-offset hash that shares its key. */
const IP_IDENT_DOMAIN = 0x49504944;
import type { Listener } from './listener.js';
import { TcpMetrics } from './metrics.js';
import { newCounterArray } from './mib.js';
import { RequestPool } from './reqsk.js';
import { ChildParameters, FullSockets } from './sockets.js';
import { TimerHeap } from './timers.js';
import { TimewaitPool } from './timewait.js';
import { TxRing } from './tx.js';
import { VERDICTS } from './verdict.js';

/** `--family 4|6|both`: which families the listening sockets are bound in (spec: issue 20). */
export type ListenFamilies = '4' | '6' | 'both';

/** The IPv6 header is 20 bytes longer than IPv4's: tcp_v6 advertises route MTU − 60. */
const IPV6_MSS_DELTA = 20;
/** Separates the flow-label hash from the others sharing its key. */
const FLOW_LABEL_DOMAIN = 0x666c6f77;

export interface KernelConfig {
  profile: Profile;
  sysctls: Sysctls;
  /** The emulated host's address (10.77.0.2 in the lab). */
  address: number;
  /** Prefix length of the emulated network, for the directed broadcast address. */
  prefixLength?: number;
  /** Our MSS: route MTU − 40 (1460 on a 1500-byte TUN); IPv6's is 20 bytes less (1440). */
  mss?: number;
  /** The emulated host's IPv6 address (fd77::2 in the lab) as four words; none = IPv4 only. */
  address6?: Uint32Array | null;
  /** Families the listeners answer (`--family`): the other family's SYNs meet no listener. */
  listenFamilies?: ListenFamilies;
  /** Seed for keys and clock bases; random when absent. */
  seed?: number;
  tx?: TxRing;
  eventCapacity?: number;
  /**
   * Frames arrive with their TCP checksums already verified, as from a NIC with receive
   * checksum offload (skb->ip_summed = CHECKSUM_UNNECESSARY): tcp_v4_rcv and tcp_v6_rcv skip
   * the sum; the IPv4 header checksum is still checked (ip_rcv_core always does). For the
   * offline engines, whose frames are checksummed by construction; a TUN's are not.
   */
  rxChecksumUnnecessary?: boolean;
}

/**
 * The userspace side of the listening sockets, as the kernel sees it: a process that calls
 * accept(). The stack only says when it may run; what it does is the application's (src/app).
 */
export interface ListenerApplication {
  /** The application's turn: it may accept() now (virtual ms). */
  run(now: number): void;
  /** When it next wants a turn (virtual ms), Infinity when idle. */
  nextRunAt(now: number): number;
}

export class KernelState {
  readonly profile: Profile;
  readonly sysctls: Sysctls;
  readonly address: number;
  readonly broadcast: number;
  readonly ourMss: number;
  /** Our IPv6 MSS (route MTU − 60: 1440 on a 1500-byte TUN, spec §1.10). */
  readonly ourMss6: number;
  /** The host's IPv6 address (all zero when it has none) and its keyed digest. */
  readonly address6 = new Uint32Array(4);
  readonly hasAddress6: boolean;
  readonly listenFamilies: ListenFamilies;
  /** KernelConfig.rxChecksumUnnecessary: TCP input skips the checksum sum. */
  readonly rxChecksumUnnecessary: boolean;
  /** IPv6 peers behind their 32-bit keys (peers6.ts). */
  readonly peers6: Ipv6Peers;
  private readonly address6Digest: number;
  readonly counters = newCounterArray();
  /** Per-verdict totals (drops by reason, `syndrop top`). */
  readonly verdictCounts: Float64Array = new Float64Array(VERDICTS.length);
  readonly events: EventRing;
  readonly tx: TxRing;
  readonly keys: HostKeys;
  /** ip_idents: the shared IP id counters of the control socket's replies. */
  private readonly ipIdents = new Uint16Array(IP_IDENTS);
  readonly metrics = new TcpMetrics();
  readonly listeners: Listener[] = [];
  readonly requests = new RequestPool();
  readonly timewait = new TimewaitPool();
  readonly connections = new Map<number, Connection>();
  readonly flows: FlowTable;
  readonly requestTimers = new TimerHeap();
  readonly timewaitTimers = new TimerHeap();
  readonly connTimers = new TimerHeap();
  /** Log lines the kernel would print (flood warning), for `syndrop run`'s stderr. */
  readonly kernelLog: string[] = [];
  /** The one output scratch record: every reply is described here, then written to tx. */
  readonly spec = new SegmentSpec();
  /** The scratch record a handshake fills for createChild (sockets.ts). */
  readonly child = new ChildParameters();
  readonly cookieClockBase: number;
  private readonly tsClockBase: number;
  now = 0;
  nextConnId = 1;
  application: ListenerApplication | null = null;
  /** What connections call back into: output, timers, their end. */
  readonly connectionHost: ConnectionHost = new FullSockets(this);

  constructor(config: KernelConfig) {
    this.profile = config.profile;
    this.sysctls = config.sysctls;
    this.address = config.address >>> 0;
    const prefix = config.prefixLength ?? 24;
    this.broadcast = (this.address | (2 ** (32 - prefix) - 1)) >>> 0;
    this.ourMss = config.mss ?? 1460;
    this.ourMss6 = this.ourMss - IPV6_MSS_DELTA;
    const random = seededRandom(config.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.keys = new HostKeys(random);
    // Keys derived from the drawn ones: drawing more would move every seeded clock base.
    this.peers6 = new Ipv6Peers(this.keys.flow ^ 0x36767065, this.keys.ts1 ^ 0x65657273);
    if (config.address6) this.address6.set(config.address6);
    this.hasAddress6 = config.address6 != null;
    this.address6Digest = hsiphash4(this.keys.flow ^ 0x36767065, this.keys.ts1 ^ 0x65657273, this.address6[0]!, this.address6[1]!, this.address6[2]!, this.address6[3]!);
    this.listenFamilies = config.listenFamilies ?? 'both';
    this.rxChecksumUnnecessary = config.rxChecksumUnnecessary ?? false;
    this.tsClockBase = random();
    this.cookieClockBase = random() * 1000;
    this.flows = new FlowTable(this.keys.flow);
    this.tx = config.tx ?? new TxRing();
    this.events = new EventRing(config.eventCapacity ?? 65536);
  }

  get switches() {
    return this.profile.switches;
  }

  /**
   * The peer as the keyed hashes see it: an IPv4 address itself, an IPv6 address's digest
   * (the kernel hashes all 128 bits; a keyed digest keeps the result a function of the
   * address, not of the table slot). `localWord` is our side of the same pair.
   */
  peerWord(peerKey: number): number {
    return isIpv6Key(peerKey) ? this.peers6.digest(peerKey) : peerKey;
  }

  localWord(peerKey: number): number {
    return isIpv6Key(peerKey) ? this.address6Digest : this.address;
  }

  /** Our advertised MSS towards this peer's family. */
  mssFor(peerKey: number): number {
    return isIpv6Key(peerKey) ? this.ourMss6 : this.ourMss;
  }

  /** The cookie MSS table of the peer's family (spec §3.4; IPv6's per version, profiles). */
  cookieMssTableFor(peerKey: number): readonly number[] {
    return isIpv6Key(peerKey) ? this.switches.cookieMssTable6 : this.switches.cookieMssTable;
  }

  /**
   * Turns a reply addressed to an IPv6 peer key into an IPv6 segment (output.ts calls this
   * for every segment it emits): the 128-bit addresses, and the flow label auto_flowlabels
   * gives it — a hash of the flow, the same for every segment of it (measured on 6.18: the
   * SYN-ACK and the data share one label), or 0 where the profile has no auto labels.
   */
  completeIpv6(spec: SegmentSpec): void {
    const peerKey = spec.dstAddr;
    spec.ipv6 = true;
    spec.srcAddr6.set(this.address6);
    this.peers6.copyTo(peerKey, spec.dstAddr6);
    if (this.switches.ipv6AutoFlowLabel) {
      const ports = ((spec.dstPort << 16) | spec.srcPort) >>> 0;
      spec.flowLabel = (hsiphash3(this.keys.ts0, this.keys.ts1 ^ FLOW_LABEL_DOMAIN, this.peerWord(peerKey), this.address6Digest, ports) & 0xfffff) || 1;
    }
  }

  listenerFor(port: number): Listener | undefined {
    for (const l of this.listeners) if (l.port === port) return l;
    return undefined;
  }

  /**
   * Our TCP timestamp clock before any per-flow offset: jiffies up to 4.12 (HZ ticks per
   * second: 4 ms steps on Debian/Ubuntu's HZ=250 builds), milliseconds from 4.13 (spec §8c).
   */
  tsNow(): number {
    // int32 bit pattern: callers add their offset and fold with >>> 0 (no boxed uint32).
    return (this.tsClockBase + Math.floor((this.now * this.switches.tsClockHz) / 1000)) | 0;
  }

  /**
   * The seconds clock of ts_recent_stamp / tcpm_ts_stamp (get_seconds(), later
   * ktime_get_seconds()). The kernel's is never 0 by the time a connection exists, and 0
   * means "no stamp" in all those fields (spec §2.2, §2.3); virtual time starts at 0, so the
   * first virtual second reads as 1 to keep a stamp taken then from looking absent.
   */
  nowSeconds(): number {
    return Math.max(1, Math.floor(this.now / 1000));
  }

  /** secure_tcp_sequence_number: keyed hash of the 4-tuple + a 64 ns clock (spec §1.10). */
  secureIsn(peerAddr: number, peerPort: number, localPort: number): number {
    const h = hsiphash4(this.keys.isn0, this.keys.isn1, this.peerWord(peerAddr), this.localWord(peerAddr), (peerPort << 16) | localPort, 0);
    // int32 bit pattern (no boxed uint32 per SYN); stored in a Uint32Array or written as bytes.
    return (h + Math.floor(this.now * 15625)) | 0;
  }

  /**
   * IP id for an ACK or RST of the control socket (spec §8c, profile ctlReplyIpId): 0, or the
   * shared generator's next id for this destination (ip_idents_reserve: a bucket chosen by a
   * keyed hash of the addresses, counting up from a keyed start; the kernel's time-based
   * perturbation between uses is left out).
   */
  ctlReplyIpId(peerAddr: number): number {
    if (this.switches.ctlReplyIpId === 'zero') return 0;
    const h = hsiphash3(this.keys.ts0, this.keys.ts1, this.peerWord(peerAddr), this.localWord(peerAddr), IP_IDENT_DOMAIN);
    const bucket = h & (IP_IDENTS - 1);
    const next = (this.ipIdents[bucket]! + 1) & 0xffff;
    this.ipIdents[bucket] = next;
    return ((h >>> 16) + next) & 0xffff;
  }

  /** A full socket's first IP id (inet_id: random at creation, spec §8c). */
  initialSocketIpId(peerAddr: number, peerPort: number, localPort: number, iss: number): number {
    return hsiphash4(this.keys.isn0, this.keys.isn1, this.peerWord(peerAddr), this.localWord(peerAddr), (peerPort << 16) | localPort, iss) & 0xffff;
  }

  /** TSval offset of a flow (spec §2.5): none, per connection / 4-tuple, or per address pair. */
  tsOffsetFor(peerAddr: number, peerPort: number, localPort: number): number {
    const mode = this.switches.tsOffsets;
    if (mode === 'none' || this.sysctls.hot.timestamps === 2) return 0;
    const ports = mode === 'perPair' ? 0 : ((peerPort << 16) | localPort) >>> 0;
    return hsiphash3(this.keys.ts0, this.keys.ts1, this.peerWord(peerAddr), this.localWord(peerAddr), ports);
  }
}

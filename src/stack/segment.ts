// The segment being processed and what the kernel functions learn about it on the way:
// Linux's skb with its TCP_SKB_CB. One record is reused for every frame (the hot path
// allocates nothing); kernel functions receive it as a parameter and never keep it.

import { IcmpView } from '../wire/icmp.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6View } from '../wire/ipv6.js';
import { TcpView } from '../wire/tcp.js';
import { TcpOptions } from '../wire/tcp-options.js';
import type { DecodedCookieOptions } from './syncookies.js';

export class Segment {
  // Views over the frame's bytes, re-pointed per frame.
  readonly ip = new Ipv4View(new Uint8Array(0));
  readonly ip6 = new Ipv6View(new Uint8Array(0));
  readonly tcp = new TcpView(new Uint8Array(0));
  readonly icmp = new IcmpView(new Uint8Array(0));
  /** The options as tcp_parse_options records them (sysctls applied, spec §1.7). */
  readonly options = new TcpOptions();
  /** Scratch for cookie_v4_check's decoded options (spec §3.4). */
  readonly cookieOptions: DecodedCookieOptions = { ok: true, sackOk: false, peerWindowScale: -1, timestamps: false, ecnOk: false };

  // The flow the events record (header fields read once from the checked bytes).
  peerAddr = 0;
  peerPort = 0;
  localPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** Sent to the directed broadcast or a multicast address. */
  toBroadcast = false;
  /** Came over IPv6 (`ip6` is the header, `peerAddr` an IPv6 key: peers6.ts). */
  ipv6 = false;

  /**
   * TCP_SKB_CB(skb)->tcp_tw_isn: set when a TIME_WAIT bucket accepts a new SYN (spec §1.9);
   * the listener then queues the request with this ISN and skips the flood and peer checks.
   */
  timewaitIsn = 0;

  /**
   * inet_rsk(req)->ecn_ok as tcp_ecn_create_request decides it from this SYN: ECE and CWR set,
   * the IP header not ECT-marked, and tcp_ecn ≠ 0 (spec §1.10, issue 15 item 11).
   */
  ecnOk = false;

  /** A frame arrives: nothing known yet beyond its source. */
  begin(peerAddr: number): void {
    this.peerAddr = peerAddr;
    this.peerPort = 0;
    this.localPort = 0;
    this.seq = this.ack = this.flags = 0;
    this.toBroadcast = false;
    this.ipv6 = false;
    this.timewaitIsn = 0;
    this.ecnOk = false;
    this.options.hasTimestamps = false;
  }

  /**
   * Not a frame but a timer or a socket's own transition: the flow stands in for "the
   * segment" in the event it records (a request's expiry, TIME_WAIT entry and end).
   */
  forFlow(peerAddr: number, peerPort: number, localPort: number, seq: number, ack: number): this {
    this.begin(peerAddr);
    this.peerPort = peerPort;
    this.localPort = localPort;
    this.seq = seq;
    this.ack = ack;
    return this;
  }
}

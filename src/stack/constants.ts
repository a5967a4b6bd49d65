// Kernel constants the listen path uses (include/net/tcp.h), and how the ehash tags its entries.

/** TCP_TIMEOUT_INIT (RFC 6298): first SYN-ACK retransmission after 1 s. */
export const TCP_TIMEOUT_INIT = 1000;
export const TCP_RTO_MAX = 120_000;
/** 3.10's listener prune timer period (TCP_SYNQ_INTERVAL, spec §4.2). */
export const TCP_SYNQ_INTERVAL = 200;
/** TCP_PAWS_MSL / TCP_PAWS_WINDOW (spec §2.3). */
export const TCP_PAWS_MSL_SEC = 60;
export const TCP_PAWS_WINDOW = 1;
/** TCP_MSS_DEFAULT: assumed when a SYN has no MSS option (spec §1.1 C5). */
export const TCP_MSS_DEFAULT = 536;

/** tcp_min_snd_mss (default 48, since the 2019 SACK-panic fixes): the send MSS never goes lower. */
export const TCP_MIN_SND_MSS = 48;

/** Kinds of ehash entries (FlowTable values are index << 2 | kind). */
export const FLOW_REQUEST = 1;
export const FLOW_CONN = 2;
export const FLOW_TIMEWAIT = 3;

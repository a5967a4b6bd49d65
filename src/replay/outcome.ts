// What happened to one connection attempt, on each side of a replay: what the real server
// did (read off the capture's server segments) and what the emulated kernel did (read off
// its decisions and replies). Plain fields per 4-tuple, classified at the end.

/** The OUTCOME vocabulary (issue 17). */
export type Outcome = 'established' | 'established-cookie' | 'dropped' | 'reset' | 'half-open' | 'ghost';

export const OUTCOMES: readonly Outcome[] = ['established', 'established-cookie', 'dropped', 'reset', 'half-open', 'ghost'];

/** An ISN or TSval not seen (sequence numbers are uint32: -1 is none of them). */
export const NONE = -1;

/** What the capture shows the real server doing for one client 4-tuple. */
export interface RealSide {
  synAcks: number;
  /**
   * ISN and TSval of the latest SYN-ACK (to translate the client's ACKs), NONE before one (or
   * without timestamps). A number, never null: a field that may hold null keeps each uint32
   * above 2^31 in a heap box of its own, a new one per SYN-ACK.
   */
  isn: number;
  tsVal: number;
  /** The SYN-ACK dropped the SACK/window-scale the SYN offered without timestamps: a cookie (spec §1.1 C5). */
  cookieEvident: boolean;
  /** Virtual ms the client acknowledged the SYN-ACK (its handshake completed), -1 never. */
  clientCompletedAt: number;
  /** A SYN-ACK came again after the client's ACK: the server was still in SYN-RECV (spec §3.2). */
  synAckAfterCompletion: boolean;
  /** A RST from the server, and whether anything but SYN-ACKs and RSTs came from it. */
  reset: boolean;
  otherSegments: boolean;
}

/** What the emulated kernel did for the same 4-tuple. */
export interface EmulatedSide {
  synAcks: number;
  /** As RealSide's: NONE until the emulated SYN-ACK. */
  isn: number;
  tsVal: number;
  /** Established through a cookie (COOKIE_ACCEPTED). */
  cookie: boolean;
  establishedAt: number;
  /** The client's ACK met a full accept queue (REQ_ACCEPTQ_OVERFLOW / COOKIE_ACCEPTQ_FULL). */
  overflowed: boolean;
  /** A RST to the client on the handshake (abort_on_overflow, bad ACK, refused port…). */
  reset: boolean;
  /** The SYN met no listener and was answered with RST (RST_NO_LISTENER). */
  noListener: boolean;
  /** The decisions taken for this 4-tuple, by verdict name, in order (first occurrence); kept only for detailed rows. */
  verdicts: string[];
}

export interface ConnectionTrack {
  clientAddr: number;
  clientPort: number;
  /** Virtual ms of the client's first SYN, and its sequence number (a new one starts a new attempt). */
  firstSynAt: number;
  synSeq: number;
  syns: number;
  /** The SYN carried timestamps / offered SACK / window scale (what a cookie can keep). */
  synTimestamps: boolean;
  synOffersOptions: boolean;
  /** The latest captured SYN: its virtual ms, TSval, window field and window-scale shift (-1 none), for --complete-handshakes. */
  lastSynAt: number;
  synTsVal: number;
  synWindow: number;
  synWindowScale: number;
  /** Client ACKs synthesized by --complete-handshakes (handshake-completion.ts). */
  synthesized: number;
  real: RealSide;
  emulated: EmulatedSide;
  /** One of the first connections, whose row the replay keeps (connection-table.ts). */
  detailed: boolean;
  /** Neighbours in the connection table's order of client activity (connection-table.ts). */
  quieter: ConnectionTrack | null;
  busier: ConnectionTrack | null;
}

export function newTrack(clientAddr: number, clientPort: number, firstSynAt: number, synSeq: number): ConnectionTrack {
  return {
    clientAddr,
    clientPort,
    firstSynAt,
    synSeq,
    syns: 0,
    synTimestamps: false,
    synOffersOptions: false,
    lastSynAt: firstSynAt,
    synTsVal: 0,
    synWindow: 0,
    synWindowScale: -1,
    synthesized: 0,
    real: { synAcks: 0, isn: NONE, tsVal: NONE, cookieEvident: false, clientCompletedAt: -1, synAckAfterCompletion: false, reset: false, otherSegments: false },
    emulated: { synAcks: 0, isn: NONE, tsVal: NONE, cookie: false, establishedAt: -1, overflowed: false, reset: false, noListener: false, verdicts: [] },
    detailed: false,
    quieter: null,
    busier: null,
  };
}

/** A concluded track made new for another attempt (the replay recycles them: no garbage per connection). */
export function resetTrack(track: ConnectionTrack, clientAddr: number, clientPort: number, firstSynAt: number, synSeq: number): ConnectionTrack {
  track.clientAddr = clientAddr;
  track.clientPort = clientPort;
  track.firstSynAt = firstSynAt;
  track.synSeq = synSeq;
  track.syns = 0;
  track.synTimestamps = track.synOffersOptions = false;
  track.lastSynAt = firstSynAt;
  track.synTsVal = track.synWindow = track.synthesized = 0;
  track.synWindowScale = -1;
  const real = track.real;
  real.synAcks = 0;
  real.isn = real.tsVal = NONE;
  real.cookieEvident = real.synAckAfterCompletion = real.reset = real.otherSegments = false;
  real.clientCompletedAt = -1;
  const emulated = track.emulated;
  emulated.synAcks = 0;
  emulated.isn = emulated.tsVal = NONE;
  emulated.cookie = emulated.overflowed = emulated.reset = emulated.noListener = false;
  emulated.establishedAt = -1;
  // A detailed row keeps the verdicts array it was given; the others never filled theirs.
  if (track.detailed) emulated.verdicts = [];
  track.detailed = false;
  track.quieter = track.busier = null;
  return track;
}

/** OUTCOMES' indices: the connection table counts by number (a keyed count by name cost a lookup per connection). */
export const OutcomeCode = { ESTABLISHED: 0, ESTABLISHED_COOKIE: 1, DROPPED: 2, RESET: 3, HALF_OPEN: 4, GHOST: 5 } as const;
const { ESTABLISHED, ESTABLISHED_COOKIE, DROPPED, RESET, HALF_OPEN, GHOST } = OutcomeCode;

/**
 * The real server's outcome (an OUTCOMES index), from its segments alone: no SYN-ACK →
 * dropped (or reset when it answered with RST); the client completed but the server kept
 * retransmitting its SYN-ACK and never sent anything else → ghost (spec §3.2); a RST instead
 * → reset.
 */
export function realOutcomeCode(track: ConnectionTrack): number {
  const real = track.real;
  if (real.synAcks === 0) return real.reset ? RESET : DROPPED;
  if (real.clientCompletedAt < 0) return real.reset ? RESET : HALF_OPEN;
  if (!real.otherSegments) {
    if (real.reset) return RESET;
    if (real.synAckAfterCompletion) return GHOST;
  }
  return real.cookieEvident ? ESTABLISHED_COOKIE : ESTABLISHED;
}

export function emulatedOutcomeCode(track: ConnectionTrack): number {
  const emulated = track.emulated;
  if (emulated.establishedAt >= 0) return emulated.cookie ? ESTABLISHED_COOKIE : ESTABLISHED;
  if (emulated.synAcks === 0) return emulated.reset && emulated.noListener ? RESET : DROPPED;
  if (emulated.reset) return RESET;
  if (emulated.overflowed) return GHOST;
  return HALF_OPEN;
}

export const realOutcome = (track: ConnectionTrack): Outcome => OUTCOMES[realOutcomeCode(track)]!;
export const emulatedOutcome = (track: ConnectionTrack): Outcome => OUTCOMES[emulatedOutcomeCode(track)]!;

const isEstablished = (code: number): boolean => code === ESTABLISHED || code === ESTABLISHED_COOKIE;

/**
 * Did the replay stop matching what the client saw (outcome codes)? The client reacted to
 * the real server, so any other outcome means its later segments were replayed open-loop. A
 * cookie cannot be told from a normal SYN-ACK in a capture when the SYN carried timestamps
 * (the options hide in the TSval, shifted by a per-host offset): then established ≈
 * established-cookie.
 */
export function diverged(track: ConnectionTrack, real: number, emulated: number): boolean {
  if (real === emulated) return false;
  return !(track.synTimestamps && isEstablished(real) && isEstablished(emulated));
}

/** Milliseconds from the first SYN until the handshake completed, or null. */
export function realConnectMs(track: ConnectionTrack): number | null {
  return track.real.clientCompletedAt >= 0 ? track.real.clientCompletedAt - track.firstSynAt : null;
}

export function emulatedConnectMs(track: ConnectionTrack): number | null {
  return track.emulated.establishedAt >= 0 ? track.emulated.establishedAt - track.firstSynAt : null;
}

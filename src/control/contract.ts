// The control protocol's one typed contract: every command, the arguments it takes and the reply
// it gives. The server's handler table (server.ts: ControlHandlers) and the client's request()
// (client.ts) are both typed by it, so a handler returning the wrong shape, or a caller reading a
// field no handler sends, does not compile. Arguments arrive as untyped JSON; REQUEST_DECODERS
// turn them into the request types here, once, before any handler runs.

import { usageError } from '../errors.js';
import type { Problem } from '../observe/explain.js';
import type { EventRecord } from '../observe/snapshot.js';
import type { ListenerSnapshot, SocketSnapshot } from '../observe/ss.js';
import type { TopSample } from '../observe/top.js';
import type { RunRecording } from '../report/recording.js';

/** What arrives on the wire as `args`: any JSON object. */
export type CommandArgs = Record<string, unknown>;

/** A command without arguments. */
export type NoArgs = Record<string, never>;

/** Who is serving: the reply to `ping`, and the head of `stats`. */
export interface InstanceSummary {
  profile: string;
  profileDescription: string;
  address: string;
  port: number;
  app: string;
  pid: number;
  /** ISO time the instance started; a different value means the instance restarted. */
  startedAt: string;
  uptimeMs: number;
}

export interface StatsReply extends InstanceSummary {
  /** Wall-clock ms of the snapshot. */
  time: number;
  /** Absolute counters, nstat names. */
  counters: Record<string, number>;
  listeners: ListenerSnapshot[];
  dropsByReason: Record<string, number>;
  verdicts: Record<string, number>;
}

export interface SysctlRequest {
  /** name=value assignments, applied in order. */
  set?: string[];
  /** Names to read. */
  get?: string[];
}

export interface SysctlReply {
  profile: string;
  /** The values read (get), else the values set, else every sysctl (tcp_rmem: three integers). */
  values: Array<{ name: string; value: number | readonly number[] }>;
}

export interface SsReply {
  profile: string;
  listeners: ListenerSnapshot[];
  sockets: SocketSnapshot[];
}

export interface EventFilterArgs {
  /** Only this drop reason or verdict. */
  reason?: string;
  /** Only events from this address (or address:port). */
  peer?: string;
}

export interface EventsRequest extends EventFilterArgs {
  /** At most this many, the most recent. Default 1000. */
  last?: number;
  /** Sequence number to start from (a previous reply's `next`). */
  from?: number;
}

export interface EventsReply {
  profile: string;
  /** Sequence number of the next event: `from` for events.follow. */
  next: number;
  /** Events asked for that the ring had already overwritten. */
  lost: number;
  events: EventRecord[];
}

export interface EventsFollowRequest extends EventFilterArgs {
  /** Start here; default: only events from now on. */
  from?: number;
}

export interface ExplainReply {
  profile: string;
  problems: Problem[];
}

/** One tcp_metrics entry, as `ip tcp_metrics show` would list it. */
export interface MetricsEntrySnapshot {
  address: string;
  ageSeconds: number;
  tsval: number | null;
  tsAgeSeconds: number | null;
  rttMs: number | null;
  /** The entry as one `ip tcp_metrics` line. */
  line: string;
}

export interface MetricsReply {
  profile: string;
  entries: MetricsEntrySnapshot[];
}

export interface MetricsFlushRequest {
  /** Forget only this peer; default all. */
  address?: string;
}

export type AppRequest = { action: 'pause' | 'resume' | 'status' } | { action: 'rate'; rate: number };

export interface AppReply {
  paused: boolean;
  acceptRate: number | 'unlimited';
}

export interface TopReply extends TopSample {
  synIn: number;
  synAckOut: number;
}

/** Every request/reply command: name → its arguments and its result. */
export interface ControlCommands {
  ping: { request: NoArgs; reply: InstanceSummary };
  stats: { request: NoArgs; reply: StatsReply };
  sysctl: { request: SysctlRequest; reply: SysctlReply };
  ss: { request: NoArgs; reply: SsReply };
  events: { request: EventsRequest; reply: EventsReply };
  explain: { request: NoArgs; reply: ExplainReply };
  metrics: { request: NoArgs; reply: MetricsReply };
  'metrics.flush': { request: MetricsFlushRequest; reply: { flushed: number } };
  app: { request: AppRequest; reply: AppReply };
  top: { request: NoArgs; reply: TopReply };
  /** Everything the report draws, from start to now (a scenario asks before stopping its emulator). */
  recording: { request: NoArgs; reply: RunRecording };
}

/** Every streaming command: name → its arguments and each item it pushes. */
export interface ControlStreams {
  'events.follow': { request: EventsFollowRequest; item: EventRecord };
}

export type ControlCommand = keyof ControlCommands;
export type ControlStream = keyof ControlStreams;
export type RequestOf<C extends ControlCommand> = ControlCommands[C]['request'];
export type ReplyOf<C extends ControlCommand> = ControlCommands[C]['reply'];
export type StreamRequestOf<S extends ControlStream> = ControlStreams[S]['request'];
export type StreamItemOf<S extends ControlStream> = ControlStreams[S]['item'];

// --- decoding arguments -------------------------------------------------------------------
// Lenient where the old handlers were (a wrong type reads as absent), strict where a wrong value
// would do something the caller did not ask for.

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.map(String) : undefined);
const noArgs = (): NoArgs => ({});

function filterArgs(raw: CommandArgs): EventFilterArgs {
  return { reason: text(raw.reason), peer: text(raw.peer) };
}

/** `app` arguments from the wire or from the command line (rate may be a string there). */
export function decodeAppRequest(raw: CommandArgs): AppRequest {
  switch (raw.action) {
    case 'pause':
    case 'resume':
    case 'status':
      return { action: raw.action };
    case 'rate': {
      const rate = Number(raw.rate);
      if (raw.rate === undefined || raw.rate === null || raw.rate === '' || !Number.isFinite(rate) || rate < 0) {
        throw usageError(`app rate ${String(raw.rate)}: expected a number ≥ 0`);
      }
      return { action: 'rate', rate };
    }
    default:
      throw usageError(`app ${String(raw.action)}: expected pause, resume, rate N or status`);
  }
}

export const REQUEST_DECODERS: { readonly [C in ControlCommand]: (raw: CommandArgs) => RequestOf<C> } = {
  ping: noArgs,
  stats: noArgs,
  sysctl: (raw) => ({ set: strings(raw.set), get: strings(raw.get) }),
  ss: noArgs,
  events: (raw) => ({ ...filterArgs(raw), last: count(raw.last), from: count(raw.from) }),
  explain: noArgs,
  metrics: (raw) => {
    // Before metrics.flush existed, `metrics {flush: true}` flushed: refuse rather than list.
    if (raw.flush !== undefined) throw usageError("metrics: flushing is the 'metrics.flush' command");
    return {};
  },
  'metrics.flush': (raw) => ({ address: text(raw.address) }),
  app: decodeAppRequest,
  top: noArgs,
  recording: noArgs,
};

export const STREAM_DECODERS: { readonly [S in ControlStream]: (raw: CommandArgs) => StreamRequestOf<S> } = {
  'events.follow': (raw) => ({ ...filterArgs(raw), from: count(raw.from) }),
};

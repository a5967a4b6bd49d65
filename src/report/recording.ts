// The report's input: plain, JSON-able data that every source produces the same way — a
// `syndrop run` at stop, a scenario's emulator before it is stopped, and (later) replay and
// simulate from their virtual clock. Nothing here refers to a running Host: a source records
// with RunRecorder (./recorder.ts) or builds these records itself, then calls writeReport().
//
// Verdict names are the stack's (src/stack/verdict.ts: SYN_QUEUED, DROP_ACCEPTQ_FULL …) and
// counter names nstat's: the one vocabulary events, counters and explain already share.

import type { Problem } from '../observe/explain.js';

/** One decision of the stack (one entry of the event ring). */
export interface RecordedEvent {
  /** Milliseconds since the recording started (the stack's clock). */
  t: number;
  /** Verdict name, e.g. SYN_QUEUED, DROP_ACCEPTQ_FULL_YOUNG, REQ_TIMEOUT_RETRANSMIT. */
  verdict: string;
  /** The peer as address:port: one connection attempt (a client's retransmits keep its port). */
  peer: string;
}

/** The state of the host at one instant, sampled at a fixed interval. */
export interface RecordedSample {
  /** Milliseconds since the recording started. */
  t: number;
  /** Decisions since the start by verdict name (cumulative; absent = 0). */
  verdicts: Record<string, number>;
  /** Requests in the SYN queue and children waiting for accept() (the first listener). */
  synQueue: number;
  acceptQueue: number;
  /** Connections ESTABLISHED or CLOSE_WAIT (TcpCurrEstab). */
  established: number;
}

/** One emulated host's life: from start to stop of one emulator (or one replay/simulation). */
export interface RunRecording {
  /** Wall-clock start, ISO 8601: recordings of one section are laid out on one axis by it. */
  startedAt: string;
  durationMs: number;
  kernel: { name: string; description: string };
  /** The most each of the first listener's queues can hold (accept: sk_max_ack_backlog + 1, spec §1.5). */
  limits: { synQueue: number; acceptQueue: number };
  /** Listener and application settings as shown to the reader (port, backlog, accept rate …). */
  settings: Record<string, string>;
  /** Values as `sysctl` prints them: integers, or the three of tcp_rmem joined by spaces. */
  sysctls: Array<{ name: string; value: number | string }>;
  /** Milliseconds between samples (the resolution of the queue charts). */
  sampleIntervalMs: number;
  samples: RecordedSample[];
  /** The decisions still in the event ring, oldest first. */
  events: RecordedEvent[];
  /** Decisions the ring overwrote before they were read (then counts come from the samples). */
  eventsLost: number;
  /** `explain` at the end of the recording. */
  findings: Problem[];
}

/** A verdict table row (scenarios): what the spec predicts, what was observed. */
export interface ReportVerdictRow {
  step: string;
  expected: string;
  observed: string;
  ok: boolean;
  spec: string;
}

/** One kernel's (or one run's) story: its recordings on one time axis, and its verdict. */
export interface ReportSection {
  /** Usually the kernel: "3.10", "6.x". */
  heading: string;
  /** One line under the heading, e.g. the matrix cell "5/6 connected (2 ghosts), 1 dropped". */
  summary?: string;
  ok?: boolean;
  /** Emulator lifetimes in order (a scenario restarts its emulator between parts). */
  recordings: RunRecording[];
  verdict?: ReportVerdictRow[];
  error?: string;
}

/** Sections that share their axes (one scenario across kernels): side by side, same scales. */
export interface ReportGroup {
  heading: string;
  description?: string;
  sections: ReportSection[];
}

export interface ReportInput {
  title: string;
  /** The command that produced it, shown under the title. */
  command: string;
  generatedAt: string;
  groups: ReportGroup[];
}

/** The report of one `syndrop run` (or one replay or simulation): one group, one section. */
export function singleRunReport(recording: RunRecording, command: string, heading = `emulated host ${recording.settings.address ?? ''}:${recording.settings.port ?? ''}`): ReportInput {
  return {
    title: `syndrop — kernel ${recording.kernel.name}`,
    command,
    generatedAt: new Date().toISOString(),
    groups: [{ heading, sections: [{ heading: `kernel ${recording.kernel.name}`, recordings: [recording] }] }],
  };
}

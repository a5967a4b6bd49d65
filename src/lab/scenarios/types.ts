// What a scenario is and what it returns: a verdict table (step, what the chosen kernel would
// do according to the spec, what the real clients and the counters showed, ✓/✗) and one short
// "what the clients experienced" cell for the kernel matrix.

import type { Profile } from '../../profiles/profile.js';
import type { RunRecording } from '../../report/recording.js';
import type { ScenarioContext } from './context.js';
import type { ScenarioFamily } from './family.js';

export interface VerdictRow {
  step: string;
  /** What the chosen kernel does here, derived from the profile's switches and the spec. */
  expected: string;
  /** What the clients saw on the wire and what the emulator's counters/queues say. */
  observed: string;
  ok: boolean;
  /** Spec section the expectation comes from. */
  spec: string;
}

/** What the clients experienced, for the matrix: e.g. "5/6 connected (2 ghosts)". */
export interface ScenarioOutcome {
  /** Short text for a matrix cell. */
  cell: string;
  /** Machine-readable facts the tests assert on (counts, outcomes per client …). */
  facts: Record<string, unknown>;
}

export interface ScenarioResult {
  scenario: string;
  kernel: string;
  /** The clients' IP family. */
  family: ScenarioFamily;
  profileDescription: string;
  ok: boolean;
  rows: VerdictRow[];
  outcome: ScenarioOutcome;
  durationMs: number;
  /** Set when the scenario could not run to the end (the rows so far are kept). */
  error?: string;
  /** What each of its emulators recorded, when a report was asked for. */
  recordings?: RunRecording[];
}

export interface Scenario {
  name: string;
  /** One line for `scenario list`. */
  summary: string;
  /** Spec sections the scenario exercises. */
  spec: string;
  run(ctx: ScenarioContext, profile: Profile): Promise<ScenarioOutcome>;
}

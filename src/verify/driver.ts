// Runs assets/verify/client-driver.py in the client namespace for one side of a scenario and
// takes that side's counter snapshots whenever the script reaches a `snap` step.

import { spawn } from 'node:child_process';
import { assetPath, PYTHON } from '../assets.js';
import { SyndropError } from '../errors.js';
import type { Step } from './scenario.js';

/** One segment the server sent, as the client namespace captured it. */
export interface CapturedSegment {
  t: number;
  step: number;
  flow: string;
  kind: 'SA' | 'R' | 'RA' | 'A' | 'D';
  flags: string;
  seq: number;
  ack: number;
  win: number;
  len: number;
  opts: { kinds: string[]; mss?: number; ws?: number; tsval?: number; tsecr?: number };
  ackRel?: number;
  seqRel?: number;
  isnFromTw?: number;
  twAck?: boolean;
  tsecrEchoes?: 'first' | 'last' | 'other';
  rstSeqIsAck?: boolean;
  /** The IP id was 0 (SYN-ACKs, and control-socket ACKs/RSTs on 4.17+, spec §8c). */
  ipIdZero?: boolean;
}

export interface StepResult {
  step: number;
  op: string;
  t: number;
  result: Record<string, unknown>;
}

export interface DriverResult {
  steps: StepResult[];
  capture: CapturedSegment[];
  clientSyns: number;
  durationMs: number;
  /** Counter snapshots: index 0 before the first step, then one per `snap` step, in order. */
  snapshots: Array<{ step: number; counters: Record<string, number> }>;
  /** The server's flood warnings for the scenario's port (filled in by the harness). */
  floodLog?: string[];
}

export interface DriverPlan {
  server: string;
  port: number;
  closedPort: number;
  spoofNet: string;
  seed: number;
  steps: Step[];
}

export async function runDriver(
  netns: string,
  plan: DriverPlan,
  snapshot: () => Promise<Record<string, number>>,
  timeoutMs: number,
): Promise<DriverResult> {
  const snapshots: DriverResult['snapshots'] = [{ step: -1, counters: await snapshot() }];
  const script = assetPath('verify', 'client-driver.py');
  const child = spawn('ip', ['netns', 'exec', netns, PYTHON, script, JSON.stringify(plan)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<DriverResult>((resolve, reject) => {
    let buffered = '';
    let result: Omit<DriverResult, 'snapshots'> | null = null;
    let pending = Promise.resolve();
    let failure: Error | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `driver for ${plan.server} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() === '') continue;
        const message = JSON.parse(line) as { sync?: number; result?: Omit<DriverResult, 'snapshots'> };
        if (typeof message.sync === 'number') {
          const step = message.sync;
          pending = pending.then(async () => {
            try {
              snapshots.push({ step, counters: await snapshot() });
              child.stdin.write('\n');
            } catch (error) {
              failure = error instanceof Error ? error : new Error(String(error));
              child.kill('SIGKILL');
            }
          });
        } else if (message.result) {
          result = message.result;
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      void pending.then(() => {
        if (failure !== null) {
          reject(failure);
        } else if (result === null) {
          reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `driver for ${plan.server} exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        } else {
          resolve({ ...result, snapshots });
        }
      });
    });
  });
}

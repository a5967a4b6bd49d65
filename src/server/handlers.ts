// What `syndrop run` answers on its control socket: one handler per command of the contract
// (src/control/contract.ts), typed by it. They live here, not in src/control, because they read
// the running host (stack), its application (app) and its frame loop's clock (io): src/control
// stays the protocol, which any client may import without pulling in the emulator.

import type { AcceptLoop } from '../app/accept-loop.js';
import type { InstanceSummary } from '../control/contract.js';
import type { ControlHandlers, ControlStreamHandlers } from '../control/server.js';
import { usageError } from '../errors.js';
import type { Engine } from '../io/engine.js';
import { explain, type Problem } from '../observe/explain.js';
import {
  counterSnapshot,
  dropsByReason,
  eventsSince,
  hostExplainInput,
  listenerSnapshots,
  metricsSnapshot,
  socketSnapshots,
  verdictTotals,
  type EventFilter,
} from '../observe/snapshot.js';
import type { RunRecording } from '../report/recording.js';
import type { Host } from '../stack/host.js';
import { COUNTERS } from '../stack/mib.js';
import { parseIpv4 } from '../wire/addr.js';

/** What the handlers see of a running instance. */
export interface ServedInstance {
  readonly host: Host;
  readonly acceptLoop: AcceptLoop;
  /** The frame loop: its clock, and poke() to bring the stack's clock to now. */
  readonly engine: Pick<Engine, 'now' | 'poke' | 'startWallMs'>;
  summary(): InstanceSummary;
  /** The report's data from start to now (report/recorder.ts). */
  recording(): RunRecording;
}

const SYN_IN = indexOfCounter('SyndropRxSyn');
const SYN_ACK_OUT = indexOfCounter('SyndropTxSynAck');

export function controlHandlers(instance: ServedInstance): ControlHandlers {
  const { host, acceptLoop, engine } = instance;
  const startWall = engine.startWallMs;
  // Bring the stack's clock to now so timers and queues are current when observed.
  const refresh = (): void => engine.poke();
  return {
    ping: () => instance.summary(),
    stats: () => {
      refresh();
      return {
        ...instance.summary(),
        time: Date.now(),
        counters: counterSnapshot(host),
        listeners: listenerSnapshots(host),
        dropsByReason: dropsByReason(host),
        verdicts: verdictTotals(host),
      };
    },
    sysctl: ({ set = [], get = [] }) => {
      const changed = set.map((assignment) => host.sysctls.set(assignment));
      if (changed.length > 0) refresh();
      if (get.length > 0) return { profile: host.profile.name, values: get.map((name) => host.sysctls.read(name)) };
      if (changed.length > 0) return { profile: host.profile.name, values: changed };
      return { profile: host.profile.name, values: host.sysctls.entries() };
    },
    ss: () => {
      refresh();
      return { profile: host.profile.name, listeners: listenerSnapshots(host), sockets: socketSnapshots(host) };
    },
    events: (args) => {
      const filter = eventFilter(args);
      const last = args.last ?? 1000;
      // Filtered: search the whole ring, then keep the last matches.
      const from = args.from ?? Math.max(0, host.events.total - (filter.reason || filter.peer ? host.events.capacity : last));
      const events = eventsSince(host, from, startWall, filter);
      return { profile: host.profile.name, next: host.events.total, lost: Math.max(0, host.events.oldest - from), events: events.slice(-last) };
    },
    explain: () => {
      refresh();
      return { profile: host.profile.name, problems: explainHost(host, startWall) };
    },
    metrics: () => {
      refresh();
      return { profile: host.profile.name, entries: metricsSnapshot(host) };
    },
    'metrics.flush': ({ address }) => {
      let peer: number | undefined;
      if (address !== undefined) {
        peer = parseIpv4(address);
        if (peer < 0) throw usageError(`metrics flush ${address}: not an IPv4 address`);
      }
      return { flushed: host.metrics.flush(peer) };
    },
    app: (args) => {
      const policy = acceptLoop.policy(0);
      if (args.action === 'pause') policy.paused = true;
      else if (args.action === 'resume') policy.paused = false;
      else if (args.action === 'rate') policy.ratePerSecond = args.rate;
      refresh();
      return { paused: policy.paused, acceptRate: policy.ratePerSecond === Infinity ? 'unlimited' : policy.ratePerSecond };
    },
    top: () => {
      refresh();
      return {
        timeMs: engine.now(),
        counters: counterSnapshot(host),
        dropsByReason: dropsByReason(host),
        listeners: listenerSnapshots(host),
        peers: topTalkers(host),
        synIn: host.counters[SYN_IN]!,
        synAckOut: host.counters[SYN_ACK_OUT]!,
      };
    },
    recording: () => instance.recording(),
  };
}

/** `syndrop explain` over the whole event ring: what the control command and the report show. */
export function explainHost(host: Host, startWallMs: number): Problem[] {
  return explain(hostExplainInput(host, startWallMs));
}

export function controlStreamHandlers(instance: ServedInstance): ControlStreamHandlers {
  const host = instance.host;
  const startWall = instance.engine.startWallMs;
  return {
    'events.follow': async (args, push, signal) => {
      const filter = eventFilter(args);
      let next = args.from ?? host.events.total;
      while (!signal.aborted) {
        if (host.events.total > next) {
          for (const e of eventsSince(host, next, startWall, filter)) push(e);
          next = host.events.total;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

function indexOfCounter(name: string): number {
  return COUNTERS.findIndex((c) => c.name === name);
}

function eventFilter(args: { reason?: string; peer?: string }): EventFilter {
  const filter: EventFilter = {};
  if (args.reason !== undefined) filter.reason = args.reason;
  if (args.peer !== undefined) filter.peer = args.peer;
  return filter;
}

/** Cumulative SYNs per source over the events still in the ring (top 10). */
function topTalkers(host: Host): { peer: string; syns: number }[] {
  return [...host.events.synsBySource().entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([addr, syns]) => ({ peer: host.peerText(addr), syns }));
}

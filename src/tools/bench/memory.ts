// Section 3 (worker side): memory per half-open request. A fresh process queues N requests
// (tcp_syncookies=0, every limit raised so all of them queue) and reports RSS, V8 heap and
// external (ArrayBuffer) growth over a baseline taken after the Host and the frame pool exist.

import { AcceptLoop } from '../../app/accept-loop.js';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';

import { resolveProfile } from '../../profiles/resolve.js';
import { Sysctls } from '../../profiles/sysctl.js';
import { Host } from '../../stack/host.js';
import { RequestPool } from '../../stack/reqsk.js';
import { fullGc } from './alloc.js';
import { DPORT, EMULATED, FRAME_STRIDE, buildSynPool } from './frames.js';

export interface MemoryResult {
  requests: number;
  queued: number;
  seconds: number;
  rssBytes: number;
  heapBytes: number;
  externalBytes: number;
  rssPerRequest: number;
  heapPerRequest: number;
  externalPerRequest: number;
  /** heap + external per request: what the process holds for them, independent of the allocator. */
  heldPerRequest: number;
  /** RequestPool.BYTES_PER_SLOT: the request sock's own typed-array share. */
  poolBytesPerSlot: number;
  sysctls: string[];
}

function sample(): { rss: number; heap: number; external: number } {
  fullGc();
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  return { rss: m.rss, heap: h.used_heap_size, external: m.external };
}

export function runMemory(requests: number): MemoryResult {
  const sysctls = [
    'net.ipv4.tcp_syncookies=0',
    'net.core.somaxconn=2147483647',
    'net.ipv4.tcp_max_syn_backlog=2147483647',
  ];
  const profile = resolveProfile('6.x');
  const pool = buildSynPool(requests);
  const host = new Host({ profile, sysctls: new Sysctls(profile, sysctls), address: EMULATED, seed: 42 });
  new AcceptLoop(host).listen(DPORT, 2 ** 31 - 1, { ratePerSecond: Infinity, paused: false, handler: null });
  const before = sample();
  const start = performance.now();
  const tx = host.tx;
  for (let base = 0; base < requests; base += 64) {
    const end = Math.min(requests, base + 64);
    const now = 1000 + base * 1e-4;
    host.tick(now);
    for (let i = base; i < end; i++) host.receive(pool.slab, i * FRAME_STRIDE, pool.lengths[i]!, now);
    tx.clear();
  }
  const seconds = (performance.now() - start) / 1000;
  const after = sample();
  const queued = host.listeners[0]!.qlen;
  const n = Math.max(1, queued);
  const rss = after.rss - before.rss;
  const heap = after.heap - before.heap;
  const external = after.external - before.external;
  return {
    requests,
    queued,
    seconds,
    rssBytes: rss,
    heapBytes: heap,
    externalBytes: external,
    rssPerRequest: rss / n,
    heapPerRequest: heap / n,
    externalPerRequest: external / n,
    heldPerRequest: (heap + external) / n,
    poolBytesPerSlot: RequestPool.BYTES_PER_SLOT,
    sysctls,
  };
}

// Allocation and GC accounting around a timed section, with v8.GCProfiler (Node ≥ 19.6):
// every GC reports the heap before and after, so
//   bytes allocated = (used at end − used at start) + Σ over GCs (used before − used after).
// The profiler allocates a record per GC only, so a section without GCs measures clean.
// ArrayBuffer backing stores (typed-array pools) live outside the V8 heap: reported apart
// as the growth of `external` memory.

import v8 from 'node:v8';

export interface AllocStats {
  /** Bytes allocated on the V8 heap during the section. */
  heapBytes: number;
  /** Growth of external (ArrayBuffer) memory over the section, bytes (may be negative). */
  externalBytes: number;
  scavenges: number;
  /** Mark-sweep-compact (full) collections, incremental marking steps not counted. */
  markSweeps: number;
  /** Total GC pause reported by the profiler, ms. */
  gcPauseMs: number;
}

interface GcHeapStats {
  usedHeapSize: number;
  externalMemory: number;
}

interface GcRecord {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: GcHeapStats };
  afterGC: { heapStatistics: GcHeapStats };
}

interface GcProfilerLike {
  start(): void;
  stop(): { statistics: GcRecord[] } | undefined;
}

type GcProfilerCtor = new () => GcProfilerLike;

export class AllocMeter {
  private profiler: GcProfilerLike | null = null;
  private startUsed = 0;
  private startExternal = 0;

  static available(): boolean {
    return typeof (v8 as unknown as { GCProfiler?: unknown }).GCProfiler === 'function';
  }

  start(): void {
    const Ctor = (v8 as unknown as { GCProfiler?: GcProfilerCtor }).GCProfiler;
    if (Ctor === undefined) throw new Error('v8.GCProfiler is not available in this Node (need ≥ 19.6)');
    const stats = v8.getHeapStatistics();
    this.startUsed = stats.used_heap_size;
    this.startExternal = stats.external_memory;
    this.profiler = new Ctor();
    this.profiler.start();
  }

  stop(): AllocStats {
    const records = this.profiler?.stop()?.statistics ?? [];
    this.profiler = null;
    const stats = v8.getHeapStatistics();
    let freed = 0;
    let scavenges = 0;
    let markSweeps = 0;
    let pause = 0;
    for (const r of records) {
      freed += r.beforeGC.heapStatistics.usedHeapSize - r.afterGC.heapStatistics.usedHeapSize;
      pause += r.cost / 1000;
      if (r.gcType === 'Scavenge' || r.gcType === 'MinorMarkCompact' || r.gcType === 'MinorMarkSweep') scavenges++;
      else if (r.gcType === 'MarkSweepCompact') markSweeps++;
    }
    return {
      heapBytes: Math.max(0, stats.used_heap_size - this.startUsed + freed),
      externalBytes: stats.external_memory - this.startExternal,
      scavenges,
      markSweeps,
      gcPauseMs: pause,
    };
  }
}

/** Full GC when the process runs with --expose-gc (the worker does); otherwise nothing. */
export function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

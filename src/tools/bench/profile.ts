// `--profile`: the workers run under `node --cpu-prof`; this reads a .cpuprofile and lists the
// functions with the most self time (file:line of the compiled JS in dist/, which maps 1:1 to
// the function in src/ — see the .js.map files for exact lines).

import { readFileSync } from 'node:fs';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotFunction {
  name: string;
  location: string;
  selfPercent: number;
}

export function topSelfTime(file: string, limit = 12): HotFunction[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const self = new Map<string, { name: string; location: string; us: number }>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    if (node === undefined) continue;
    const dt = profile.timeDeltas[i] ?? 0;
    const f = node.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)' && f.url === '') {
      // keep (program) — it is real work (GC, runtime) — but not idle time
      if (f.functionName === '(idle)') continue;
    }
    const location = f.url === '' ? '' : `${f.url.replace(/^file:\/\/.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName}|${location}`;
    const entry = self.get(key) ?? { name: f.functionName || '(anonymous)', location, us: 0 };
    entry.us += dt;
    self.set(key, entry);
    total += dt;
  }
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map((e) => ({ name: e.name, location: e.location, selfPercent: total > 0 ? (e.us / total) * 100 : 0 }));
}

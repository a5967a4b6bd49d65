// The layer checker bites: the repo's .dependency-cruiser.cjs and scripts/check-*.mjs run
// against small fixture trees written to a temp dir, never against today's src/ (which
// `make check-layers` judges on its own). Each forbidden edge of design.md "Wave 2 target"
// is planted once and must be named; a tree that keeps the layers must pass.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const CHECK_LAYERS = join(ROOT, 'scripts', 'check-layers.mjs');
const CHECK_SOURCE = join(ROOT, 'scripts', 'check-source-rules.mjs');

type Tree = Record<string, string>;

let scratch: string;

function writeTree(name: string, tree: Tree): string {
  const root = join(scratch, name);
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function run(cwd: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

// Every rule broken once; each offending import is the only one in its file.
const FORBIDDEN: Tree = {
  'src/wire/ipv4.ts': "import { listen } from '../stack/listen.js';\nexport const parse = () => listen;\n",
  'src/wire/tcp.ts': "import type { Verdict } from '../stack/verdict.js';\nexport type Seen = Verdict;\n",
  'src/stack/verdict.ts': 'export type Verdict = { drop: boolean };\n',
  'src/stack/listen.ts': "import { accept } from './accept.js';\nexport const listen = () => accept;\n",
  'src/stack/accept.ts': "import { listen } from './listen.js';\nexport const accept = () => listen;\n",
  'src/stack/rx.ts': "import { tun } from '../io/tun.js';\nexport const rx = tun;\n",
  'src/io/tun.ts': 'export const tun = 1;\n',
  'src/profiles/table.ts': "import { listen } from '../stack/listen.js';\nexport const table = [listen];\n",
  'src/observe/top.ts': "import { main } from '../cli/main.js';\nexport const top = main;\n",
  'src/cli/main.ts': 'export const main = 1;\n',
  'src/replay/pcap.ts': "import { tun } from '../io/tun.js';\nexport const replay = tun;\n",
  'src/simulate/clock.ts': "import { tun } from '../io/tun.js';\nexport const simulate = tun;\n",
  'src/offline/grid-pool.ts': "import { main } from '../cli/main.js';\nexport const pool = main;\n",
  'src/doctor/host.ts': "import { listen } from '../stack/listen.js';\nexport const doctor = listen;\n",
  'src/lab/assets.ts': "import { client } from '../../test/tools/client.js';\nexport const asset = client;\n",
  'src/lab/missing.ts': "import { gone } from './gone.js';\nexport const missing = gone;\n",
  'test/tools/client.ts': 'export const client = 1;\n',
};

// The same shape with every edge pointing the allowed way, plus the edges that look
// close to a violation but are not: node: builtins in wire, a cycle held together by a
// type import (gone at run time), the outer layers importing the inner ones.
const CLEAN: Tree = {
  'src/wire/ipv4.ts': "import { Buffer } from 'node:buffer';\nexport const parse = (bytes: Buffer) => bytes[0];\n",
  'src/profiles/table.ts': 'export const table = [1];\n',
  'src/stack/listen.ts':
    "import { parse } from '../wire/ipv4.js';\nimport { table } from '../profiles/table.js';\nimport { accept } from './accept.js';\n" +
    'export type Listener = { backlog: number };\nexport const listen = () => [parse, table, accept];\n',
  'src/stack/accept.ts': "import type { Listener } from './listen.js';\nexport const accept = (listener: Listener) => listener.backlog;\n",
  'src/io/tun.ts': "import { listen } from '../stack/listen.js';\nexport const tun = listen;\n",
  'src/observe/top.ts': "import { listen } from '../stack/listen.js';\nexport const top = listen;\n",
  'src/cli/main.ts': "import { top } from '../observe/top.js';\nimport { tun } from '../io/tun.js';\nexport const main = [top, tun];\n",
  'src/replay/pcap.ts': "import { listen } from '../stack/listen.js';\nexport const replay = listen;\n",
  'src/offline/grid-pool.ts': "import { replay } from '../replay/pcap.js';\nexport const pool = replay;\n",
  'src/doctor/host.ts': "import { top } from '../observe/top.js';\nexport const doctor = top;\n",
};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'syndrop-layers-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('layer rules (.dependency-cruiser.cjs, design.md "Wave 2 target")', () => {
  it('depcruise with the repo config fails a tree that breaks every rule and names each rule', () => {
    const tree = writeTree('forbidden-raw', FORBIDDEN);
    const { status, output } = run(tree, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'err']);
    expect(status).not.toBe(0);
    for (const rule of [
      'wire-only-wire',
      'no-runtime-cycle',
      'stack-pure',
      'profiles-not-stack',
      'observe-not-cli',
      'offline-not-io',
      'offline-grid-engines-only',
      'doctor-not-stack',
      'src-not-test',
      'src-resolvable',
    ]) {
      expect(output).toContain(`error ${rule}:`);
    }
  });

  it('check-layers prints one line per violation naming rule, file and import', () => {
    const tree = writeTree('forbidden', FORBIDDEN);
    const { status, output } = run(tree, [CHECK_LAYERS, 'src']);
    expect(status).toBe(1);
    const lines = output.split('\n');
    const expected = [
      "error wire-only-wire: src/wire/ipv4.ts imports '../stack/listen.js' (src/stack/listen.ts)",
      // A type import across a layer still couples the layers: it counts.
      "error wire-only-wire: src/wire/tcp.ts imports '../stack/verdict.js' (src/stack/verdict.ts)",
      "error stack-pure: src/stack/rx.ts imports '../io/tun.js' (src/io/tun.ts)",
      "error profiles-not-stack: src/profiles/table.ts imports '../stack/listen.js' (src/stack/listen.ts)",
      "error observe-not-cli: src/observe/top.ts imports '../cli/main.js' (src/cli/main.ts)",
      "error offline-not-io: src/replay/pcap.ts imports '../io/tun.js' (src/io/tun.ts)",
      "error offline-not-io: src/simulate/clock.ts imports '../io/tun.js' (src/io/tun.ts)",
      "error offline-grid-engines-only: src/offline/grid-pool.ts imports '../cli/main.js' (src/cli/main.ts)",
      "error doctor-not-stack: src/doctor/host.ts imports '../stack/listen.js' (src/stack/listen.ts)",
      "error src-not-test: src/lab/assets.ts imports '../../test/tools/client.js' (test/tools/client.ts)",
      "error src-resolvable: src/lab/missing.ts imports './gone.js'",
    ];
    for (const line of expected) expect(lines).toContain(line);
    const cycle = lines.filter((line) => line.startsWith('error no-runtime-cycle: '));
    expect(cycle.length).toBeGreaterThan(0);
    expect(cycle.join('\n')).toMatch(/cycle src\/stack\/(listen|accept)\.ts → src\/stack\/(accept|listen)\.ts → src\/stack\/\1\.ts/);
    // The why of each broken rule is printed once, after the violations.
    expect(output).toMatch(/^ {2}stack-pure: stack\/ is a pure state machine/m);
  });

  it('a tree that keeps the layers passes (type-only cycle, node: builtins in wire, outer → inner)', () => {
    const tree = writeTree('clean', CLEAN);
    const raw = run(tree, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', 'err']);
    expect(raw.output).toContain('no dependency violations found');
    expect(raw.status).toBe(0);
    const wrapped = run(tree, [CHECK_LAYERS, 'src']);
    expect(wrapped.output).toContain('layers: 0 violation(s) in src/');
    expect(wrapped.status).toBe(0);
  });
});

describe('source rules (scripts/check-source-rules.mjs)', () => {
  const lines = (count: number) => Array.from({ length: count }, (_, index) => `export const line${index} = ${index};`).join('\n') + '\n';

  it('fails a file over 450 lines and a file naming the path test/, printing each offender', () => {
    const tree = writeTree('source-bad', {
      'src/stack/long.ts': lines(451),
      'src/verify/driver.ts': '// Runs test/differential/driver.py in the client namespace\nexport const driver = 1;\n',
      'src/lab/where.ts': "export const where = '../test/tools';\n",
    });
    const { status, output } = run(tree, [CHECK_SOURCE, 'src']);
    expect(status).toBe(1);
    expect(output).toContain('src/stack/long.ts: 451 lines (max 450)');
    expect(output).toContain('src/verify/driver.ts:1: names test/: // Runs test/differential/driver.py');
    expect(output).toContain("src/lab/where.ts:1: names test/: export const where = '../test/tools';");
    expect(output).toContain('source rules: 3 offender(s)');
  });

  it('passes 450 lines and words that merely end in "test/" (latest/, contest/)', () => {
    const tree = writeTree('source-clean', {
      'src/stack/long.ts': lines(450),
      'src/profiles/latest.ts': "export const dir = 'profiles/latest/';\n// see contest/ and tests/ elsewhere\n",
    });
    const { status, output } = run(tree, [CHECK_SOURCE, 'src']);
    expect(output).toContain('source rules: 0 offender(s)');
    expect(status).toBe(0);
  });
});

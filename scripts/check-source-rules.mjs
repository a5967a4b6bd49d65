#!/usr/bin/env node
// Two rules on the text of every file under a source tree (default src/):
//  - at most MAX_LINES lines: a file that long holds more than one job (style.md:
//    "small modules with one job");
//  - never names the path test/ (code, string or comment): the product ships without
//    test/, so nothing in src/ may load from it or send a reader there (design.md:
//    assets live under the source tree, never under test/).
// Prints one line per offender and exits 1 if there is any.
// Usage: node scripts/check-source-rules.mjs [dir=src], relative to the cwd.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINES = 450;
// `test/` as a path segment: start of text or after a quote, slash, space, `(`…;
// not the tail of a longer word such as `latest/` or `contest/`.
const TEST_PATH = /(?<![\w.-])test\//;

const dir = process.argv[2] ?? 'src';
const offenders = [];

function* files(path) {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) yield* files(child);
    else if (entry.isFile()) yield child;
  }
}

for (const file of [...files(dir)].sort()) {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length > MAX_LINES) offenders.push(`${file}: ${lines.length} lines (max ${MAX_LINES})`);
  lines.forEach((line, index) => {
    if (TEST_PATH.test(line)) offenders.push(`${file}:${index + 1}: names test/: ${line.trim()}`);
  });
}

for (const offender of offenders) console.log(offender);
console.log(`source rules: ${offenders.length} offender(s) in ${dir}/ (max ${MAX_LINES} lines; no path test/)`);
process.exit(offenders.length > 0 ? 1 : 0);

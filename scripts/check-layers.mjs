#!/usr/bin/env node
// Layer rules (.dependency-cruiser.cjs) over a source tree, one line per violation:
//   <rule>: <file> imports '<specifier>' (<resolved>)[; cycle a → b → a]
// then each broken rule's comment (why the layer exists). Exit 1 on any error.
// depcruise's own `err` reporter spreads a cycle over several lines, hence this wrapper.
// Usage: node scripts/check-layers.mjs [dir=src] — paths are relative to the cwd,
// so the test suite runs it inside a fixture tree with the repo's config.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(repo, 'package.json'));
const depcruise = join(repo, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const configPath = join(repo, '.dependency-cruiser.cjs');
const dir = process.argv[2] ?? 'src';

const run = spawnSync(process.execPath, [depcruise, dir, '--config', configPath, '--output-type', 'json'], {
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
let result;
try {
  result = JSON.parse(run.stdout);
} catch {
  // Not a report: a config or parse failure. Show what depcruise said and fail.
  process.stderr.write(run.stderr || run.stdout || `depcruise exited ${run.status}\n`);
  process.exit(2);
}

const comments = new Map(require(configPath).forbidden.map((rule) => [rule.name, rule.comment]));
const violations = result.summary.violations;
const broken = new Set();
for (const v of violations) {
  broken.add(v.rule.name);
  const cycle = v.cycle ? `; cycle ${[v.from, ...v.cycle.map((step) => step.name)].join(' → ')}` : '';
  const target = v.unresolvedTo && v.unresolvedTo !== v.to ? `'${v.unresolvedTo}' (${v.to})` : `'${v.to}'`;
  console.log(`${v.rule.severity} ${v.rule.name}: ${v.from} imports ${target}${cycle}`);
}
for (const name of broken) console.log(`  ${name}: ${comments.get(name) ?? ''}`);

const { error, totalCruised, totalDependenciesCruised } = result.summary;
console.log(
  `layers: ${violations.length} violation(s) in ${dir}/ (${totalCruised} modules, ${totalDependenciesCruised} imports cruised)`,
);
process.exit(error > 0 ? 1 : 0);

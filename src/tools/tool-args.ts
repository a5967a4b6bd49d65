// One command-line convention for the tools (bench, fuzz, soak, flood-memory): options declared
// once with their help, parsed by node:util parseArgs (strict: an unknown option is an error),
// `--help` prints the usage, and a bad argument is one line on stderr and exit 2.

import { parseArgs } from 'node:util';

export type ToolOption =
  | { readonly type: 'boolean'; readonly help: string }
  | { readonly type: 'integer'; readonly help: string; readonly default: number | null; readonly min?: number; readonly max?: number }
  | { readonly type: 'string'; readonly help: string; readonly default: string | null; readonly choices?: readonly string[] }
  | { readonly type: 'strings'; readonly help: string; readonly choices?: readonly string[] };

export type ToolOptions = Record<string, ToolOption>;

export type ToolValues<S extends ToolOptions> = {
  -readonly [K in keyof S]: S[K] extends { type: 'boolean' }
    ? boolean
    : S[K] extends { type: 'integer'; default: null }
      ? number | null
      : S[K] extends { type: 'integer' }
        ? number
        : S[K] extends { type: 'strings' }
          ? string[]
          : S[K]['default' & keyof S[K]];
};

export class ToolUsageError extends Error {}

/** The usage text: one line per option with its default. */
export function toolUsage(tool: string, spec: ToolOptions): string {
  const lines = [`usage: node dist/tools/${tool}.js [options]`];
  for (const [name, option] of Object.entries(spec)) {
    const value = option.type === 'boolean' ? '' : option.type === 'integer' ? ' N' : option.type === 'strings' ? ' VALUE…' : ' VALUE';
    const fallback = option.type === 'boolean' || option.type === 'strings' || option.default === null ? '' : ` (default ${String(option.default)})`;
    lines.push(`  --${name}${value}`.padEnd(28) + `${option.help}${fallback}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses argv against the spec; throws ToolUsageError with a one-line reason. */
export function parseToolArgs<S extends ToolOptions>(spec: S, argv: readonly string[]): ToolValues<S> & { help: boolean } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, option] of Object.entries(spec)) {
    config[name] = { type: option.type === 'boolean' ? 'boolean' : 'string', multiple: option.type === 'strings' };
  }
  let parsed: Record<string, string | boolean | string[] | undefined>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false }).values as typeof parsed;
  } catch (error) {
    throw new ToolUsageError((error as Error).message.split('\n')[0]!);
  }
  const out: Record<string, unknown> = { help: parsed.help === true };
  for (const [name, option] of Object.entries(spec)) {
    const raw = parsed[name];
    if (option.type === 'boolean') {
      out[name] = raw === true;
    } else if (option.type === 'integer') {
      out[name] = raw === undefined ? option.default : integer(name, String(raw), option.min ?? 0, option.max);
    } else {
      const texts = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
      for (const text of texts) {
        if (option.choices !== undefined && !option.choices.includes(text)) throw new ToolUsageError(`--${name} ${text}: one of ${option.choices.join(', ')}`);
      }
      out[name] = option.type === 'strings' ? texts : (texts[0] ?? option.default);
    }
  }
  return out as ToolValues<S> & { help: boolean };
}

function integer(name: string, text: string, min: number, max: number | undefined): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new ToolUsageError(`--${name} ${text}: expected a whole number ≥ ${min}`);
  // Bounded tools (floods, soaks) clamp rather than refuse: the bound is the safety rule.
  return max === undefined ? Number(text) : Math.min(Number(text), max);
}

/**
 * The CLI front of a tool: parsed options, or `--help` printed (exit 0), or one line on stderr
 * (exit 2). Returns null when the process should exit with `process.exitCode` already set.
 */
export function toolOptionsOrExit<S extends ToolOptions>(tool: string, spec: S, argv: readonly string[]): ToolValues<S> | null {
  try {
    const values = parseToolArgs(spec, argv);
    if (values.help) {
      process.stdout.write(toolUsage(tool, spec));
      process.exitCode = 0;
      return null;
    }
    return values;
  } catch (error) {
    if (!(error instanceof ToolUsageError)) throw error;
    process.stderr.write(`${tool}: ${error.message}\n`);
    process.exitCode = 2;
    return null;
  }
}

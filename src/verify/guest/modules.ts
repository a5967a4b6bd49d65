// The kernel modules the guest needs for its network card (virtio-net over virtio-pci), in load
// order, from a kernel's /lib/modules/<release> (an unpacked package has no modules.dep: the
// `depends=` field of each module's .modinfo section is read instead). A driver listed in
// modules.builtin is compiled in and needs nothing — a self-built minimal kernel has no modules.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SyndropError } from '../../errors.js';

/** The drivers of the guest's NIC: the PCI transport and the network driver. */
export const NIC_DRIVERS: readonly string[] = ['virtio_pci', 'virtio_net'];

export interface GuestModule {
  name: string;
  /** Uncompressed module bytes (busybox insmod loads plain ELF). */
  bytes: Buffer;
}

const MODULE_SUFFIX = /\.ko(\.xz|\.zst|\.gz)?$/;

const moduleName = (file: string): string => basename(file).replace(MODULE_SUFFIX, '').replace(/-/g, '_');

function indexModules(dir: string, into: Map<string, string>): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) indexModules(path, into);
    else if (MODULE_SUFFIX.test(entry)) into.set(moduleName(entry), path);
  }
}

function builtinNames(modulesDir: string): Set<string> {
  const file = join(modulesDir, 'modules.builtin');
  if (!existsSync(file)) return new Set();
  return new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map(moduleName));
}

function decompress(path: string): Buffer {
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  if (path.endsWith('.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 64 << 20 });
  if (path.endsWith('.zst')) return execFileSync('zstd', ['-dcq', path], { maxBuffer: 64 << 20 });
  return readFileSync(path);
}

/** The names in a module's `depends=a,b` .modinfo string (NUL-separated strings, so a byte search is exact). */
export function moduleDepends(bytes: Buffer): string[] {
  const at = bytes.indexOf('\0depends=');
  if (at < 0) return [];
  const start = at + '\0depends='.length;
  const end = bytes.indexOf(0, start);
  return bytes
    .toString('latin1', start, end < 0 ? bytes.length : end)
    .split(',')
    .filter(Boolean)
    .map((n) => n.replace(/-/g, '_'));
}

/**
 * The modules to insmod, dependencies first, for `wanted` drivers. Built-in drivers are skipped;
 * a driver that is neither built in nor found is an error naming the directory searched.
 */
export function resolveGuestModules(modulesDir: string | null, wanted: readonly string[] = NIC_DRIVERS): GuestModule[] {
  if (modulesDir === null || !existsSync(modulesDir)) return [];
  const paths = new Map<string, string>();
  indexModules(modulesDir, paths);
  const builtin = builtinNames(modulesDir);
  const ordered: GuestModule[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string): void => {
    if (done.has(name) || builtin.has(name)) return;
    if (visiting.has(name)) throw new SyndropError('SYNDROP_ERR_USAGE', `${modulesDir}: module dependency cycle at ${name}`);
    const path = paths.get(name);
    if (path === undefined) {
      throw new SyndropError('SYNDROP_ERR_USAGE', `${modulesDir}: no module ${name} and it is not in modules.builtin (pass --modules DIR)`);
    }
    visiting.add(name);
    const bytes = decompress(path);
    for (const dep of moduleDepends(bytes)) visit(dep);
    visiting.delete(name);
    done.add(name);
    ordered.push({ name, bytes });
  };
  for (const name of wanted) visit(name);
  return ordered;
}

// Real kernels for `verify --vm` from Debian's own packages: `apt-get download` the newest
// package whose name matches, `dpkg -x` it into syndrop's cache (never installed into /boot,
// never built from source). The unpacked tree holds the image and /lib/modules of its version.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { SyndropError } from '../../errors.js';
import { run } from '../../lab/exec.js';
import { cacheDir } from './cache.js';

export interface UnpackedKernel {
  package: string;
  /** The bzImage (`boot/vmlinuz-<release>`). */
  image: string;
  /** `lib/modules/<release>` of the package. */
  modulesDir: string;
  release: string;
}

/** Newest package of the configured archives whose name matches, e.g. /^linux-image-6\.1\.0-\d+-cloud-amd64$/. */
export async function newestKernelPackage(pattern: RegExp): Promise<string> {
  const { stdout } = await run(['apt-cache', 'search', '--names-only', '^linux-image-'], { timeoutMs: 60_000 });
  const names = stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => pattern.test(name));
  if (names.length === 0) throw new SyndropError('SYNDROP_ERR_MISSING_TOOL', `no Debian package matches ${pattern} (run apt-get update)`);
  const numbers = (name: string): number[] => (name.match(/\d+/g) ?? []).map(Number);
  names.sort((a, b) => {
    const x = numbers(a);
    const y = numbers(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
    return 0;
  });
  return names[names.length - 1]!;
}

function unpacked(pkg: string, root: string): UnpackedKernel | null {
  const boot = join(root, 'boot');
  if (!existsSync(boot)) return null;
  const image = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (image === undefined) return null;
  const release = image.slice('vmlinuz-'.length);
  return { package: pkg, image: join(boot, image), modulesDir: join(root, 'lib', 'modules', release), release };
}

/** The package unpacked in the cache, downloading it on first use. */
export async function ensureDebianKernel(pkg: string): Promise<UnpackedKernel> {
  if (!/^linux-image-[a-z0-9.+~-]+$/.test(pkg)) throw new SyndropError('SYNDROP_ERR_USAGE', `'${pkg}' is not a Debian kernel package name`);
  const root = join(cacheDir(), 'kernels', pkg);
  const ready = unpacked(pkg, root);
  if (ready !== null) return ready;
  const download = join(cacheDir(), 'kernels', `.download-${process.pid}`);
  mkdirSync(download, { recursive: true });
  try {
    // apt-get download writes into its working directory (as root it warns that _apt cannot
    // read it, and downloads anyway).
    await promisify(execFile)('apt-get', ['download', '-q', pkg], { cwd: download, timeout: 300_000 }).catch((error: Error) => {
      throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `apt-get download ${pkg}: ${error.message.split('\n')[0]}`);
    });
    const deb = readdirSync(download).find((f) => f.endsWith('.deb'));
    if (deb === undefined) throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `apt-get download ${pkg} left no .deb`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    await run(['dpkg', '-x', join(download, deb), root], { timeoutMs: 120_000 });
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  const result = unpacked(pkg, root);
  if (result === null) throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${pkg} holds no boot/vmlinuz-*`);
  return result;
}

// The bzImage version reader (boot protocol: "HdrS" at 0x202, version at 0x206, kernel_version
// pointer at 0x20E relative to 0x200) on crafted headers and on a real Debian image.

import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageFileVersion, readImageVersion } from '../../src/verify/guest/bzimage.js';
import { debianKernel } from '../helpers/debian-kernel.js';
import type { UnpackedKernel } from '../../src/verify/guest/debian-kernel.js';

function header(version: string | null, options: { magic?: string; protocol?: number; pointer?: number; size?: number } = {}): Buffer {
  const bytes = Buffer.alloc(options.size ?? 0x800);
  bytes.write(options.magic ?? 'HdrS', 0x202, 'latin1');
  bytes.writeUInt16LE(options.protocol ?? 0x020f, 0x206);
  bytes.writeUInt16LE(options.pointer ?? 0x300, 0x20e);
  if (version !== null) bytes.write(`${version}\0garbage after the NUL`, 0x200 + (options.pointer ?? 0x300), 'latin1');
  return bytes;
}

describe('bzImage version string (Documentation/arch/x86/boot.rst)', () => {
  it('reads the string the 0x20E pointer names, up to its NUL', () => {
    const banner = '4.4.178 (builder@box) #1 SMP Mon Apr 1 00:00:00 UTC 2019';
    expect(readImageVersion(header(banner))).toEqual({ release: '4.4.178', banner, protocol: 0x20f });
  });

  it('counts the pointer from 0x200, not from the file start', () => {
    const result = readImageVersion(header('3.10.108 (x@y) #1', { pointer: 0x1f0 }));
    expect(result).toMatchObject({ release: '3.10.108' });
  });

  it('refuses a file without the HdrS magic (not an x86 boot image)', () => {
    expect(readImageVersion(header('6.1.0', { magic: 'ELF!' }))).toEqual({ error: expect.stringContaining('HdrS') });
  });

  it('refuses boot protocols before 2.00 (no kernel_version field)', () => {
    expect(readImageVersion(header('6.1.0', { protocol: 0x01ff }))).toEqual({ error: expect.stringContaining('protocol 1ff') });
  });

  it('refuses a null pointer, a pointer past the end, a truncated header and a string without a version', () => {
    expect(readImageVersion(header(null, { pointer: 0 }))).toEqual({ error: expect.stringContaining('no version string') });
    expect(readImageVersion(header(null, { pointer: 0x7000, size: 0x400 }))).toEqual({ error: expect.stringContaining('past the end') });
    expect(readImageVersion(Buffer.alloc(0x100))).toEqual({ error: expect.stringContaining('too short') });
    expect(readImageVersion(header('Linux rocks'))).toEqual({ error: expect.stringContaining('does not start with a version') });
  });
});

describe('bzImage version of a real Debian 6.1 cloud kernel', () => {
  let kernel: UnpackedKernel | string;
  beforeAll(async () => {
    kernel = await debianKernel();
  }, 300_000);

  it('the release is the image file name suffix and the banner names the Debian package version', (context) => {
    if (typeof kernel === 'string') return context.skip();
    const version = readImageFileVersion(kernel.image);
    if ('error' in version) throw new Error(version.error);
    expect(version.release).toBe(basename(kernel.image).replace(/^vmlinuz-/, ''));
    expect(version.release).toMatch(/^6\.1\.0-\d+-cloud-amd64$/);
    expect(version.banner).toMatch(/^6\.1\.0-\d+-cloud-amd64 \(debian-kernel@lists\.debian\.org\) #1 SMP .*Debian 6\.1\.\d+-\d+/);
    expect(version.protocol).toBeGreaterThanOrEqual(0x20f);
  });
});

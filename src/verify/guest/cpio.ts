// A gzip'd cpio "newc" archive, the format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): per entry a 110-byte ASCII
// header of 13 hex fields, the NUL-ended name padded to 4 bytes, the data padded to 4 bytes;
// "TRAILER!!!" ends it. Device nodes are plain entries, so no privilege is needed to make one.

import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; data: Buffer; executable?: boolean }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);

function record(ino: number, mode: number, name: string, data: Buffer, rdev: [number, number] = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1');
  return [header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length)];
}

/** The archive, uncompressed (entries in the given order; parents must come first). */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, i) => {
    const ino = i + 1;
    const path = entry.path.replace(/^\/+/, '');
    if (entry.kind === 'dir') parts.push(...record(ino, S_IFDIR | 0o755, path, Buffer.alloc(0)));
    else if (entry.kind === 'file') parts.push(...record(ino, S_IFREG | (entry.executable ? 0o755 : 0o644), path, entry.data));
    else if (entry.kind === 'symlink') parts.push(...record(ino, S_IFLNK | 0o777, path, Buffer.from(entry.target, 'latin1')));
    else parts.push(...record(ino, S_IFCHR | 0o600, path, Buffer.alloc(0), [entry.major, entry.minor]));
  });
  parts.push(...record(0, 0, 'TRAILER!!!', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export function gzipCpio(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(cpioArchive(entries), { level: 6 });
}

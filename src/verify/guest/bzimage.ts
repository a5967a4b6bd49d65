// The version string of an x86 kernel image, read from its boot-protocol setup header — what
// `file vmlinuz` prints — without booting it (Documentation/arch/x86/boot.rst: "HdrS" at 0x202,
// the protocol version at 0x206, and at 0x20E a pointer, relative to 0x200, to the NUL-ended
// string `<uname -r> (<builder>) #<n> ... <distro version> (<date>)`; protocol 2.00 and later).

import { closeSync, openSync, readSync } from 'node:fs';

const HEADER_MAGIC_OFFSET = 0x202;
const HEADER_MAGIC = 'HdrS';
const PROTOCOL_VERSION_OFFSET = 0x206;
const KERNEL_VERSION_POINTER_OFFSET = 0x20e;
/** The pointer at 0x20E counts from here (the start of the setup header's sector). */
const KERNEL_VERSION_BASE = 0x200;
/** kernel_version exists from boot protocol 2.00 on. */
const MIN_PROTOCOL = 0x0200;
const MAX_VERSION_LENGTH = 512;
/** The string lies in the setup sectors, at most 64 sectors of 512 bytes in. */
const SETUP_BYTES = 64 * 512;

export interface ImageVersion {
  /** `uname -r` of the kernel: the string's first word, e.g. `6.1.0-57-cloud-amd64`. */
  release: string;
  /** The whole string, e.g. `6.1.0-57-cloud-amd64 (debian-kernel@…) #1 SMP … Debian 6.1.192-3 (2026-11-26)`. */
  banner: string;
  /** Boot protocol version, e.g. 0x20f. */
  protocol: number;
}

/** The version of a bzImage in `bytes`, or the reason it has none (not an x86 boot image, too old …). */
export function readImageVersion(bytes: Uint8Array): ImageVersion | { error: string } {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < KERNEL_VERSION_POINTER_OFFSET + 2) return { error: 'too short for an x86 boot header' };
  if (view.toString('latin1', HEADER_MAGIC_OFFSET, HEADER_MAGIC_OFFSET + 4) !== HEADER_MAGIC) {
    return { error: 'no x86 boot header (HdrS magic missing): not a bzImage' };
  }
  const protocol = view.readUInt16LE(PROTOCOL_VERSION_OFFSET);
  if (protocol < MIN_PROTOCOL) return { error: `boot protocol ${protocol.toString(16)} has no version string` };
  const pointer = view.readUInt16LE(KERNEL_VERSION_POINTER_OFFSET);
  if (pointer === 0) return { error: 'the boot header holds no version string' };
  const start = KERNEL_VERSION_BASE + pointer;
  if (start >= view.length) return { error: 'the version pointer points past the end of the file' };
  const end = view.indexOf(0, start);
  const stop = Math.min(end < 0 ? view.length : end, start + MAX_VERSION_LENGTH);
  const banner = view.toString('latin1', start, stop).trim();
  const release = banner.split(/\s+/)[0] ?? '';
  if (!/^\d+\.\d+/.test(release)) return { error: `the version string does not start with a version: '${banner.slice(0, 60)}'` };
  return { release, banner, protocol };
}

/** Reads only the setup sectors of the image file. */
export function readImageFileVersion(path: string): ImageVersion | { error: string } {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(SETUP_BYTES);
    const n = readSync(fd, head, 0, SETUP_BYTES, 0);
    return readImageVersion(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

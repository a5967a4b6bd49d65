// --bundle DIR: the files a user collected on another host (any names, any subset), each
// recognised by its content. A file that cannot be read or recognised is one note; the
// diagnosis goes on from the rest.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { BUNDLE_README, classify, readingFromCaptures, type Capture } from './captures.js';
import type { HostReading } from './reading.js';

/** Larger files are not command output a bundle holds (a whole journal, a core dump). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export async function readBundle(dir: string): Promise<HostReading> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw usageError(`--bundle ${dir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
  }
  const captures: Capture[] = [];
  const notes: string[] = [];
  for (const file of names.filter((name) => name !== BUNDLE_README)) {
    const path = join(dir, file);
    let text: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) continue;
      if (info.size > MAX_FILE_BYTES) {
        notes.push(`${file}: larger than ${MAX_FILE_BYTES >> 20} MiB, skipped`);
        continue;
      }
      text = await readFile(path, 'utf8');
    } catch (error) {
      notes.push(`${file}: could not be read (${(error as Error).message})`);
      continue;
    }
    if (text.trim() === '') {
      notes.push(`${file}: empty`);
      continue;
    }
    const kind = classify(file, text);
    if (kind === null) {
      notes.push(`${file}: not recognised (expected uname -r, /etc/os-release, /proc/net/netstat or snmp, nstat -az, netstat -s, ss -ltn, sysctl -a, dmesg, ip tcp_metrics)`);
      continue;
    }
    captures.push({ file, kind, text, later: /later/i.test(file) });
  }
  return readingFromCaptures(`bundle ${dir}`, captures, notes);
}

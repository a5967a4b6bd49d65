// The control socket's file: claiming its path for a new server (a stale socket left by a crashed
// run is taken over, a live one refused) and sweeping stale ones. Both `syndrop run` and
// `syndrop lab down` need this without serving anything.

import { createConnection } from 'node:net';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { ControlError } from './errors.js';
import { ensureControlDir } from './paths.js';

const PROBE_TIMEOUT_MS = 1000;

/** Is a server accepting connections on path? ECONNREFUSED/ENOENT mean a stale file. */
function probeLive(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const socket = createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(true); // Hanging connect: someone is there but busy; do not steal the path.
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else if (error.code === 'EACCES' || error.code === 'EPERM') reject(new ControlError('not-root'));
      else resolve(true);
    });
  });
}

export async function takeOverStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isSocket()) throw new ControlError('not-a-socket', path);
  if (await probeLive(path)) throw new ControlError('already-running', path);
  // Left behind by a run that crashed: nobody is listening, take it over.
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/**
 * Makes sure `path` can be served: its directory exists (root-only), a stale socket left by a
 * crashed run is removed, a live one is refused with SYNDROP_ERR_ALREADY_RUNNING. `syndrop run`
 * calls it before opening the TUN so a second run fails on the socket, not on the device.
 */
export async function claimControlPath(path: string): Promise<void> {
  await ensureControlDir(path);
  await takeOverStaleSocket(path);
}

/** Removes socket files in `dir` nobody listens on (runs killed with SIGKILL). Returns their paths. */
export async function removeStaleControlSockets(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.sock')) continue;
    const path = `${dir}/${name}`;
    try {
      if (!(await lstat(path)).isSocket() || (await probeLive(path))) continue;
      await unlink(path);
      removed.push(path);
    } catch {
      // Raced with a starting run, or not ours to judge: leave it.
    }
  }
  return removed;
}

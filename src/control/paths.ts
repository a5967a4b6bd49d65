// Where the control socket lives: /run/syndrop/<instance>.sock, root-only.

import { mkdir, chmod, lstat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SyndropError, usageError } from '../errors.js';

export const CONTROL_DIR = '/run/syndrop';
export const DEFAULT_INSTANCE = 'default';

const INSTANCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ControlPathOptions {
  /** Explicit socket path; wins over everything else. */
  path?: string;
  /** Instance name; default from SYNDROP_INSTANCE, else `default`. */
  instance?: string;
}

/**
 * The socket path: explicit option, else SYNDROP_CONTROL, else
 * /run/syndrop/<SYNDROP_INSTANCE or 'default'>.sock.
 */
export function controlSocketPath(options: ControlPathOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (options.path) return resolve(options.path);
  if (env.SYNDROP_CONTROL) return resolve(env.SYNDROP_CONTROL);
  const instance = options.instance ?? env.SYNDROP_INSTANCE ?? DEFAULT_INSTANCE;
  if (!INSTANCE_PATTERN.test(instance)) {
    throw usageError(`'${instance}' is not a valid instance name: use letters, digits, '.', '_' or '-'`);
  }
  return `${CONTROL_DIR}/${instance}.sock`;
}

/**
 * Make the socket's directory. /run/syndrop is created 0700 and must be owned by root (a directory
 * someone else owns could let them swap the socket). Other directories (tests, SYNDROP_CONTROL) are
 * created 0700 if missing and otherwise left alone.
 */
export async function ensureControlDir(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (dir !== CONTROL_DIR) return;
  const info = await lstat(dir);
  if (!info.isDirectory()) {
    throw new SyndropError('SYNDROP_ERR_CONTROL', `${dir} exists and is not a directory: remove it`);
  }
  if (typeof process.geteuid === 'function' && process.geteuid() === 0 && info.uid !== 0) {
    throw new SyndropError('SYNDROP_ERR_CONTROL', `${dir} is not owned by root: remove it and retry`);
  }
  if ((info.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

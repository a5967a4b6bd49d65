// Talking to a running `syndrop run` over its control socket. One connection per call: the
// commands are rare and human-driven, so simplicity beats connection reuse.

import { createConnection, type Socket } from 'node:net';
import { SyndropError } from '../errors.js';
import { controlSocketPath } from './paths.js';
import { LineSplitter, encodeLine, isSyndropErrorCode, type ControlReply } from './protocol.js';
import type { CommandArgs } from './server.js';

export interface ControlRequestOptions {
  /** Socket path; default from SYNDROP_CONTROL / SYNDROP_INSTANCE (see paths.ts). */
  path?: string;
  /** Give up waiting for the reply after this long. Default 5000 ms. */
  timeoutMs?: number;
}

export interface ControlStreamOptions {
  path?: string;
  /** Abort to stop following; the promise then resolves. */
  signal?: AbortSignal;
  /** Give up if the connection is not established within this long. Default 5000 ms. */
  connectTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Replies (event dumps, stats) can be large; this only guards against a runaway peer. */
const MAX_REPLY_LINE_BYTES = 64 * 1024 * 1024;

function connectError(path: string, error: NodeJS.ErrnoException): SyndropError {
  switch (error.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new SyndropError('SYNDROP_ERR_NOT_RUNNING', `no running syndrop instance at ${path}: start one with 'syndrop run'`);
    case 'EACCES':
    case 'EPERM':
      return new SyndropError('SYNDROP_ERR_NOT_ROOT', 'the control socket is root-only: run as root');
    default:
      return new SyndropError('SYNDROP_ERR_CONTROL', `control socket ${path}: ${error.message}`);
  }
}

function replyError(reply: Extract<ControlReply, { ok: false }>): SyndropError {
  const code = reply.error?.code;
  const message = typeof reply.error?.message === 'string' ? reply.error.message : 'request failed';
  return new SyndropError(isSyndropErrorCode(code) ? code : 'SYNDROP_ERR_CONTROL', message);
}

/** Connect, send one request, and hand every reply line for it to onReply until it returns true. */
function exchange(
  path: string,
  cmd: string,
  args: CommandArgs,
  onReply: (reply: ControlReply) => boolean,
  options: { timeoutMs?: number; connectTimeoutMs?: number; signal?: AbortSignal },
): Promise<void> {
  const id = 1;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let connected = false;
    let timer: NodeJS.Timeout | undefined;
    const socket: Socket = createConnection({ path });
    const settle = (error?: SyndropError): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => settle();
    if (options.signal?.aborted) {
      settle();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const armTimer = (ms: number | undefined, message: string): void => {
      if (timer) clearTimeout(timer);
      if (ms === undefined) return;
      timer = setTimeout(() => settle(new SyndropError('SYNDROP_ERR_CONTROL', message)), ms);
    };
    armTimer(options.connectTimeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS, `control socket ${path}: no connection within the timeout`);

    const splitter = new LineSplitter(
      MAX_REPLY_LINE_BYTES,
      (line) => {
        let reply: ControlReply;
        try {
          reply = JSON.parse(line) as ControlReply;
        } catch {
          settle(new SyndropError('SYNDROP_ERR_CONTROL', `control socket ${path}: reply is not valid JSON`));
          return;
        }
        if (typeof reply !== 'object' || reply === null) return;
        // id null: the server could not read our request at all.
        if (reply.id !== id && reply.id !== null) return;
        if (reply.ok === false) {
          settle(replyError(reply));
          return;
        }
        try {
          if (onReply(reply)) settle();
        } catch (error) {
          settle(error instanceof SyndropError ? error : new SyndropError('SYNDROP_ERR_CONTROL', String(error)));
        }
      },
      () => settle(new SyndropError('SYNDROP_ERR_CONTROL', `control socket ${path}: reply too large`)),
    );

    socket.on('connect', () => {
      connected = true;
      armTimer(options.timeoutMs, `no reply from ${path} within ${options.timeoutMs} ms`);
      socket.write(encodeLine({ id, cmd, args }));
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      settle(connected ? new SyndropError('SYNDROP_ERR_CONTROL', `control socket ${path}: ${error.message}`) : connectError(path, error));
    });
    socket.on('close', () => {
      settle(new SyndropError('SYNDROP_ERR_CONTROL', `control socket ${path}: the server closed the connection before replying`));
    });
  });
}

/** Send one command and return its result; failures are SyndropErrors with the server's code. */
export async function controlRequest<T = unknown>(cmd: string, args: CommandArgs = {}, options: ControlRequestOptions = {}): Promise<T> {
  const path = controlSocketPath({ path: options.path });
  let result: unknown;
  await exchange(
    path,
    cmd,
    args,
    (reply) => {
      if (!('result' in reply)) return false;
      result = reply.result;
      return true;
    },
    { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
  );
  return result as T;
}

/**
 * Run a streaming command: onItem is called for each item until the server ends the stream or
 * options.signal aborts (both resolve). A plain reply counts as one item followed by the end.
 */
export async function controlStream(
  cmd: string,
  args: CommandArgs,
  onItem: (item: unknown) => void,
  options: ControlStreamOptions = {},
): Promise<void> {
  const path = controlSocketPath({ path: options.path });
  await exchange(
    path,
    cmd,
    args,
    (reply) => {
      if ('end' in reply && reply.end) return true;
      if ('result' in reply) {
        onItem(reply.result);
        return !('stream' in reply && reply.stream);
      }
      return false;
    },
    { connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS, signal: options.signal },
  );
}

// Talking to a running `syndrop run` over its control socket. One connection per call: the
// commands are rare and human-driven, so simplicity beats connection reuse.

import { createConnection, type Socket } from 'node:net';
import { SyndropError } from '../errors.js';
import type { CommandArgs, ControlCommand, ControlStream, ReplyOf, RequestOf, StreamItemOf, StreamRequestOf } from './contract.js';
import { ControlError, decodeError } from './errors.js';
import { controlSocketPath } from './paths.js';
import { LineSplitter, encodeLine, type ControlReply } from './protocol.js';

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
      return new ControlError('not-running', path);
    case 'EACCES':
    case 'EPERM':
      return new ControlError('not-root');
    default:
      return new ControlError('socket', `${path}: ${error.message}`);
  }
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
    const armTimer = (ms: number | undefined, expired: () => SyndropError): void => {
      if (timer) clearTimeout(timer);
      if (ms === undefined) return;
      timer = setTimeout(() => settle(expired()), ms);
    };
    armTimer(options.connectTimeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => new ControlError('connect-timeout', path));

    const splitter = new LineSplitter(
      MAX_REPLY_LINE_BYTES,
      (line) => {
        let reply: ControlReply;
        try {
          reply = JSON.parse(line) as ControlReply;
        } catch {
          settle(new ControlError('bad-reply', path));
          return;
        }
        if (typeof reply !== 'object' || reply === null) return;
        // id null: the server could not read our request at all.
        if (reply.id !== id && reply.id !== null) return;
        if (reply.ok === false) {
          settle(decodeError(reply.error));
          return;
        }
        try {
          if (onReply(reply)) settle();
        } catch (error) {
          settle(error instanceof SyndropError ? error : new ControlError('internal', String(error)));
        }
      },
      () => settle(new ControlError('reply-too-large', path)),
    );

    socket.on('connect', () => {
      connected = true;
      armTimer(options.timeoutMs, () => new ControlError('reply-timeout', `${path} within ${options.timeoutMs} ms`));
      socket.write(encodeLine({ id, cmd, args }));
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      settle(connected ? new ControlError('socket', `${path}: ${error.message}`) : connectError(path, error));
    });
    socket.on('close', () => {
      settle(new ControlError('closed', path));
    });
  });
}

/** One request, one result: what request() and controlRequest() share. */
async function requestOnce(path: string, cmd: string, args: CommandArgs, timeoutMs: number): Promise<unknown> {
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
    { timeoutMs },
  );
  return result;
}

/**
 * Send one command of the contract (contract.ts) to the instance at path and return its reply,
 * typed by the same table the server's handlers are. Failures are SyndropErrors with the
 * server's code.
 */
export async function request<C extends ControlCommand>(
  path: string,
  command: C,
  args: RequestOf<C>,
  options: { timeoutMs?: number } = {},
): Promise<ReplyOf<C>> {
  // The server's handler for C returned ReplyOf<C>; the wire does not change its shape.
  return (await requestOnce(controlSocketPath({ path }), command, args as CommandArgs, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)) as ReplyOf<C>;
}

/**
 * Follow a streaming command of the contract: onItem gets each item, typed, until the server
 * ends the stream or options.signal aborts (both resolve).
 */
export function follow<S extends ControlStream>(
  path: string,
  stream: S,
  args: StreamRequestOf<S>,
  onItem: (item: StreamItemOf<S>) => void,
  options: Omit<ControlStreamOptions, 'path'> = {},
): Promise<void> {
  return controlStream(stream, args as CommandArgs, (item) => onItem(item as StreamItemOf<S>), { ...options, path });
}

/**
 * Untyped form of request(), kept for callers that name the command as a string: send one
 * command and return its result as T. Prefer request(), which takes T from the contract.
 */
export async function controlRequest<T = unknown>(cmd: string, args: CommandArgs = {}, options: ControlRequestOptions = {}): Promise<T> {
  const path = controlSocketPath({ path: options.path });
  return (await requestOnce(path, cmd, args, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)) as T;
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

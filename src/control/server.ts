// The control socket `syndrop run` serves: JSON lines over a root-only unix socket. A bad request
// gets an error reply; nothing a client sends can crash the server. serveControl serves the
// typed contract (contract.ts); startControlServer is the untyped transport under it.

import { createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';
import {
  REQUEST_DECODERS,
  STREAM_DECODERS,
  type CommandArgs,
  type ControlCommand,
  type ControlStream,
  type ReplyOf,
  type RequestOf,
  type StreamItemOf,
  type StreamRequestOf,
} from './contract.js';
import { bodyOf, ControlError, encodeError, type ControlFailure } from './errors.js';
import { ensureControlDir } from './paths.js';
import { takeOverStaleSocket } from './socket-file.js';
import {
  LineSplitter,
  MAX_REQUEST_LINE_BYTES,
  encodeLine,
  type ControlReply,
  type RequestId,
} from './protocol.js';

export type { CommandArgs };

export interface RequestContext {
  /** Aborted when the client disconnects or the server closes. */
  signal: AbortSignal;
}

export type RequestHandler = (args: CommandArgs, context: RequestContext) => unknown | Promise<unknown>;

/**
 * A streaming command. Call push(item) for each item; it returns false when the item was dropped
 * because the client is not reading fast enough. The stream ends when the client disconnects or
 * the server closes (signal aborts), or when the returned promise settles.
 */
export type StreamHandler = (
  args: CommandArgs,
  push: (item: unknown) => boolean,
  signal: AbortSignal,
) => void | Promise<void>;

export interface ControlServer {
  readonly path: string;
  /** Ends every stream (with its end line), closes connections and removes the socket file. */
  close(): Promise<void>;
}

/** The handler of every command in the contract: a missing command or a wrong reply does not compile. */
export type ControlHandlers = {
  readonly [C in ControlCommand]: (args: RequestOf<C>, context: RequestContext) => ReplyOf<C> | Promise<ReplyOf<C>>;
};

/** The handler of every streaming command in the contract; push takes only that stream's items. */
export type ControlStreamHandlers = {
  readonly [S in ControlStream]: (
    args: StreamRequestOf<S>,
    push: (item: StreamItemOf<S>) => boolean,
    signal: AbortSignal,
  ) => void | Promise<void>;
};

/** Items queued beyond this many bytes for one slow client are dropped, not buffered. */
const STREAM_HIGH_WATER_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 1000;

function listen(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? new ControlError('already-running', path) : error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path, exclusive: true });
  });
}

/** One client connection: its line splitter and the requests still in flight. */
class Connection {
  readonly #socket: Socket;
  readonly #handlers: Readonly<Record<string, RequestHandler>>;
  readonly #streamHandlers: Readonly<Record<string, StreamHandler>>;
  /** Aborted when the connection closes; every request signal follows it. */
  readonly #closed = new AbortController();
  readonly #streams = new Map<RequestId, { controller: AbortController; ended: boolean }>();
  readonly #splitter: LineSplitter;

  constructor(socket: Socket, handlers: Record<string, RequestHandler>, streamHandlers: Record<string, StreamHandler>) {
    this.#socket = socket;
    this.#handlers = handlers;
    this.#streamHandlers = streamHandlers;
    this.#splitter = new LineSplitter(
      MAX_REQUEST_LINE_BYTES,
      (line) => this.#onLine(line),
      () => this.#fail(null, 'line-too-long', String(MAX_REQUEST_LINE_BYTES)),
    );
    socket.on('data', (chunk: Buffer) => this.#splitter.push(chunk));
    socket.on('error', () => {
      // A client vanishing mid-write (EPIPE, ECONNRESET) is not the server's problem.
    });
    socket.on('close', () => this.#closed.abort());
  }

  get closedSignal(): AbortSignal {
    return this.#closed.signal;
  }

  #send(reply: ControlReply): boolean {
    if (!this.#socket.writable) return false;
    let line: string;
    try {
      line = encodeLine(reply);
    } catch (error) {
      line = encodeLine({ id: reply.id, ok: false, error: encodeError(error) });
    }
    this.#socket.write(line);
    return true;
  }

  #fail(id: RequestId, failure: ControlFailure, detail?: string): void {
    this.#send({ id, ok: false, error: bodyOf(new ControlError(failure, detail)) });
  }

  #onLine(line: string): void {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      this.#fail(null, 'bad-json');
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.#fail(null, 'not-object');
      return;
    }
    const { id: rawId, cmd, args: rawArgs } = request as { id?: unknown; cmd?: unknown; args?: unknown };
    const id: RequestId = typeof rawId === 'number' || typeof rawId === 'string' ? rawId : null;
    if (typeof cmd !== 'string' || cmd === '') {
      this.#fail(id, 'no-command');
      return;
    }
    if (rawArgs !== undefined && (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs))) {
      this.#fail(id, 'bad-args');
      return;
    }
    const args = (rawArgs ?? {}) as CommandArgs;
    const has = (table: object): boolean => Object.prototype.hasOwnProperty.call(table, cmd);
    if (has(this.#streamHandlers)) this.#startStream(id, this.#streamHandlers[cmd], args);
    else if (has(this.#handlers)) void this.#answer(id, this.#handlers[cmd], args);
    else this.#fail(id, 'unknown-command', cmd);
  }

  async #answer(id: RequestId, handler: RequestHandler, args: CommandArgs): Promise<void> {
    try {
      const result = await handler(args, { signal: this.#closed.signal });
      this.#send({ id, ok: true, result: result ?? null });
    } catch (error) {
      this.#send({ id, ok: false, error: encodeError(error) });
    }
  }

  #startStream(id: RequestId, handler: StreamHandler, args: CommandArgs): void {
    const controller = new AbortController();
    const stream = { controller, ended: false };
    this.#streams.set(id, stream);
    const onClosed = (): void => controller.abort();
    this.#closed.signal.addEventListener('abort', onClosed, { once: true });
    const push = (item: unknown): boolean => {
      if (stream.ended || controller.signal.aborted) return false;
      if (this.#socket.writableLength > STREAM_HIGH_WATER_BYTES) return false;
      return this.#send({ id, ok: true, stream: true, result: item ?? null });
    };
    const finish = (error?: unknown): void => {
      if (stream.ended) return;
      stream.ended = true;
      this.#streams.delete(id);
      this.#closed.signal.removeEventListener('abort', onClosed);
      if (error === undefined) this.#send({ id, ok: true, end: true });
      else this.#send({ id, ok: false, error: encodeError(error) });
      controller.abort();
    };
    controller.signal.addEventListener('abort', () => finish(), { once: true });
    try {
      const done = handler(args, push, controller.signal);
      if (done && typeof (done as Promise<void>).then === 'function') {
        (done as Promise<void>).then(
          () => finish(),
          (error: unknown) => finish(error),
        );
      }
    } catch (error) {
      finish(error);
    }
  }

  /** Server shutdown: end every stream with its end line, then hang up. */
  shutdown(): Promise<void> {
    for (const stream of [...this.#streams.values()]) stream.controller.abort();
    return new Promise<void>((resolve) => {
      if (this.#socket.destroyed) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#socket.end();
    });
  }
}

/**
 * Serve handlers on a unix socket at path (mode 0600). A stale socket file left by a crashed run is
 * replaced; a live one is refused with SYNDROP_ERR_ALREADY_RUNNING.
 */
export async function startControlServer(
  path: string,
  handlers: Record<string, RequestHandler>,
  streamHandlers: Record<string, StreamHandler> = {},
): Promise<ControlServer> {
  await ensureControlDir(path);
  await takeOverStaleSocket(path);

  const connections = new Set<Connection>();
  const server = createServer((socket) => {
    const connection = new Connection(socket, handlers, streamHandlers);
    connections.add(connection);
    connection.closedSignal.addEventListener('abort', () => connections.delete(connection), { once: true });
  });
  server.on('error', () => {
    // After listen succeeded, accept errors (EMFILE …) must not take the emulator down.
  });
  await listen(server, path);
  // The directory is already 0700; the mode on the socket itself is the second lock.
  await chmod(path, 0o600);
  const inode = (await lstat(path)).ino;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...connections].map((connection) => connection.shutdown()));
      await serverClosed;
      // Remove the file only if it is still ours (not a successor's socket).
      try {
        if ((await lstat(path)).ino === inode) await unlink(path);
      } catch {
        // Already gone.
      }
    })();
    return closing;
  };

  return { path, close };
}

// The casts below are the one place the wire's untyped args meet the contract's types: each
// handler gets its own command's decoder, so the pairing holds by construction.
function bindCommand<C extends ControlCommand>(command: C, handlers: ControlHandlers): RequestHandler {
  const decode = REQUEST_DECODERS[command] as (raw: CommandArgs) => RequestOf<C>;
  const handler = handlers[command] as ControlHandlers[C];
  return (raw, context) => handler(decode(raw), context);
}

function bindStream<S extends ControlStream>(stream: S, handlers: ControlStreamHandlers): StreamHandler {
  const decode = STREAM_DECODERS[stream] as (raw: CommandArgs) => StreamRequestOf<S>;
  const handler = handlers[stream] as ControlStreamHandlers[S];
  return (raw, push, signal) => handler(decode(raw), push, signal);
}

/**
 * Serve the contract (contract.ts) on path: every command's arguments are decoded before its
 * handler runs, and a decoder's error (a usage error) is the reply.
 */
export function serveControl(path: string, handlers: ControlHandlers, streamHandlers: ControlStreamHandlers): Promise<ControlServer> {
  const commands: Record<string, RequestHandler> = {};
  for (const command of Object.keys(REQUEST_DECODERS) as ControlCommand[]) commands[command] = bindCommand(command, handlers);
  const streams: Record<string, StreamHandler> = {};
  for (const stream of Object.keys(STREAM_DECODERS) as ControlStream[]) streams[stream] = bindStream(stream, streamHandlers);
  return startControlServer(path, commands, streams);
}

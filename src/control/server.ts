// The control socket `syndrop run` serves: JSON lines over a root-only unix socket. A bad request
// gets an error reply; nothing a client sends can crash the server.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, readdir, unlink } from 'node:fs/promises';
import { SyndropError } from '../errors.js';
import { ensureControlDir } from './paths.js';
import {
  LineSplitter,
  MAX_REQUEST_LINE_BYTES,
  encodeLine,
  type ControlReply,
  type RequestId,
} from './protocol.js';

export type CommandArgs = Record<string, unknown>;

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

/** Items queued beyond this many bytes for one slow client are dropped, not buffered. */
const STREAM_HIGH_WATER_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;

function errorBody(error: unknown): { code: string; message: string } {
  if (error instanceof SyndropError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'SYNDROP_ERR_CONTROL', message: `internal error: ${message}` };
}

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
      else if (error.code === 'EACCES' || error.code === 'EPERM') {
        reject(new SyndropError('SYNDROP_ERR_NOT_ROOT', 'the control socket is root-only: run as root'));
      } else resolve(true);
    });
  });
}

function alreadyRunning(path: string): SyndropError {
  return new SyndropError(
    'SYNDROP_ERR_ALREADY_RUNNING',
    `another 'syndrop run' is serving ${path}: stop it first or use SYNDROP_INSTANCE`,
  );
}

async function takeOverStaleSocket(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isSocket()) {
    throw new SyndropError('SYNDROP_ERR_CONTROL', `${path} exists and is not a socket: remove it or choose another path`);
  }
  if (await probeLive(path)) throw alreadyRunning(path);
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

function listen(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(error.code === 'EADDRINUSE' ? alreadyRunning(path) : error);
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
      () => this.#fail(null, `request line longer than ${MAX_REQUEST_LINE_BYTES} bytes: ignored`),
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
      line = encodeLine({ id: reply.id, ok: false, error: errorBody(error) });
    }
    this.#socket.write(line);
    return true;
  }

  #fail(id: RequestId, message: string, code = 'SYNDROP_ERR_CONTROL'): void {
    this.#send({ id, ok: false, error: { code, message } });
  }

  #onLine(line: string): void {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      this.#fail(null, 'request is not valid JSON');
      return;
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      this.#fail(null, 'request must be a JSON object');
      return;
    }
    const { id: rawId, cmd, args: rawArgs } = request as { id?: unknown; cmd?: unknown; args?: unknown };
    const id: RequestId = typeof rawId === 'number' || typeof rawId === 'string' ? rawId : null;
    if (typeof cmd !== 'string' || cmd === '') {
      this.#fail(id, "request has no 'cmd'");
      return;
    }
    if (rawArgs !== undefined && (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs))) {
      this.#fail(id, "'args' must be a JSON object");
      return;
    }
    const args = (rawArgs ?? {}) as CommandArgs;
    const has = (table: object): boolean => Object.prototype.hasOwnProperty.call(table, cmd);
    if (has(this.#streamHandlers)) this.#startStream(id, this.#streamHandlers[cmd], args);
    else if (has(this.#handlers)) void this.#answer(id, this.#handlers[cmd], args);
    else this.#fail(id, `unknown command '${cmd}'`);
  }

  async #answer(id: RequestId, handler: RequestHandler, args: CommandArgs): Promise<void> {
    try {
      const result = await handler(args, { signal: this.#closed.signal });
      this.#send({ id, ok: true, result: result ?? null });
    } catch (error) {
      this.#send({ id, ok: false, error: errorBody(error) });
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
      else this.#send({ id, ok: false, error: errorBody(error) });
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

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyndropError } from '../../src/errors.js';
import {
  serveControl,
  startControlServer,
  type ControlHandlers,
  type ControlServer,
  type ControlStreamHandlers,
  type RequestHandler,
  type StreamHandler,
} from '../../src/control/server.js';
import { controlRequest, controlStream, follow, request } from '../../src/control/client.js';
import { decodeAppRequest, REQUEST_DECODERS, type InstanceSummary } from '../../src/control/contract.js';
import { ControlError, decodeError, encodeError, ERROR_CODES } from '../../src/control/errors.js';
import type { SyndropErrorCode } from '../../src/errors.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Instance } from '../../src/server/instance.js';
import { controlSocketPath, CONTROL_DIR } from '../../src/control/paths.js';
import { MAX_REQUEST_LINE_BYTES } from '../../src/control/protocol.js';

let dir: string;
let path: string;
const servers: ControlServer[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'syndrop-ctl-'));
  path = join(dir, 'test.sock');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await rm(dir, { recursive: true, force: true });
});

const handlers: Record<string, RequestHandler> = {
  stats: (args) => ({ echo: args, counter: 5n }),
  slow: async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return 'done';
  },
  badSysctl: () => {
    throw new SyndropError('SYNDROP_ERR_BAD_SYSCTL', 'net.ipv4.tcp_syncookies must be 0, 1 or 2');
  },
  oddCode: () => {
    const error = new SyndropError('SYNDROP_ERR_CONTROL', 'x');
    (error as { code: string }).code = 'SOMETHING_NEW';
    throw error;
  },
  bug: () => {
    throw new TypeError('boom');
  },
};

const streamHandlers: Record<string, StreamHandler> = {
  // Open-ended: one item every 5 ms until the client leaves or the server stops.
  follow: (_args, push, signal) => {
    let n = 0;
    const timer = setInterval(() => push({ n: n++ }), 5);
    signal.addEventListener('abort', () => clearInterval(timer));
  },
  // Finite: three items, then the promise resolves and the stream ends.
  three: async (_args, push) => {
    for (let n = 0; n < 3; n++) push({ n });
  },
};

async function start(): Promise<ControlServer> {
  const server = await startControlServer(path, handlers, streamHandlers);
  servers.push(server);
  return server;
}

/** A raw client: write lines, read reply objects one at a time. */
function rawClient(socketPath: string): Promise<{ socket: Socket; send: (text: string) => void; next: () => Promise<any> }> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: socketPath });
    const queue: any[] = [];
    const waiters: Array<(value: any) => void> = [];
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const reply = JSON.parse(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        const waiter = waiters.shift();
        if (waiter) waiter(reply);
        else queue.push(reply);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        send: (text) => socket.write(text),
        next: () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
      }),
    );
  });
}

async function expectSyndropError(promise: Promise<unknown>, code: string): Promise<SyndropError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SyndropError);
  expect((error as SyndropError).code).toBe(code);
  return error as SyndropError;
}

describe('control socket: request and reply', () => {
  it('answers a request with the handler result (bigint counters as numbers)', async () => {
    await start();
    const result = await controlRequest('stats', { netstat: true }, { path });
    expect(result).toEqual({ echo: { netstat: true }, counter: 5 });
    expect(await controlRequest('slow', {}, { path })).toBe('done');
  });

  it('keeps concurrent requests on one connection apart by id', async () => {
    await start();
    const client = await rawClient(path);
    client.send('{"id":1,"cmd":"slow"}\n{"id":2,"cmd":"stats","args":{"a":1}}\n');
    const replies = [await client.next(), await client.next()];
    client.socket.destroy();
    expect(replies.find((r) => r.id === 1)).toEqual({ id: 1, ok: true, result: 'done' });
    expect(replies.find((r) => r.id === 2)).toEqual({ id: 2, ok: true, result: { echo: { a: 1 }, counter: 5 } });
  });

  it('passes a handler SyndropError through with its code and exit code', async () => {
    await start();
    const error = await expectSyndropError(controlRequest('badSysctl', {}, { path }), 'SYNDROP_ERR_BAD_SYSCTL');
    expect(error.message).toMatch(/tcp_syncookies/);
    expect(error.exitCode).toBe(2);
  });

  it('maps an unknown error code to SYNDROP_ERR_CONTROL and hides nothing of a handler bug', async () => {
    await start();
    await expectSyndropError(controlRequest('oddCode', {}, { path }), 'SYNDROP_ERR_CONTROL');
    const error = await expectSyndropError(controlRequest('bug', {}, { path }), 'SYNDROP_ERR_CONTROL');
    expect(error.message).toMatch(/boom/);
  });

  it('replies with an error to an unknown command', async () => {
    await start();
    const error = await expectSyndropError(controlRequest('nope', {}, { path }), 'SYNDROP_ERR_CONTROL');
    expect(error.message).toMatch(/unknown command 'nope'/);
  });
});

describe('control socket: malformed input never crashes the server', () => {
  it('answers non-JSON, non-object, missing cmd and bad args with errors, then still serves', async () => {
    await start();
    const client = await rawClient(path);
    client.send('this is not json\n');
    expect(await client.next()).toMatchObject({ id: null, ok: false, error: { code: 'SYNDROP_ERR_CONTROL' } });
    client.send('[1,2]\n');
    expect(await client.next()).toMatchObject({ id: null, ok: false });
    client.send('{"id":3}\n');
    expect(await client.next()).toMatchObject({ id: 3, ok: false, error: { message: "request has no 'cmd'" } });
    client.send('{"id":4,"cmd":"stats","args":[1]}\n');
    expect(await client.next()).toMatchObject({ id: 4, ok: false });
    client.send('{"id":5,"cmd":"stats"}\r\n');
    expect(await client.next()).toEqual({ id: 5, ok: true, result: { echo: {}, counter: 5 } });
    client.socket.destroy();
    expect(await controlRequest('stats', {}, { path })).toBeTruthy();
  });

  it('rejects a line over 64 KiB once, skips it to its newline, and answers the next line', async () => {
    await start();
    const client = await rawClient(path);
    const oversized = 'x'.repeat(MAX_REQUEST_LINE_BYTES + 10);
    // Sent in pieces, as a real stream would arrive.
    client.send(oversized.slice(0, 40_000));
    client.send(oversized.slice(40_000));
    client.send('{"tail of the same line": true}\n{"id":7,"cmd":"stats"}\n');
    const first = await client.next();
    expect(first).toMatchObject({ id: null, ok: false, error: { code: 'SYNDROP_ERR_CONTROL' } });
    expect(first.error.message).toMatch(/longer than 65536 bytes/);
    expect(await client.next()).toMatchObject({ id: 7, ok: true });
    client.socket.destroy();
  });

  it('accepts a line of exactly 64 KiB', async () => {
    await start();
    const client = await rawClient(path);
    const request = JSON.stringify({ id: 8, cmd: 'stats', args: { pad: '' } });
    const pad = 'p'.repeat(MAX_REQUEST_LINE_BYTES - request.length);
    const line = JSON.stringify({ id: 8, cmd: 'stats', args: { pad } });
    expect(Buffer.byteLength(line)).toBe(MAX_REQUEST_LINE_BYTES);
    client.send(line + '\n');
    expect(await client.next()).toMatchObject({ id: 8, ok: true });
    client.socket.destroy();
  });

  it('survives a client that hangs up mid-request', async () => {
    await start();
    const client = await rawClient(path);
    client.send('{"id":1,"cmd":"slow"}\n');
    client.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await controlRequest('slow', {}, { path })).toBe('done');
  });
});

describe('control socket: the socket file', () => {
  it('is mode 0600 while serving and removed by close()', async () => {
    const server = await start();
    expect(server.path).toBe(path);
    const info = await stat(path);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    await server.close();
    expect(existsSync(path)).toBe(false);
    await server.close(); // idempotent
  });

  it('creates a missing parent directory with mode 0700', async () => {
    path = join(dir, 'sub', 'x.sock');
    await start();
    expect((await stat(join(dir, 'sub'))).mode & 0o777).toBe(0o700);
  });

  it('takes over a stale socket file left by a crashed server', async () => {
    // A process that listens and dies by SIGKILL leaves its socket file behind.
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '-e',
        `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      child.once('error', reject);
      child.once('exit', () => resolve());
    });
    expect((await stat(path)).isSocket()).toBe(true);
    await expectSyndropError(controlRequest('stats', {}, { path }), 'SYNDROP_ERR_NOT_RUNNING');
    await start();
    expect(await controlRequest('stats', {}, { path })).toBeTruthy();
  });

  it('refuses a second server on a live socket with SYNDROP_ERR_ALREADY_RUNNING', async () => {
    await start();
    const error = await expectSyndropError(startControlServer(path, handlers), 'SYNDROP_ERR_ALREADY_RUNNING');
    expect(error.message).toBe(`another 'syndrop run' is serving ${path}: stop it first or use SYNDROP_INSTANCE`);
    // The first server is untouched.
    expect(await controlRequest('stats', {}, { path })).toBeTruthy();
  });

  it('refuses to replace something that is not a socket', async () => {
    await writeFile(path, 'precious');
    await expectSyndropError(startControlServer(path, handlers), 'SYNDROP_ERR_CONTROL');
    expect(existsSync(path)).toBe(true);
  });

  it('client to a missing socket → SYNDROP_ERR_NOT_RUNNING naming the path', async () => {
    const error = await expectSyndropError(controlRequest('stats', {}, { path }), 'SYNDROP_ERR_NOT_RUNNING');
    expect(error.message).toBe(`no running syndrop instance at ${path}: start one with 'syndrop run'`);
  });

  it('client times out when the server never answers', async () => {
    await startControlServer(path, { hang: () => new Promise(() => undefined) }).then((s) => servers.push(s));
    const error = await expectSyndropError(controlRequest('hang', {}, { path, timeoutMs: 100 }), 'SYNDROP_ERR_CONTROL');
    expect(error.message).toMatch(/no reply/);
  });
});

describe('control socket: streaming', () => {
  it('streams items until the client aborts', async () => {
    await start();
    const items: unknown[] = [];
    const controller = new AbortController();
    await controlStream(
      'follow',
      {},
      (item) => {
        items.push(item);
        if (items.length === 3) controller.abort();
      },
      { path, signal: controller.signal },
    );
    expect(items).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    // The server noticed the hang-up and still serves.
    expect(await controlRequest('stats', {}, { path })).toBeTruthy();
  });

  it('ends a finite stream with an end line', async () => {
    await start();
    const client = await rawClient(path);
    client.send('{"id":9,"cmd":"three"}\n');
    const replies = [await client.next(), await client.next(), await client.next(), await client.next()];
    client.socket.destroy();
    expect(replies).toEqual([
      { id: 9, ok: true, stream: true, result: { n: 0 } },
      { id: 9, ok: true, stream: true, result: { n: 1 } },
      { id: 9, ok: true, stream: true, result: { n: 2 } },
      { id: 9, ok: true, end: true },
    ]);
    const items: unknown[] = [];
    await controlStream('three', {}, (item) => items.push(item), { path });
    expect(items).toHaveLength(3);
  });

  it('ends open streams cleanly when the server stops', async () => {
    const server = await start();
    const items: unknown[] = [];
    let stopping: Promise<void> | undefined;
    await controlStream(
      'follow',
      {},
      (item) => {
        items.push(item);
        if (items.length === 2) stopping = server.close();
      },
      { path },
    );
    await stopping;
    expect(items.length).toBeGreaterThanOrEqual(2);
    expect(existsSync(path)).toBe(false);
  });

  it('a plain command used as a stream yields its result once', async () => {
    await start();
    const items: unknown[] = [];
    await controlStream('slow', {}, (item) => items.push(item), { path });
    expect(items).toEqual(['done']);
  });
});

describe('control contract: one table of error codes', () => {
  it('gives every code the exit code SyndropError gives it', () => {
    for (const [code, exitCode] of Object.entries(ERROR_CODES)) {
      expect(new SyndropError(code as SyndropErrorCode, 'x').exitCode, code).toBe(exitCode);
    }
  });

  it('round-trips a known code, and turns an unknown one or a bug into SYNDROP_ERR_CONTROL', () => {
    const sysctl = decodeError(encodeError(new SyndropError('SYNDROP_ERR_UNKNOWN_SYSCTL', 'no such sysctl')));
    expect([sysctl.code, sysctl.message, sysctl.exitCode]).toEqual(['SYNDROP_ERR_UNKNOWN_SYSCTL', 'no such sysctl', 2]);
    expect(decodeError({ code: 'SYNDROP_ERR_FROM_THE_FUTURE', message: 'm' }).code).toBe('SYNDROP_ERR_CONTROL');
    expect(decodeError(null).message).toBe('request failed');
    expect(encodeError(new RangeError('boom'))).toEqual({ code: 'SYNDROP_ERR_CONTROL', message: 'internal error: boom' });
  });

  it('names the failure on a ControlError and keeps the wire code', () => {
    const error = new ControlError('not-running', '/run/syndrop/x.sock');
    expect(error).toBeInstanceOf(SyndropError);
    expect([error.failure, error.code, error.exitCode]).toEqual(['not-running', 'SYNDROP_ERR_NOT_RUNNING', 1]);
  });
});

describe('control contract: typed handlers and client', () => {
  const summary: InstanceSummary = {
    profile: '6.x',
    profileDescription: 'test',
    address: '10.77.0.2',
    port: 80,
    app: 'http',
    pid: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    uptimeMs: 0,
  };
  const empty = { profile: '6.x', counters: {}, listeners: [], dropsByReason: {} };
  const typedHandlers: ControlHandlers = {
    ping: () => summary,
    stats: () => ({ ...summary, ...empty, time: 0, verdicts: {} }),
    sysctl: (args) => ({ profile: '6.x', values: [...(args.set ?? []), ...(args.get ?? [])].map((name) => ({ name, value: 1 })) }),
    ss: () => ({ profile: '6.x', listeners: [], sockets: [] }),
    events: (args) => ({ profile: '6.x', next: args.from ?? -1, lost: args.last ?? -1, events: [] }),
    explain: () => ({ profile: '6.x', problems: [] }),
    metrics: () => ({ profile: '6.x', entries: [] }),
    'metrics.flush': (args) => ({ flushed: args.address === undefined ? 2 : 1 }),
    app: (args) => ({ paused: args.action === 'pause', acceptRate: args.action === 'rate' ? args.rate : 'unlimited' }),
    top: () => ({ ...empty, timeMs: 0, peers: [], synIn: 0, synAckOut: 0 }),
    recording: () => ({
      startedAt: summary.startedAt,
      durationMs: 0,
      kernel: { name: '6.x', description: 'test' },
      limits: { synQueue: 0, acceptQueue: 0 },
      settings: {},
      sysctls: [],
      sampleIntervalMs: 50,
      samples: [],
      events: [],
      eventsLost: 0,
      findings: [],
    }),
  };
  const typedStreams: ControlStreamHandlers = {
    'events.follow': async () => undefined,
  };

  async function serve(): Promise<void> {
    servers.push(await serveControl(path, typedHandlers, typedStreams));
  }

  it('decodes wire args into the request type before the handler runs', async () => {
    await serve();
    expect(await request(path, 'events', { from: 5, last: 7 })).toMatchObject({ next: 5, lost: 7 });
    // A wrong type reads as absent, as the handlers always treated it.
    expect(await controlRequest('events', { from: 'five' }, { path })).toMatchObject({ next: -1 });
    expect((await request(path, 'sysctl', { get: ['net.ipv4.tcp_syncookies'] })).values).toEqual([{ name: 'net.ipv4.tcp_syncookies', value: 1 }]);
    expect(await request(path, 'metrics.flush', { address: '10.0.0.1' })).toEqual({ flushed: 1 });
  });

  it('refuses a bad app action or rate with a usage error, on both sides', async () => {
    await serve();
    const error = await expectSyndropError(controlRequest('app', { action: 'rate', rate: -1 }, { path }), 'SYNDROP_ERR_USAGE');
    expect(error.message).toBe('app rate -1: expected a number ≥ 0');
    await expectSyndropError(controlRequest('app', { action: 'jump' }, { path }), 'SYNDROP_ERR_USAGE');
    expect(() => decodeAppRequest({ action: 'rate' })).toThrow(/expected a number ≥ 0/);
    expect(decodeAppRequest({ action: 'rate', rate: '25' })).toEqual({ action: 'rate', rate: 25 });
    expect(await request(path, 'app', { action: 'rate', rate: 25 })).toEqual({ paused: false, acceptRate: 25 });
  });

  it("refuses the old `metrics {flush: true}` instead of listing", async () => {
    await serve();
    await expectSyndropError(controlRequest('metrics', { flush: true }, { path }), 'SYNDROP_ERR_USAGE');
  });

  it('serves exactly the commands of the contract', async () => {
    await serve();
    for (const command of Object.keys(REQUEST_DECODERS)) expect(await controlRequest(command, {}, { path }).catch((e: SyndropError) => e.code)).not.toBe('SYNDROP_ERR_CONTROL');
    await expectSyndropError(controlRequest('hang', {}, { path }), 'SYNDROP_ERR_CONTROL');
  });
});

describe('syndrop run: the instance serves the contract', () => {
  it('answers every command from a live host behind an idle device', async () => {
    const idleDevice = { onReadable: () => undefined, readBatch: () => 0, writeBatch: () => 0, close: () => undefined };
    const instance = await Instance.start({
      profile: resolveProfile('4.4'),
      sysctlOverrides: ['net.ipv4.tcp_syncookies=0'],
      address: '10.77.0.2',
      port: 80,
      backlog: 8,
      bind: '0.0.0.0',
      deferAccept: 0,
      app: 'http',
      acceptRate: Infinity,
      device: 'sdtest0',
      netns: null,
      controlPath: path,
      pcapPath: null,
      pcapMaxBytes: 0,
      seed: 1,
      frameDevice: idleDevice,
    });
    try {
      expect(await request(path, 'ping', {})).toMatchObject({ profile: '4.4', address: '10.77.0.2', port: 80, pid: process.pid });
      const stats = await request(path, 'stats', {});
      expect(stats.listeners[0]).toMatchObject({ localPort: 80 });
      expect(typeof stats.counters.TcpExtListenDrops).toBe('number');
      expect((await request(path, 'sysctl', { get: ['net.ipv4.tcp_syncookies'] })).values).toEqual([{ name: 'net.ipv4.tcp_syncookies', value: 0 }]);
      await expectSyndropError(request(path, 'sysctl', { get: ['net.ipv4.no_such'] }), 'SYNDROP_ERR_UNKNOWN_SYSCTL');
      expect((await request(path, 'ss', {})).sockets).toEqual([]);
      expect(await request(path, 'events', {})).toMatchObject({ next: 0, lost: 0, events: [] });
      expect(Array.isArray((await request(path, 'explain', {})).problems)).toBe(true);
      expect(await request(path, 'metrics', {})).toEqual({ profile: '4.4', entries: [] });
      expect(await request(path, 'metrics.flush', {})).toEqual({ flushed: 0 });
      await expectSyndropError(request(path, 'metrics.flush', { address: 'nowhere' }), 'SYNDROP_ERR_USAGE');
      expect(await request(path, 'app', { action: 'pause' })).toEqual({ paused: true, acceptRate: 'unlimited' });
      expect(await request(path, 'app', { action: 'rate', rate: 3 })).toEqual({ paused: true, acceptRate: 3 });
      expect(await request(path, 'top', {})).toMatchObject({ synIn: 0, synAckOut: 0, peers: [] });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 150);
      const items: unknown[] = [];
      await follow(path, 'events.follow', {}, (item) => items.push(item), { signal: controller.signal });
      expect(items).toEqual([]);
      // A second run on the same socket is told who holds the port.
      const second = Instance.start({ ...instance.options, frameDevice: idleDevice });
      const error = await expectSyndropError(second, 'SYNDROP_ERR_PORT_IN_USE');
      expect(error.message).toMatch(/10\.77\.0\.2:80 is already listened on by 'syndrop run' \(pid \d+, kernel 4\.4\)/);
    } finally {
      await instance.stop();
    }
  });
});

describe('control socket path', () => {
  it('resolves explicit path, SYNDROP_CONTROL, SYNDROP_INSTANCE, default', () => {
    expect(controlSocketPath({ path: '/tmp/a.sock' }, {})).toBe('/tmp/a.sock');
    expect(controlSocketPath({}, { SYNDROP_CONTROL: '/tmp/b.sock', SYNDROP_INSTANCE: 'x' })).toBe('/tmp/b.sock');
    expect(controlSocketPath({}, { SYNDROP_INSTANCE: 'lab2' })).toBe(`${CONTROL_DIR}/lab2.sock`);
    expect(controlSocketPath({}, {})).toBe('/run/syndrop/default.sock');
    expect(() => controlSocketPath({ instance: '../etc' }, {})).toThrow(SyndropError);
  });
});

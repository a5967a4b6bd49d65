// The application behind the listener. `http` answers and closes first, so the emulated
// server side enters TIME_WAIT — what feeds the per-host PAWS check (design.md src/app).

import { SyndropError } from '../errors.js';
import type { Connection, ConnectionHandler } from '../stack/conn.js';

export type AppName = 'http' | 'echo' | 'discard';
export const APP_NAMES: readonly AppName[] = ['http', 'echo', 'discard'];

export const HTTP_BODY = 'hello from syndrop\n';

const encoder = new TextEncoder();
const REQUEST_END = encoder.encode('\r\n\r\n');

function indexOfSequence(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Reads one request head, answers 200 with a short body, closes first. */
export class HttpApp implements ConnectionHandler {
  private readonly pending = new Map<number, Uint8Array>();
  requestsServed = 0;

  onAccepted(conn: Connection): void {
    this.pending.set(conn.id, new Uint8Array(0));
  }

  onData(conn: Connection, data: Uint8Array): void {
    const before = this.pending.get(conn.id);
    if (before === undefined) return;
    const merged = new Uint8Array(before.length + data.length);
    merged.set(before);
    merged.set(data, before.length);
    if (indexOfSequence(merged, REQUEST_END) < 0) {
      this.pending.set(conn.id, merged.length > 65536 ? merged.subarray(merged.length - 4) : merged);
      return;
    }
    this.pending.delete(conn.id);
    const body = HTTP_BODY;
    const response =
      'HTTP/1.1 200 OK\r\n' +
      'Server: syndrop\r\n' +
      'Content-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n' +
      '\r\n' +
      body;
    conn.write(encoder.encode(response));
    conn.close();
    this.requestsServed++;
  }

  onPeerClosed(conn: Connection): void {
    this.pending.delete(conn.id);
    conn.close();
  }

  onClosed(conn: Connection): void {
    this.pending.delete(conn.id);
  }
}

/** Writes back every byte; closes when the peer does. */
export class EchoApp implements ConnectionHandler {
  onAccepted(): void {}
  onData(conn: Connection, data: Uint8Array): void {
    conn.write(data);
  }
  onPeerClosed(conn: Connection): void {
    conn.close();
  }
  onClosed(): void {}
}

/** Reads and forgets; closes when the peer does. */
export class DiscardApp implements ConnectionHandler {
  onAccepted(): void {}
  onData(): void {}
  onPeerClosed(conn: Connection): void {
    conn.close();
  }
  onClosed(): void {}
}

export function createApp(name: string): ConnectionHandler {
  switch (name) {
    case 'http':
      return new HttpApp();
    case 'echo':
      return new EchoApp();
    case 'discard':
      return new DiscardApp();
    default:
      throw new SyndropError('SYNDROP_ERR_USAGE', `unknown app '${name}': choose one of ${APP_NAMES.join(', ')}`);
  }
}

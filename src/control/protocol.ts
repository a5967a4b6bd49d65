// The control protocol's framing: one JSON object per line, both ways. What each command takes
// and returns is in contract.ts; the error codes and messages in errors.ts.
//
//   request  {"id":1,"cmd":"stats","args":{...}}
//   reply    {"id":1,"ok":true,"result":...}
//          | {"id":1,"ok":false,"error":{"code":"SYNDROP_ERR_...","message":"..."}}
//   stream   {"id":1,"ok":true,"stream":true,"result":...}  (any number)
//            {"id":1,"ok":true,"end":true}                  (last)

import type { CommandArgs } from './contract.js';
import type { ControlErrorBody } from './errors.js';

export type { ControlErrorBody };

/** Longest request line the server accepts (bytes, without the newline). */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

export type RequestId = number | string | null;

export interface ControlRequest {
  id: RequestId;
  cmd: string;
  args?: CommandArgs;
}

export type ControlReply =
  | { id: RequestId; ok: true; result: unknown; stream?: undefined; end?: undefined }
  | { id: RequestId; ok: true; stream: true; result: unknown }
  | { id: RequestId; ok: true; end: true }
  | { id: RequestId; ok: false; error: ControlErrorBody };

/** JSON.stringify that survives bigint counters (as numbers when exact, else strings). */
export function encodeLine(message: ControlReply | ControlRequest): string {
  return (
    JSON.stringify(message, (_key, value: unknown) =>
      typeof value === 'bigint'
        ? value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
          ? Number(value)
          : value.toString()
        : value,
    ) + '\n'
  );
}

/**
 * Splits a byte stream into lines. Lines longer than maxBytes are reported once through onOversize
 * and skipped up to their newline, so one bad line never desynchronises the stream.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOversize: () => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #discarding = false;

  constructor(maxBytes: number, onLine: (line: string) => void, onOversize: () => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
    this.#onOversize = onOversize;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, newline));
      this.#finishLine();
      start = newline + 1;
    }
  }

  #append(piece: Buffer): void {
    if (piece.length === 0 || this.#discarding) return;
    if (this.#pendingBytes + piece.length > this.#maxBytes) {
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#discarding = true;
      this.#onOversize();
      return;
    }
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
  }

  #finishLine(): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    const line = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8').replace(/\r$/, '');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (line.trim() !== '') this.#onLine(line);
  }
}

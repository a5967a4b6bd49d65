// The host end of sdguest's serial protocol (guest/sdguest.c): one command line out, one reply
// in — "ok N\n" and N bytes, or "err TEXT\n". Requests are queued: the line carries one at a time.

import type { Readable, Writable } from 'node:stream';
import { SyndropError } from '../../errors.js';

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (error: Error) => void;
}

export class SerialControl {
  private buffer = Buffer.alloc(0);
  private readonly waiting: Pending[] = [];
  private readyWaiters: Array<() => void> = [];
  private ready = false;
  private closedWith: Error | null = null;

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    input.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
  }

  /** Fails every pending and later request (the guest is gone). */
  close(error: Error): void {
    this.closedWith = error;
    for (const p of this.waiting.splice(0)) p.reject(error);
  }

  /** Resolves once sdguest has printed "ready". */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  request(line: string, timeoutMs = 20_000): Promise<Buffer> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (/[\n\r]/.test(line)) return Promise.reject(new SyndropError('SYNDROP_ERR_USAGE', 'a guest command is one line'));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `guest did not answer '${line}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        resolve: (body) => {
          clearTimeout(timer);
          resolve(body);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.output.write(`${line}\n`);
    });
  }

  async text(line: string): Promise<string> {
    return (await this.request(line)).toString('utf8');
  }

  private drain(): void {
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) return;
      const head = this.buffer.toString('latin1', 0, nl);
      if (!this.ready) {
        this.buffer = this.buffer.subarray(nl + 1);
        if (head.trim() === 'ready') {
          this.ready = true;
          for (const wake of this.readyWaiters.splice(0)) wake();
        }
        continue;
      }
      const ok = /^ok (\d+)$/.exec(head);
      if (ok !== null) {
        const length = Number(ok[1]);
        if (this.buffer.length < nl + 1 + length) return;
        const body = Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + length));
        this.buffer = this.buffer.subarray(nl + 1 + length);
        this.waiting.shift()?.resolve(body);
        continue;
      }
      this.buffer = this.buffer.subarray(nl + 1);
      const message = head.startsWith('err ') ? head.slice(4) : `unexpected line from the guest: ${head.slice(0, 80)}`;
      this.waiting.shift()?.reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `guest: ${message}`));
    }
  }
}

/** nstat-named counters from sdguest's "Name value" lines. */
export function parseCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(' ');
    if (name && value !== undefined && /^-?\d+$/.test(value)) out[name] = Number(value);
  }
  return out;
}

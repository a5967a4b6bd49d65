// Two namespaces joined by a veth pair, for the replay tests that record a real host kernel:
// a server side (a real listener, tcpdump) and a client side (real clients, hping3). Each test
// gives its own prefix and subnet, so tests and helpers running in parallel never meet.

import { spawn, type ChildProcess } from 'node:child_process';
import { run, runInNetns } from '../../src/lab/exec.js';

export class CaptureLab {
  readonly serverNs: string;
  readonly clientNs: string;
  readonly serverIf: string;
  readonly clientIf: string;
  readonly serverAddr: string;
  readonly clientAddr: string;
  /** IPv6 addresses (`prefix6` ::1 and ::2), or null for an IPv4-only lab. */
  readonly serverAddr6: string | null;
  readonly clientAddr6: string | null;
  readonly #children: ChildProcess[] = [];

  /**
   * `subnet` is the first three octets, e.g. '10.98.0': the server is .1, the client .2.
   * `prefix6`, e.g. 'fd96:6::', adds a /64 of IPv6 beside it: the server ::1, the client ::2.
   */
  constructor(prefix: string, subnet: string, prefix6?: string) {
    this.serverNs = `${prefix}-srv`;
    this.clientNs = `${prefix}-cli`;
    this.serverIf = `${prefix}-v0`;
    this.clientIf = `${prefix}-v1`;
    this.serverAddr = `${subnet}.1`;
    this.clientAddr = `${subnet}.2`;
    this.serverAddr6 = prefix6 === undefined ? null : `${prefix6}1`;
    this.clientAddr6 = prefix6 === undefined ? null : `${prefix6}2`;
  }

  async up(): Promise<void> {
    await this.down();
    await run(['ip', 'netns', 'add', this.serverNs]);
    await run(['ip', 'netns', 'add', this.clientNs]);
    await run(['ip', 'link', 'add', this.serverIf, 'netns', this.serverNs, 'type', 'veth', 'peer', 'name', this.clientIf, 'netns', this.clientNs]);
    await runInNetns(this.serverNs, ['ip', 'addr', 'add', `${this.serverAddr}/24`, 'dev', this.serverIf]);
    await runInNetns(this.clientNs, ['ip', 'addr', 'add', `${this.clientAddr}/24`, 'dev', this.clientIf]);
    // nodad: usable at once, not after duplicate address detection's second or so.
    if (this.serverAddr6 !== null) await runInNetns(this.serverNs, ['ip', '-6', 'addr', 'add', `${this.serverAddr6}/64`, 'dev', this.serverIf, 'nodad']);
    if (this.clientAddr6 !== null) await runInNetns(this.clientNs, ['ip', '-6', 'addr', 'add', `${this.clientAddr6}/64`, 'dev', this.clientIf, 'nodad']);
    for (const [ns, dev] of [[this.serverNs, this.serverIf], [this.clientNs, this.clientIf]] as const) {
      await runInNetns(ns, ['ip', 'link', 'set', dev, 'up']);
      await runInNetns(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
  }

  /** Stops what this lab started and removes its namespaces (the veth goes with them). */
  async down(): Promise<void> {
    for (const child of this.#children.splice(0)) await stop(child);
    for (const ns of [this.serverNs, this.clientNs]) await run(['ip', 'netns', 'del', ns], { allowFailure: true });
  }

  /** A long-running command in the server namespace, ready once it prints 'listening' (a listener, tcpdump). */
  inServer(argv: string[]): Promise<ChildProcess> {
    const child = spawn('ip', ['netns', 'exec', this.serverNs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    return new Promise((resolve, reject) => {
      const ready = (chunk: Buffer) => {
        if (chunk.toString().includes('listening')) resolve(child);
      };
      child.stdout!.on('data', ready);
      child.stderr!.on('data', ready);
      child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}`)));
    });
  }

  /**
   * tcpdump on the server's interface into `file`. --immediate-mode: without it a short burst
   * can still sit in the capture ring when tcpdump is stopped, and is never written.
   */
  capture(file: string, filter: string[]): Promise<ChildProcess> {
    return this.inServer(['tcpdump', '-i', this.serverIf, '--immediate-mode', '-U', '-w', file, ...filter]);
  }
}

/** SIGINT, then wait for the exit (tcpdump writes its last packets on the way out). */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

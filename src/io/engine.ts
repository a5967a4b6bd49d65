// The frame loop: TUN → Host → TUN, in batches. The only place where the stack meets
// real time: `now` is milliseconds since start from a monotonic clock, timers are one
// re-armed alarm (./alarm.ts: at the start of the virtual millisecond they are due in), and
// each readable wakeup drains the device.

import { performance } from 'node:perf_hooks';

import type { Host } from '../stack/host.js';
import { Counter } from '../stack/mib.js';
import type { PcapngWriter } from '../observe/pcapng.js';
import { verdictComment } from '../observe/verdict-comment.js';
import { timeoutAlarm, type Alarm, type AlarmFactory } from './alarm.js';
import type { TunDevice } from './tun.js';

export const RX_SLOT_SIZE = 2048;

/** The device side the engine needs: TunDevice, or a test double built on real frames. */
export type FrameDevice = Pick<TunDevice, 'onReadable' | 'readBatch' | 'writeBatch' | 'close'>;

export interface EngineOptions {
  host: Host;
  device: FrameDevice;
  /** Frames per readBatch call. */
  batch?: number;
  pcap?: PcapngWriter | null;
  /** Called once per flood warning line (the kernel log). */
  onKernelLog?: (line: string) => void;
  onDeviceError?: (error: Error) => void;
  /** The timer: preciseAlarm on a TUN device; setTimeout (whole ms) by default. */
  alarm?: AlarmFactory;
}

export class Engine {
  readonly host: Host;
  private readonly device: FrameDevice;
  private readonly rxSlab: Uint8Array;
  private readonly rxLengths: Int32Array;
  private readonly pcap: PcapngWriter | null;
  private readonly onKernelLog: (line: string) => void;
  private readonly onDeviceError: (error: Error) => void;
  private readonly startMs = performance.now();
  /** Wall-clock ms at start: event times and pcap timestamps are relative to it. */
  readonly startWallMs = Date.now();
  private readonly alarm: Alarm;
  private timerAt = Infinity;
  private stopped = false;
  private logged = 0;

  constructor(options: EngineOptions) {
    this.host = options.host;
    this.device = options.device;
    const batch = options.batch ?? 64;
    this.rxSlab = new Uint8Array(batch * RX_SLOT_SIZE);
    this.rxLengths = new Int32Array(batch);
    this.pcap = options.pcap ?? null;
    this.onKernelLog = options.onKernelLog ?? ((line) => process.stderr.write(`${line}\n`));
    this.onDeviceError = options.onDeviceError ?? (() => {});
    this.alarm = (options.alarm ?? timeoutAlarm)(this.onTimer);
    this.host.tx.onFull = () => this.flush();
  }

  /**
   * Milliseconds since start, whole: the kernel's clock is jiffies (HZ=1000 on every
   * profile), and a small integer crosses calls without being boxed as a HeapNumber.
   */
  now(): number {
    return Math.floor(performance.now() - this.startMs);
  }

  /** Capture timestamps keep microseconds, unlike the stack's whole-ms clock. */
  private captureMicros(): number {
    return Math.round((this.startWallMs + performance.now() - this.startMs) * 1000);
  }

  start(): void {
    this.device.onReadable((error) => {
      if (error !== undefined) {
        this.onDeviceError(error);
        return;
      }
      this.drain();
    });
    this.armTimer();
  }

  /**
   * Reads until the device is empty, feeding every frame to the host. The first read of a
   * wakeup takes one frame only: at low load that frame is alone, and its reply is written
   * before the read() that finds the queue empty (the latency section of `make bench`).
   * Under load the following reads take whole batches, as before.
   */
  drain(): void {
    if (this.stopped) return;
    const host = this.host;
    const slab = this.rxSlab;
    const lengths = this.rxLengths;
    const stride = RX_SLOT_SIZE;
    let max = 1;
    for (;;) {
      const count = this.device.readBatch(slab, lengths, max);
      if (count === 0) break;
      const now = this.now();
      host.tick(now);
      for (let i = 0; i < count; i++) {
        const off = i * stride;
        if (this.pcap === null) {
          host.receive(slab, off, lengths[i]!, now);
        } else {
          this.receiveCaptured(off, lengths[i]!, now);
        }
      }
      this.flush();
      if (count < max) break;
      max = lengths.length;
    }
    this.afterWork();
  }

  private receiveCaptured(off: number, length: number, now: number): void {
    const pcap = this.pcap!;
    const tx = this.host.tx;
    this.flushIfNeeded();
    const before = tx.count;
    const verdict = this.host.receive(this.rxSlab, off, length, now);
    const micros = this.captureMicros();
    const comment = verdictComment(this.host.profile.name, verdict);
    pcap.writePacket(this.rxSlab, off, length, micros, 'in', comment);
    for (let i = before; i < tx.count; i++) pcap.writePacket(tx.slab, tx.offsets[i]!, tx.lengths[i]!, micros, 'out');
  }

  /** With a capture running, keep room so one frame's replies stay in one batch. */
  private flushIfNeeded(): void {
    const tx = this.host.tx;
    if (tx.count > tx.slots - 8) this.flush();
  }

  /** Writes the pending tx batch to the device. */
  flush(): void {
    const tx = this.host.tx;
    if (tx.count === 0) return;
    const written = this.stopped ? 0 : this.device.writeBatch(tx.slab, tx.offsets, tx.lengths, tx.count);
    this.host.counters[Counter.TxFrames]! += written;
    this.host.counters[Counter.TxDropped]! += tx.count - written;
    tx.clear();
  }

  private onTimer = (): void => {
    this.timerAt = Infinity;
    if (this.stopped) return;
    const now = this.now();
    if (this.pcap === null) {
      this.host.tick(now);
    } else {
      const tx = this.host.tx;
      const before = tx.count;
      this.host.tick(now);
      const micros = this.captureMicros();
      for (let i = before; i < tx.count; i++) this.pcap.writePacket(tx.slab, tx.offsets[i]!, tx.lengths[i]!, micros, 'out');
    }
    this.flush();
    this.afterWork();
  };

  /** Work done outside a frame (a live sysctl change, an accept policy change). */
  poke(): void {
    if (this.stopped) return;
    this.host.tick(this.now());
    this.flush();
    this.afterWork();
  }

  private afterWork(): void {
    const log = this.host.kernelLog;
    while (this.logged < log.length) this.onKernelLog(log[this.logged++]!);
    if (log.length > 1000) {
      log.splice(0, log.length);
      this.logged = 0;
    }
    this.armTimer();
  }

  private armTimer(): void {
    const at = this.host.nextTimerAt();
    // An earlier timer already pending re-arms itself when it fires.
    if (at === Infinity || at >= this.timerAt) return;
    this.timerAt = at;
    // Virtual ms `at` begins at startMs + at on the monotonic clock; should the alarm still
    // wake a hair early, onTimer's tick finds nothing due and afterWork re-arms it.
    this.alarm.arm(this.startMs + at - performance.now());
  }

  stop(): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    this.alarm.close();
    this.device.close();
    this.pcap?.close();
  }
}

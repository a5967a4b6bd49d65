// Typed wrapper over the native TUN addon (native/tun.cc). The addon moves frames between
// the TUN fd and JS-owned slabs in batches; this module loads it, maps its errno-coded
// errors to SyndropError codes, and documents the batch contracts.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SyndropError, usageError, type SyndropErrorCode } from '../errors.js';

/** How write batches reach the fd: `uring` = one io_uring_enter per batch of 4 or more frames
 *  (native/tun-ring.h), `syscalls` = one write() per frame. Reads are one read() per frame
 *  either way (through the ring they cost no less). */
export type TunIoMode = 'uring' | 'syscalls';
/** What to open with: `auto` takes io_uring when the kernel allows it, else syscalls. */
export type TunIoChoice = TunIoMode | 'auto';

/** The environment override of every TUN's I/O (`SYNDROP_TUN_IO=syscalls|uring|auto`). */
export const TUN_IO_ENV = 'SYNDROP_TUN_IO';

export interface TunOpenOptions {
  /** Network namespace holding the device: a path (`/var/run/netns/sd-srv`) or a bare name
   *  (`sd-srv` → `/var/run/netns/sd-srv`). The process stays in its own namespace. */
  netns?: string;
  /** Attach with IFF_MULTI_QUEUE (the device must have been created with `multi_queue`). */
  multiQueue?: boolean;
  /** Batch I/O (default: `SYNDROP_TUN_IO`, else `auto`). `uring` throws where io_uring is
   *  unavailable (ENOSYS, or EPERM under kernel.io_uring_disabled); `auto` falls back. */
  io?: TunIoChoice;
}

/** Called when the fd is readable; drain it with `readBatch` until it returns 0. An `error`
 *  (POLLERR/POLLHUP, e.g. the device was deleted) means polling has stopped. */
export type TunReadableCallback = (error?: Error) => void;

/** The errno-coded error the addon throws (`.code` = `EPERM`, `EBUSY`, `ENOENT`…). */
export interface TunSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  /** The file the failing call was about: the netns file or `/dev/net/tun`. */
  path?: string;
  device?: string;
}

interface NativeTun {
  readonly fd: number;
  readonly name: string;
  readonly txDropped: number;
  readonly ioMode: TunIoMode;
  onReadable(callback: TunReadableCallback): void;
  pause(): void;
  resume(): void;
  ref(): void;
  unref(): void;
  bindRx(slab: Uint8Array, lengths: Int32Array): void;
  readBound(max: number): number;
  bindTx(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array): void;
  writeBound(count: number): number;
  close(): void;
}

/** native/alarm.cc: a timerfd polled by libuv. */
export interface NativeAlarm {
  /** Fires the callback once, `delayMs` (fractional) from now; replaces a pending arm. */
  arm(delayMs: number): void;
  cancel(): void;
  close(): void;
}

interface NativeModule {
  Tun: new (name: string, netnsPath: string | null, multiQueue: boolean, io: TunIoChoice) => NativeTun;
  Alarm: new (callback: () => void) => NativeAlarm;
}

const ADDON_RELATIVE_PATH = join('native', 'build', 'Release', 'syndrop_tun.node');
const TUN_DEVICE_PATH = '/dev/net/tun';

let cachedAddon: NativeModule | undefined;
let cachedLoadError: SyndropError | undefined;

// Walk up from this file (src/io/ under vitest, dist/io/ after tsc) to the directory that
// holds native/build: the package root, whichever layout we run from.
function findAddonPath(): string | undefined {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(directory, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return undefined;
}

function loadAddon(): NativeModule {
  if (cachedAddon !== undefined) return cachedAddon;
  if (cachedLoadError !== undefined) throw cachedLoadError;
  const path = findAddonPath();
  if (path === undefined) {
    cachedLoadError = new SyndropError(
      'SYNDROP_ERR_NO_TUN',
      `native addon not built: run make (expected ${ADDON_RELATIVE_PATH} in the package root)`,
    );
    throw cachedLoadError;
  }
  try {
    cachedAddon = createRequire(import.meta.url)(path) as NativeModule;
    return cachedAddon;
  } catch (error) {
    cachedLoadError = new SyndropError(
      'SYNDROP_ERR_NO_TUN',
      `native addon at ${path} failed to load (${(error as Error).message}): rebuild it with make`,
    );
    throw cachedLoadError;
  }
}

/** The addon's microsecond alarm (the frame loop's timer, src/io/alarm.ts). */
export function openNativeAlarm(callback: () => void): NativeAlarm {
  return new (loadAddon().Alarm)(callback);
}

/** True when the native addon is built and loads in this Node. */
export function nativeAddonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

function netnsPathOf(netns: string): string {
  return netns.includes('/') ? netns : `/var/run/netns/${netns}`;
}

function ioChoice(options: TunOpenOptions): TunIoChoice {
  const choice = options.io ?? process.env[TUN_IO_ENV] ?? 'auto';
  if (choice === 'auto' || choice === 'uring' || choice === 'syscalls') return choice;
  throw usageError(`${TUN_IO_ENV}=${choice}: expected syscalls, uring or auto`);
}

function isSystemError(error: unknown): error is TunSystemError {
  return error instanceof Error && typeof (error as Partial<TunSystemError>).code === 'string';
}

function syndropCodeFor(error: TunSystemError): SyndropErrorCode | undefined {
  switch (error.code) {
    case 'EPERM':
    case 'EACCES':
      return 'SYNDROP_ERR_NOT_ROOT';
    case 'EBUSY':
      return 'SYNDROP_ERR_TUN_BUSY';
    case 'ENOENT':
      return error.path === TUN_DEVICE_PATH ? 'SYNDROP_ERR_NO_TUN' : 'SYNDROP_ERR_NO_LAB';
    case 'ENODEV':
    case 'ENXIO':
      return 'SYNDROP_ERR_NO_TUN';
    default:
      return undefined;
  }
}

/** Keeps the addon's message (it already says what to do) and the errno error as `cause`. */
function toSyndropError(error: unknown, name: string, netns: string | null): unknown {
  // io: 'uring' where the kernel refuses it: EPERM there is kernel.io_uring_disabled, not a user.
  if (!isSystemError(error) || error.syscall === 'io_uring_setup') return error;
  if (error.code === 'EINVAL' && error.syscall === 'ioctl') {
    // TUNSETIFF on a name that belongs to a veth, a TAP or a multi-queue TUN.
    const mapped = new SyndropError(
      'SYNDROP_ERR_NO_TUN',
      `${name}${netns === null ? '' : ` in ${netns}`} is not a single-queue TUN device (EINVAL from TUNSETIFF): choose another --dev, or run 'syndrop lab up' to recreate the lab's`,
    );
    Object.defineProperty(mapped, 'cause', { value: error, enumerable: false, writable: true });
    return mapped;
  }
  const code = syndropCodeFor(error);
  if (code === undefined) return error;
  const mapped = new SyndropError(code, error.message);
  Object.defineProperty(mapped, 'cause', { value: error, enumerable: false, writable: true });
  return mapped;
}

/**
 * A TUN device attached with IFF_TUN|IFF_NO_PI: every frame is a bare IPv4/IPv6 packet.
 * The fd is nonblocking and close-on-exec; readiness comes from a libuv poll handle.
 */
export class TunDevice {
  readonly #native: NativeTun;
  /** The device name the kernel attached (as given, or the kernel's choice for `tun%d`). */
  readonly name: string;
  /** The fd as opened; it keeps this number after `close()` but is then invalid. */
  readonly fd: number;
  // The arrays last bound in the addon: a call with the same ones (the frame loop's own, every
  // batch) passes only its count, sparing ~0.4 µs of typed-array checks per call (issue 21).
  #rxSlab: Uint8Array | null = null;
  #rxLengths: Int32Array | null = null;
  #txSlab: Uint8Array | null = null;
  #txOffsets: Int32Array | null = null;
  #txLengths: Int32Array | null = null;

  private constructor(native: NativeTun) {
    this.#native = native;
    this.name = native.name;
    this.fd = native.fd;
  }

  /** Opens and attaches `name` (creating a non-persistent device if none exists).
   *  Throws SyndropError NOT_ROOT (EPERM), NO_LAB (netns missing), NO_TUN (no /dev/net/tun,
   *  addon not built), TUN_BUSY (EBUSY); other failures keep the addon's errno error. */
  static open(name: string, options: TunOpenOptions = {}): TunDevice {
    const addon = loadAddon();
    const netnsPath = options.netns === undefined ? null : netnsPathOf(options.netns);
    const io = ioChoice(options);
    try {
      return new TunDevice(new addon.Tun(name, netnsPath, options.multiQueue === true, io));
    } catch (error) {
      throw toSyndropError(error, name, netnsPath);
    }
  }

  /** Frames `writeBatch` skipped since open (EAGAIN/ENOBUFS/ENOMEM/EINVAL/EMSGSIZE). */
  get txDropped(): number {
    return this.#native.txDropped;
  }

  /** `uring` while the batches go through io_uring; `syscalls` if it was unavailable or not
   *  chosen, or after it failed (the device then stays on syscalls). */
  get ioMode(): TunIoMode {
    return this.#native.ioMode;
  }

  /** Sets the readable callback (replacing any previous one) and starts polling. */
  onReadable(callback: TunReadableCallback): void {
    this.#native.onReadable(callback);
  }

  /** Stops polling; frames queue in the kernel (up to the device's txqueuelen, then drop). */
  pause(): void {
    this.#native.pause();
  }

  resume(): void {
    this.#native.resume();
  }

  /** The poll handle keeps the event loop alive (default). */
  ref(): void {
    this.#native.ref();
  }

  /** The poll handle no longer keeps the event loop alive on its own. */
  unref(): void {
    this.#native.unref();
  }

  /**
   * Reads up to `lengths.length` frames without blocking. Frame i is written at byte
   * `i * slotSize` of `slab`, `slotSize = Math.floor(slab.byteLength / lengths.length)`, and
   * its length goes to `lengths[i]`. Returns the number of frames read (0 = drained).
   * A frame longer than a slot is cut to the slot size and reported with the cut length;
   * its IPv4 total length then exceeds `lengths[i]`. Use slots >= the device MTU (2048).
   * `max` caps the frames read (the slot size still comes from `lengths.length`): with 1, the
   * call returns after one frame without probing the queue with a read() that finds it empty.
   */
  readBatch(slab: Uint8Array, lengths: Int32Array, max?: number): number {
    if (slab !== this.#rxSlab || lengths !== this.#rxLengths) {
      this.#native.bindRx(slab, lengths);
      this.#rxSlab = slab;
      this.#rxLengths = lengths;
    }
    return this.#native.readBound(max === undefined ? lengths.length : max);
  }

  /**
   * Writes frames `slab[offsets[i] .. offsets[i] + lengths[i])` for i < count. Returns the
   * number written; a frame the kernel refuses for lack of room or as malformed is skipped,
   * not retried, and the rest of the batch is still written: dropped = count − written
   * (also accumulated in `txDropped`). Throws RangeError before writing anything if an
   * entry lies outside the slab; throws the errno error if the device fails (e.g. EBADFD).
   */
  writeBatch(slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number): number {
    if (slab !== this.#txSlab || offsets !== this.#txOffsets || lengths !== this.#txLengths) {
      this.#native.bindTx(slab, offsets, lengths);
      this.#txSlab = slab;
      this.#txOffsets = offsets;
      this.#txLengths = lengths;
    }
    return this.#native.writeBound(count);
  }

  /** Stops polling and closes the fd. Idempotent; the event loop is released. */
  close(): void {
    this.#native.close();
    this.#rxSlab = this.#rxLengths = this.#txSlab = this.#txOffsets = this.#txLengths = null;
  }
}

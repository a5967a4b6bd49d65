// Real kernel, no mocks: a TUN device in a namespace this test creates, opened from the root
// namespace through the addon's netns option; UDP from the namespace is read off the fd,
// and a crafted IPv4/UDP frame written to the fd reaches a socket in the namespace. Every
// device test runs twice, with write batches through io_uring and with write() per frame, and
// one test puts the same batches through both and compares what reached the socket and the
// counters.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { PYTHON } from '../../src/assets.js';
import { SyndropError } from '../../src/errors.js';
import { TUN_IO_ENV, TunDevice, nativeAddonAvailable, type TunIoMode } from '../../src/io/tun.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
if (!isRoot) {
  const reason = 'tun integration test needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN for setns)';
  if (process.env.CI) throw new Error(`${reason}; CI must run it as root`);
  console.warn(`skipping: ${reason}`);
}

const NAMESPACE = `sdt-tun-${process.pid}`;
const DEVICE = 'sdt0';
const MULTI_QUEUE_DEVICE = 'sdt1';
const DOOMED_DEVICE = 'sdt2'; // deleted under an open fd
const LOCAL_ADDRESS = '10.88.0.1';
const PEER_ADDRESS = '10.88.0.2'; // routed into the TUN, owned by nobody: the emulator's side
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADDON_PATH = join(ROOT, 'native/build/Release/syndrop_tun.node');
const WITHOUT_IO_URING = join(ROOT, 'test/tools/without-io-uring.py');

// kernel.io_uring_disabled=2 (or a kernel without io_uring) leaves only the syscalls path.
const IO_URING_DISABLED_PATH = '/proc/sys/kernel/io_uring_disabled';
const uringDisabled = existsSync(IO_URING_DISABLED_PATH) && readFileSync(IO_URING_DISABLED_PATH, 'utf8').trim() === '2';
if (uringDisabled) console.warn('io_uring disabled here (kernel.io_uring_disabled=2): only the syscalls batches are tested');
const IO_MODES: TunIoMode[] = uringDisabled ? ['syscalls'] : ['uring', 'syscalls'];

// IPv4 header offsets (RFC 791) and UDP (RFC 768).
const IP_PROTOCOL = 9;
const IP_SRC = 12;
const IP_DST = 16;
const IPV4_HEADER = 20;
const UDP_HEADER = 8;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNamespace(...command: string[]): void {
  execFileSync('ip', ['netns', 'exec', NAMESPACE, ...command], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function netnsInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}

/** Sends `count` UDP datagrams from inside the namespace to PEER_ADDRESS:port; resolves when
 *  the sender exited, i.e. every datagram sits in the TUN queue. */
async function sendUdp(port: number, payloads: string[]): Promise<void> {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    const payloads = ${JSON.stringify(payloads)};
    let left = payloads.length;
    for (const p of payloads) s.send(p, ${port}, '${PEER_ADDRESS}', (e) => { if (e) throw e; if (--left === 0) s.close(); });
  `;
  await run('ip', ['netns', 'exec', NAMESPACE, process.execPath, '-e', script], { timeout: 5000 });
}

function dottedQuad(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

function internetChecksum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < length; i += 2) sum += (bytes[offset + i]! << 8) | bytes[offset + i + 1]!;
  if (length & 1) sum += bytes[offset + length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A complete IPv4/UDP frame with both checksums, written at `offset`; returns its length. */
function buildUdpFrame(
  out: Uint8Array,
  offset: number,
  source: number[],
  destination: number[],
  sourcePort: number,
  destinationPort: number,
  payload: Uint8Array,
): number {
  const total = IPV4_HEADER + UDP_HEADER + payload.length;
  const view = new DataView(out.buffer, out.byteOffset + offset, total);
  view.setUint8(0, 0x45); // version 4, IHL 5
  view.setUint8(1, 0);
  view.setUint16(2, total);
  view.setUint16(4, 0x1234); // identification
  view.setUint16(6, 0x4000); // DF
  view.setUint8(8, 64);
  view.setUint8(IP_PROTOCOL, 17);
  view.setUint16(10, 0);
  out.set(source, offset + IP_SRC);
  out.set(destination, offset + IP_DST);
  view.setUint16(10, internetChecksum(out, offset, IPV4_HEADER));
  const udp = IPV4_HEADER;
  view.setUint16(udp, sourcePort);
  view.setUint16(udp + 2, destinationPort);
  view.setUint16(udp + 4, UDP_HEADER + payload.length);
  view.setUint16(udp + 6, 0);
  out.set(payload, offset + udp + UDP_HEADER);
  // Pseudo-header: src, dst, zero, protocol, UDP length.
  let pseudo = 17 + UDP_HEADER + payload.length;
  for (let i = 0; i < 4; i += 2) {
    pseudo += (source[i]! << 8) | source[i + 1]!;
    pseudo += (destination[i]! << 8) | destination[i + 1]!;
  }
  const checksum = internetChecksum(out, offset + udp, UDP_HEADER + payload.length, pseudo);
  view.setUint16(udp + 6, checksum === 0 ? 0xffff : checksum);
  return total;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A UDP socket on LOCAL_ADDRESS:port in the namespace (Python: SO_RCVBUFFORCE, so a few hundred
 * datagrams written in one batch all fit). Resolves once bound; `received` resolves with
 * "source:port payload" per datagram in arrival order, once `count` came and 200 ms passed
 * without another (or 3 s without any).
 */
async function udpReceiver(port: number, count: number): Promise<{ received: Promise<string[]> }> {
  const script = `
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root), not in Python's socket module
s.bind(('${LOCAL_ADDRESS}', ${port}))
print('ready', flush=True)
got = []
s.settimeout(3)
try:
    while True:
        data, (host, source_port) = s.recvfrom(4096)
        got.append('%s:%d %s' % (host, source_port, data.decode()))
        if len(got) >= ${count}:
            s.settimeout(0.2)
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
`;
  const child = spawn('ip', ['netns', 'exec', NAMESPACE, PYTHON, '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`udp receiver exited with ${code} before binding`)));
  });
  return {
    received: exited.then(() => JSON.parse(output.slice(output.indexOf('\n') + 1)) as string[]),
  };
}

const MALFORMED_SOURCE_PORT = 6000;

/**
 * A write batch: `count` UDP frames from PEER_ADDRESS to LOCAL_ADDRESS:port, source port 6000 + i,
 * payload "frame-i"; the frames at `malformed` get IP version 0 in their first byte, which
 * tun_get_user refuses with EINVAL (a frame that the batch must skip and count as dropped).
 */
function udpBatch(count: number, port: number, malformed: readonly number[] = []) {
  const stride = 128;
  const slab = new Uint8Array(count * stride);
  const offsets = new Int32Array(count);
  const lengths = new Int32Array(count);
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    offsets[i] = i * stride;
    const payload = Buffer.from(`frame-${i}`);
    lengths[i] = buildUdpFrame(slab, i * stride, [10, 88, 0, 2], [10, 88, 0, 1], MALFORMED_SOURCE_PORT + i, port, payload);
    if (malformed.includes(i)) slab[i * stride] = 0x05;
    else expected.push(`${PEER_ADDRESS}:${MALFORMED_SOURCE_PORT + i} frame-${i}`);
  }
  return { slab, offsets, lengths, count, expected };
}

describe.skipIf(!isRoot)('TUN addon against the real kernel', () => {
  const opened: TunDevice[] = [];
  const open = (name: string, options?: Parameters<typeof TunDevice.open>[1]): TunDevice => {
    const device = TunDevice.open(name, options);
    opened.push(device);
    return device;
  };

  beforeAll(() => {
    expect(nativeAddonAvailable(), 'native addon not built: run make').toBe(true);
    ip('netns', 'add', NAMESPACE);
    ip('-n', NAMESPACE, 'link', 'set', 'lo', 'up');
    ip('-n', NAMESPACE, 'tuntap', 'add', 'dev', DEVICE, 'mode', 'tun');
    ip('-n', NAMESPACE, 'addr', 'add', `${LOCAL_ADDRESS}/24`, 'dev', DEVICE);
    ip('-n', NAMESPACE, 'link', 'set', DEVICE, 'up');
    inNamespace('sysctl', '-qw', `net.ipv6.conf.${DEVICE}.disable_ipv6=1`);
    ip('-n', NAMESPACE, 'tuntap', 'add', 'dev', MULTI_QUEUE_DEVICE, 'mode', 'tun', 'multi_queue');
  });

  // A failed assertion must not leave the device attached (the next test would see EBUSY).
  afterEach(() => {
    for (const device of opened.splice(0)) device.close();
  });

  afterAll(() => {
    for (const device of opened.splice(0)) device.close();
    // Deleting the namespace removes the devices in it; ignore "not found" on a half setup.
    try {
      ip('netns', 'del', NAMESPACE);
    } catch {
      /* already gone */
    }
  });

  describe.each(IO_MODES)('batches through %s', (io) => {
    const openDevice = (name = DEVICE, options: Parameters<typeof TunDevice.open>[1] = { netns: NAMESPACE }) =>
      open(name, { ...options, io });

    it('opens the device inside the lab namespace while the process stays in its own', () => {
      const before = netnsInode();
      const device = openDevice();
      expect(netnsInode()).toBe(before);
      expect(device.name).toBe(DEVICE);
      expect(device.fd).toBeGreaterThan(2);
      expect(device.ioMode).toBe(io);
      // The fd keeps O_NONBLOCK: reading an empty device returns 0 frames instead of blocking.
      expect(device.readBatch(new Uint8Array(2048), new Int32Array(1))).toBe(0);
      expect(device.readBatch(new Uint8Array(64 * 2048), new Int32Array(64))).toBe(0);
      device.close();
    });

    it('reads UDP datagrams sent in the namespace as bare IPv4 frames via onReadable', async () => {
      const device = openDevice(DEVICE, { netns: `/var/run/netns/${NAMESPACE}` });
      const slab = new Uint8Array(16 * 2048);
      const lengths = new Int32Array(16);
      const frames: Uint8Array[] = [];
      device.onReadable(() => {
        for (let count = device.readBatch(slab, lengths); count > 0; count = device.readBatch(slab, lengths)) {
          for (let i = 0; i < count; i++) frames.push(slab.slice(i * 2048, i * 2048 + lengths[i]!));
        }
      });
      const payloads = ['syndrop-0', 'syndrop-1', 'syndrop-2'];
      await sendUdp(9999, payloads);
      for (let waited = 0; frames.length < payloads.length && waited < 2000; waited += 10) await sleep(10);
      device.close();

      const udp = frames.filter((frame) => frame[0]! >> 4 === 4 && frame[IP_PROTOCOL] === 17);
      expect(udp).toHaveLength(payloads.length);
      udp.forEach((frame, index) => {
        expect(dottedQuad(frame, IP_SRC)).toBe(LOCAL_ADDRESS);
        expect(dottedQuad(frame, IP_DST)).toBe(PEER_ADDRESS);
        expect((frame[IPV4_HEADER + 2]! << 8) | frame[IPV4_HEADER + 3]!).toBe(9999);
        expect(Buffer.from(frame.subarray(IPV4_HEADER + UDP_HEADER)).toString()).toBe(payloads[index]);
      });
    });

    it('writes a crafted IPv4/UDP frame that a socket in the namespace receives', async () => {
      const device = openDevice();
      const port = 7777;
      const receiver = await udpReceiver(port, 1);
      const slab = new Uint8Array(4096);
      const payload = Buffer.from('hello from the emulator');
      const offsets = Int32Array.of(100);
      const lengths = Int32Array.of(
        buildUdpFrame(slab, 100, [10, 88, 0, 2], [10, 88, 0, 1], 5555, port, payload),
      );
      expect(device.writeBatch(slab, offsets, lengths, 1)).toBe(1);
      expect(await receiver.received).toEqual([`${PEER_ADDRESS}:5555 hello from the emulator`]);
      expect(device.txDropped).toBe(0);
      device.close();
    });

    it('skips and counts the frames the kernel refuses (EINVAL) and writes the rest in order', async () => {
      const device = openDevice();
      const batch = udpBatch(12, 7778, [0, 5, 6, 11]);
      const receiver = await udpReceiver(7778, batch.expected.length);
      expect(device.writeBatch(batch.slab, batch.offsets, batch.lengths, batch.count)).toBe(8);
      expect(device.txDropped).toBe(4);
      expect(await receiver.received).toEqual(batch.expected);
      device.close();
    });

    it('writes a batch longer than the ring (256 frames an enter) whole and in order', async () => {
      const device = openDevice();
      const batch = udpBatch(300, 7779);
      const receiver = await udpReceiver(7779, batch.count);
      expect(device.writeBatch(batch.slab, batch.offsets, batch.lengths, batch.count)).toBe(300);
      expect(device.txDropped).toBe(0);
      expect(await receiver.received).toEqual(batch.expected);
      device.close();
    });

    it('returns several queued frames from one readBatch call', async () => {
      const device = openDevice();
      const payloads = Array.from({ length: 20 }, (_, i) => `batch-${i}`);
      await sendUdp(9998, payloads); // nothing polls: the frames wait in the device queue
      const lengths = new Int32Array(64);
      const count = device.readBatch(new Uint8Array(64 * 2048), lengths);
      expect(count).toBeGreaterThan(1);
      expect(count).toBe(payloads.length);
      for (let i = 0; i < count; i++) expect(lengths[i]).toBe(IPV4_HEADER + UDP_HEADER + payloads[i]!.length);
      device.close();
    });

    it('reads a queue longer than the batch over two calls, every frame once and in order', async () => {
      const device = openDevice();
      const payloads = Array.from({ length: 100 }, (_, i) => `queued-${i}`);
      await sendUdp(9994, payloads);
      const slab = new Uint8Array(64 * 2048);
      const lengths = new Int32Array(64);
      const read: string[] = [];
      const take = (count: number) => {
        for (let i = 0; i < count; i++) {
          read.push(Buffer.from(slab.subarray(i * 2048 + IPV4_HEADER + UDP_HEADER, i * 2048 + lengths[i]!)).toString());
        }
        return count;
      };
      expect(take(device.readBatch(slab, lengths))).toBe(64);
      expect(take(device.readBatch(slab, lengths))).toBe(36);
      expect(device.readBatch(slab, lengths)).toBe(0);
      expect(read).toEqual(payloads);
      device.close();
    });

    it('reads at most max frames and leaves the rest queued, slots still sized by lengths', async () => {
      const device = openDevice();
      const payloads = ['first', 'second-one', 'third-frame'];
      await sendUdp(9996, payloads);
      const slab = new Uint8Array(64 * 2048);
      const lengths = new Int32Array(64);
      expect(device.readBatch(slab, lengths, 1)).toBe(1);
      expect(lengths[0]).toBe(IPV4_HEADER + UDP_HEADER + 'first'.length);
      // The next call starts at slot 0 again and gets the two frames still in the device queue.
      expect(device.readBatch(slab, lengths)).toBe(2);
      expect(lengths[0]).toBe(IPV4_HEADER + UDP_HEADER + 'second-one'.length);
      expect(lengths[1]).toBe(IPV4_HEADER + UDP_HEADER + 'third-frame'.length);
      expect(device.readBatch(slab, lengths, 0)).toBe(0);
      expect(() => device.readBatch(slab, lengths, -1)).toThrow(/max/);
      device.close();
    });

    it('reads into whichever slab the call names: the addon rebinds when the arrays change', async () => {
      const device = openDevice();
      const payloads = ['one', 'two-two', 'three-three'];
      await sendUdp(9995, payloads);
      const first = { slab: new Uint8Array(4 * 2048), lengths: new Int32Array(4) };
      const second = { slab: new Uint8Array(2 * 2048), lengths: new Int32Array(2) };
      expect(device.readBatch(first.slab, first.lengths, 1)).toBe(1);
      expect(device.readBatch(second.slab, second.lengths)).toBe(2);
      expect(second.lengths[0]).toBe(IPV4_HEADER + UDP_HEADER + 'two-two'.length);
      expect(second.lengths[1]).toBe(IPV4_HEADER + UDP_HEADER + 'three-three'.length);
      const udpPayload = (slab: Uint8Array, slot: number, size: number, length: number) =>
        Buffer.from(slab.subarray(slot * size + IPV4_HEADER + UDP_HEADER, slot * size + length)).toString();
      expect(udpPayload(first.slab, 0, 2048, first.lengths[0]!)).toBe('one');
      expect(udpPayload(second.slab, 1, 2048, second.lengths[1]!)).toBe('three-three');
      // The first slab's second slot was never written: the second read did not land there.
      expect(first.slab.subarray(2048, 2048 + 64).every((b) => b === 0)).toBe(true);
      expect(device.readBatch(first.slab, first.lengths)).toBe(0);
      device.close();
    });

    it('cuts a frame longer than its slot to the slot size (the IPv4 length still says the truth)', async () => {
      const device = openDevice();
      await sendUdp(9997, ['x'.repeat(200)]);
      const slab = new Uint8Array(2 * 64);
      const lengths = new Int32Array(2);
      expect(device.readBatch(slab, lengths)).toBe(1);
      // tun_chr_read_iter returns min(frame, buffer): the wire layer sees total length > bytes.
      expect(lengths[0]).toBe(64);
      expect((slab[2]! << 8) | slab[3]!).toBe(IPV4_HEADER + UDP_HEADER + 200);
      device.close();
    });

    it('refuses a second attach to a single-queue device with SYNDROP_ERR_TUN_BUSY', () => {
      const first = openDevice();
      expect(() => TunDevice.open(DEVICE, { netns: NAMESPACE, io })).toThrowError(
        expect.objectContaining({
          code: 'SYNDROP_ERR_TUN_BUSY',
          message: `EBUSY attaching TUN device ${DEVICE}: another process has it open (is syndrop already running?)`,
        }),
      );
      first.close();
    });

    it('close is idempotent, later I/O fails clearly, and the device is free at once', () => {
      const device = openDevice();
      device.onReadable(() => {});
      device.readBatch(new Uint8Array(4 * 2048), new Int32Array(4));
      device.close();
      device.close();
      expect(() => device.readBatch(new Uint8Array(2048), new Int32Array(1))).toThrow(/closed/);
      // The ring let go of the file with the close: attaching again does not meet EBUSY.
      openDevice().close();
    });

    it('rejects a write batch entry outside the slab before writing anything', () => {
      const device = openDevice();
      expect(() =>
        device.writeBatch(new Uint8Array(100), Int32Array.of(0, 90), Int32Array.of(28, 28), 2),
      ).toThrow(RangeError);
      const batch = udpBatch(8, 7780);
      batch.offsets[7] = batch.slab.length - 10;
      expect(() => device.writeBatch(batch.slab, batch.offsets, batch.lengths, 8)).toThrow(/frame 7/);
      expect(device.txDropped).toBe(0);
      device.close();
    });

    it('throws the errno error once the device is deleted under the fd (EBADFD)', () => {
      ip('-n', NAMESPACE, 'tuntap', 'add', 'dev', DOOMED_DEVICE, 'mode', 'tun');
      const device = openDevice(DOOMED_DEVICE);
      const batch = udpBatch(6, 7781);
      const slab = new Uint8Array(8 * 2048);
      const lengths = new Int32Array(8);
      expect(device.readBatch(slab, lengths)).toBe(0);
      ip('-n', NAMESPACE, 'link', 'del', DOOMED_DEVICE);
      expect(() => device.writeBatch(batch.slab, batch.offsets, batch.lengths, 6)).toThrowError(
        expect.objectContaining({ code: 'EBADFD', syscall: 'write' }),
      );
      expect(() => device.readBatch(slab, lengths)).toThrowError(expect.objectContaining({ code: 'EBADFD', syscall: 'read' }));
      expect(device.txDropped).toBe(0);
      device.close();
    });

    it('lets the process exit after close, and while polling once unref()ed', async () => {
      const script = (mode: string) => `
        const { Tun } = require(${JSON.stringify(ADDON_PATH)});
        const tun = new Tun(${JSON.stringify(DEVICE)}, ${JSON.stringify(`/var/run/netns/${NAMESPACE}`)}, false, ${JSON.stringify(io)});
        tun.onReadable(() => {});
        ${mode === 'close' ? 'tun.close();' : 'tun.unref();'}
      `;
      for (const mode of ['close', 'unref']) {
        const { stdout } = await run(process.execPath, ['-e', `${script(mode)} console.log('done')`], {
          timeout: 3000,
        });
        expect(stdout.trim()).toBe('done');
      }
    });
  });

  it.skipIf(uringDisabled)('puts the same frames on the wire and counts the same drops through io_uring and syscalls', async () => {
    const outcome = async (io: TunIoMode) => {
      const device = open(DEVICE, { netns: NAMESPACE, io });
      expect(device.ioMode).toBe(io);
      const batches = [udpBatch(3, 7782, [1]), udpBatch(40, 7782, [0, 17, 39]), udpBatch(260, 7782, [100, 255, 256])];
      const expected = batches.flatMap((batch) => batch.expected);
      const receiver = await udpReceiver(7782, expected.length);
      const written = batches.map((batch) => device.writeBatch(batch.slab, batch.offsets, batch.lengths, batch.count));
      const result = { written, txDropped: device.txDropped, received: await receiver.received };
      device.close();
      expect(result.received).toEqual(expected);
      return result;
    };
    const uring = await outcome('uring');
    const syscalls = await outcome('syscalls');
    expect(uring).toEqual(syscalls);
    expect(syscalls.written).toEqual([2, 37, 257]);
    expect(syscalls.txDropped).toBe(7);
  });

  it('takes the batches path from SYNDROP_TUN_IO unless the caller names one', () => {
    const saved = process.env[TUN_IO_ENV];
    try {
      process.env[TUN_IO_ENV] = 'syscalls';
      const device = open(DEVICE, { netns: NAMESPACE });
      expect(device.ioMode).toBe('syscalls');
      device.close();
      if (!uringDisabled) {
        const named = open(DEVICE, { netns: NAMESPACE, io: 'uring' });
        expect(named.ioMode).toBe('uring');
        named.close();
      }
      process.env[TUN_IO_ENV] = 'fast';
      expect(() => TunDevice.open(DEVICE, { netns: NAMESPACE })).toThrowError(
        expect.objectContaining({ code: 'SYNDROP_ERR_USAGE', message: 'SYNDROP_TUN_IO=fast: expected syscalls, uring or auto' }),
      );
    } finally {
      if (saved === undefined) delete process.env[TUN_IO_ENV];
      else process.env[TUN_IO_ENV] = saved;
    }
  });

  it('falls back to syscalls where io_uring_setup fails (ENOSYS), and io: uring then throws', async () => {
    // The child runs under a seccomp filter that fails io_uring_setup, as a kernel without it.
    const script = `
      const { Tun } = require(${JSON.stringify(ADDON_PATH)});
      const netns = ${JSON.stringify(`/var/run/netns/${NAMESPACE}`)};
      const tun = new Tun(${JSON.stringify(DEVICE)}, netns, false, 'auto');
      const slab = new Uint8Array(4 * 2048);
      tun.bindRx(slab, new Int32Array(4));
      const result = { auto: tun.ioMode, read: tun.readBound(4) };
      tun.close();
      try {
        new Tun(${JSON.stringify(DEVICE)}, netns, false, 'uring');
      } catch (error) {
        result.uring = { code: error.code, syscall: error.syscall };
      }
      console.log(JSON.stringify(result));
    `;
    const { stdout } = await run(PYTHON, [WITHOUT_IO_URING, process.execPath, '-e', script], { timeout: 5000 });
    expect(JSON.parse(stdout)).toEqual({ auto: 'syscalls', read: 0, uring: { code: 'ENOSYS', syscall: 'io_uring_setup' } });
  });

  it('maps a missing namespace to SYNDROP_ERR_NO_LAB with the addon message', () => {
    const error = (() => {
      try {
        TunDevice.open(DEVICE, { netns: 'sdt-tun-does-not-exist' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SyndropError);
    expect((error as SyndropError).code).toBe('SYNDROP_ERR_NO_LAB');
    expect((error as SyndropError).message).toBe(
      "ENOENT opening /var/run/netns/sdt-tun-does-not-exist: the lab namespace does not exist, run 'syndrop lab up'",
    );
    const cause = (error as Error & { cause: { code: string; errno: number; syscall: string } }).cause;
    expect(cause).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(cause.errno).toBeLessThan(0);
  });

  it('allows several queues on a multi_queue device', () => {
    const first = open(MULTI_QUEUE_DEVICE, { netns: NAMESPACE, multiQueue: true });
    const second = open(MULTI_QUEUE_DEVICE, { netns: NAMESPACE, multiQueue: true });
    expect(second.fd).not.toBe(first.fd);
    first.close();
    second.close();
  });
});

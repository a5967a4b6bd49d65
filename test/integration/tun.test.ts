// Real kernel, no mocks: a TUN device in a namespace this test creates, opened from the root
// namespace through the addon's netns option; UDP from the namespace is read off the fd,
// and a crafted IPv4/UDP frame written to the fd reaches a socket in the namespace.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SyndropError } from '../../src/errors.js';
import { TunDevice, nativeAddonAvailable } from '../../src/io/tun.js';

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
const LOCAL_ADDRESS = '10.88.0.1';
const PEER_ADDRESS = '10.88.0.2'; // routed into the TUN, owned by nobody: the emulator's side
const ADDON_PATH = join(
  fileURLToPath(new URL('../..', import.meta.url)),
  'native/build/Release/syndrop_tun.node',
);

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

  it('opens the device inside the lab namespace while the process stays in its own', () => {
    const before = netnsInode();
    const device = open(DEVICE, { netns: NAMESPACE });
    expect(netnsInode()).toBe(before);
    expect(device.name).toBe(DEVICE);
    expect(device.fd).toBeGreaterThan(2);
    // The fd keeps O_NONBLOCK: reading an empty device returns 0 frames instead of blocking.
    expect(device.readBatch(new Uint8Array(2048), new Int32Array(1))).toBe(0);
    device.close();
  });

  it('reads UDP datagrams sent in the namespace as bare IPv4 frames via onReadable', async () => {
    const device = open(DEVICE, { netns: `/var/run/netns/${NAMESPACE}` });
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
    const device = open(DEVICE, { netns: NAMESPACE });
    const port = 7777;
    const receiver = spawn(
      'ip',
      [
        'netns', 'exec', NAMESPACE, process.execPath, '-e',
        `const s = require('node:dgram').createSocket('udp4');
         s.on('message', (m, r) => { console.log('got ' + r.address + ':' + r.port + ' ' + m); s.close(); });
         s.bind(${port}, '${LOCAL_ADDRESS}', () => console.log('ready'));
         setTimeout(() => process.exit(3), 4000).unref();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    const exited = new Promise<number | null>((resolve) => receiver.on('exit', resolve));
    await new Promise<void>((resolve) =>
      receiver.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      }),
    );

    const slab = new Uint8Array(4096);
    const payload = Buffer.from('hello from the emulator');
    const offsets = Int32Array.of(100);
    const lengths = Int32Array.of(
      buildUdpFrame(slab, 100, [10, 88, 0, 2], [10, 88, 0, 1], 5555, port, payload),
    );
    expect(device.writeBatch(slab, offsets, lengths, 1)).toBe(1);
    expect(await exited).toBe(0);
    expect(output).toContain(`got ${PEER_ADDRESS}:5555 hello from the emulator`);
    expect(device.txDropped).toBe(0);
    device.close();
  });

  it('returns several queued frames from one readBatch call', async () => {
    const device = open(DEVICE, { netns: NAMESPACE });
    const payloads = Array.from({ length: 20 }, (_, i) => `batch-${i}`);
    await sendUdp(9998, payloads); // nothing polls: the frames wait in the device queue
    const lengths = new Int32Array(64);
    const count = device.readBatch(new Uint8Array(64 * 2048), lengths);
    expect(count).toBeGreaterThan(1);
    expect(count).toBe(payloads.length);
    for (let i = 0; i < count; i++) expect(lengths[i]).toBe(IPV4_HEADER + UDP_HEADER + payloads[i]!.length);
    device.close();
  });

  it('reads at most max frames and leaves the rest queued, slots still sized by lengths', async () => {
    const device = open(DEVICE, { netns: NAMESPACE });
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
    const device = open(DEVICE, { netns: NAMESPACE });
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
    const device = open(DEVICE, { netns: NAMESPACE });
    await sendUdp(9997, ['x'.repeat(200)]);
    const slab = new Uint8Array(2 * 64);
    const lengths = new Int32Array(2);
    expect(device.readBatch(slab, lengths)).toBe(1);
    // tun_chr_read_iter returns min(frame, buffer): the wire layer sees total length > bytes.
    expect(lengths[0]).toBe(64);
    expect((slab[2]! << 8) | slab[3]!).toBe(IPV4_HEADER + UDP_HEADER + 200);
    device.close();
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

  it('refuses a second attach to a single-queue device with SYNDROP_ERR_TUN_BUSY', () => {
    const first = open(DEVICE, { netns: NAMESPACE });
    expect(() => TunDevice.open(DEVICE, { netns: NAMESPACE })).toThrowError(
      expect.objectContaining({
        code: 'SYNDROP_ERR_TUN_BUSY',
        message: `EBUSY attaching TUN device ${DEVICE}: another process has it open (is syndrop already running?)`,
      }),
    );
    first.close();
  });

  it('allows several queues on a multi_queue device', () => {
    const first = open(MULTI_QUEUE_DEVICE, { netns: NAMESPACE, multiQueue: true });
    const second = open(MULTI_QUEUE_DEVICE, { netns: NAMESPACE, multiQueue: true });
    expect(second.fd).not.toBe(first.fd);
    first.close();
    second.close();
  });

  it('close is idempotent and later I/O fails clearly', () => {
    const device = open(DEVICE, { netns: NAMESPACE });
    device.onReadable(() => {});
    device.close();
    device.close();
    expect(() => device.readBatch(new Uint8Array(2048), new Int32Array(1))).toThrow(/closed/);
    // The device is free again once closed.
    open(DEVICE, { netns: NAMESPACE }).close();
  });

  it('rejects a write batch entry outside the slab before writing anything', () => {
    const device = open(DEVICE, { netns: NAMESPACE });
    expect(() =>
      device.writeBatch(new Uint8Array(100), Int32Array.of(0, 90), Int32Array.of(28, 28), 2),
    ).toThrow(RangeError);
    device.close();
  });

  it('lets the process exit after close, and while polling once unref()ed', async () => {
    const script = (mode: string) => `
      const { Tun } = require(${JSON.stringify(ADDON_PATH)});
      const tun = new Tun(${JSON.stringify(DEVICE)}, ${JSON.stringify(`/var/run/netns/${NAMESPACE}`)}, false);
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

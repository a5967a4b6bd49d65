// What goes into the guest: NIC modules in dependency order (from .modinfo depends=, as an
// unpacked package has no modules.dep), built-in drivers skipped, the newc cpio layout the
// kernel unpacks, and the serial protocol of guest/sdguest.c.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpioArchive, gzipCpio } from '../../src/verify/guest/cpio.js';
import { moduleDepends, resolveGuestModules } from '../../src/verify/guest/modules.js';
import { parseCounters, SerialControl } from '../../src/verify/guest/serial-control.js';
import type { UnpackedKernel } from '../../src/verify/guest/debian-kernel.js';
import { debianKernel } from '../helpers/debian-kernel.js';

/** A fake module: ELF-ish bytes with a .modinfo string table as the kernel's modpost writes it. */
function fakeModule(depends: string): Buffer {
  return Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(16), Buffer.from(`license=GPL\0depends=${depends}\0retpoline=Y\0name=x\0`, 'latin1')]);
}

function moduleTree(files: Record<string, string>, builtin: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdv-mods-'));
  for (const [path, depends] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), fakeModule(depends));
  }
  writeFileSync(join(dir, 'modules.builtin'), builtin.map((b) => `${b}\n`).join(''));
  return dir;
}

describe('guest NIC modules', () => {
  it("reads a module's depends= field (and an empty one)", () => {
    expect(moduleDepends(fakeModule('virtio_ring,virtio,net_failover'))).toEqual(['virtio_ring', 'virtio', 'net_failover']);
    expect(moduleDepends(fakeModule(''))).toEqual([]);
  });

  it('orders dependencies first, each module once', () => {
    const dir = moduleTree({
      'kernel/drivers/virtio/virtio_pci.ko': 'virtio_ring,virtio',
      'kernel/drivers/virtio/virtio.ko': 'virtio_ring',
      'kernel/drivers/virtio/virtio_ring.ko': '',
      'kernel/drivers/net/virtio_net.ko': 'virtio_ring,virtio,net_failover',
      'kernel/drivers/net/net_failover.ko': 'failover',
      'kernel/net/core/failover.ko': '',
    });
    expect(resolveGuestModules(dir).map((m) => m.name)).toEqual(['virtio_ring', 'virtio', 'virtio_pci', 'failover', 'net_failover', 'virtio_net']);
  });

  it('needs nothing for drivers in modules.builtin (a self-built kernel), and nothing without a modules directory', () => {
    const dir = moduleTree({}, ['kernel/drivers/virtio/virtio_pci.ko', 'kernel/drivers/net/virtio_net.ko']);
    expect(resolveGuestModules(dir)).toEqual([]);
    expect(resolveGuestModules(null)).toEqual([]);
  });

  it('names the directory when a driver is neither a module nor built in', () => {
    const dir = moduleTree({ 'kernel/drivers/virtio/virtio_pci.ko': '' });
    expect(() => resolveGuestModules(dir)).toThrow(/no module virtio_net.*--modules/);
  });

  describe('of a real Debian 6.1 cloud kernel', () => {
    let kernel: UnpackedKernel | string;
    beforeAll(async () => {
      kernel = await debianKernel();
    }, 300_000);

    it('virtio_pci and virtio_net are modules there, loaded after virtio_ring and failover', (context) => {
      if (typeof kernel === 'string') return context.skip();
      const names = resolveGuestModules(kernel.modulesDir).map((m) => m.name);
      expect(names[names.length - 1]).toBe('virtio_net');
      expect(names.indexOf('virtio_ring')).toBeLessThan(names.indexOf('virtio'));
      expect(names.indexOf('failover')).toBeLessThan(names.indexOf('net_failover'));
      expect(names.indexOf('virtio_pci')).toBeGreaterThan(names.indexOf('virtio'));
    });
  });
});

describe('initramfs cpio (newc)', () => {
  it('writes header, name padded to 4, data padded to 4, and the trailer', () => {
    const archive = cpioArchive([{ kind: 'file', path: '/init', data: Buffer.from('hello'), executable: true }]);
    // 110-byte header: magic, ino 1, mode 0100755, uid, gid, nlink 1, mtime, size 5, dev, rdev, namesize 5 ("init\0"), check.
    expect(archive.toString('latin1', 0, 110)).toBe(
      '070701' + ['00000001', '000081ed', '00000000', '00000000', '00000001', '00000000', '00000005', '00000000', '00000000', '00000000', '00000000', '00000005', '00000000'].join(''),
    );
    expect(archive.toString('latin1', 110, 115)).toBe('init\0');
    // 110 + 5 = 115 → padded to 116; data 5 bytes → padded to 8.
    expect(archive.toString('latin1', 116, 121)).toBe('hello');
    expect(archive.subarray(121, 124)).toEqual(Buffer.alloc(3));
    expect(archive.toString('latin1', 124, 130)).toBe('070701');
    expect(archive.toString('latin1', 124 + 110, 124 + 110 + 11)).toBe('TRAILER!!!\0');
    expect(archive.length % 4).toBe(0);
  });

  it('writes a device node as mode 020600 with its rdev, and gzips the whole', () => {
    const archive = cpioArchive([{ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 }]);
    const fields = archive.toString('latin1', 6, 110).match(/.{8}/g)!;
    expect(fields[1]).toBe('00002180');
    expect([fields[9], fields[10]]).toEqual(['00000005', '00000001']);
    expect(gunzipSync(gzipCpio([{ kind: 'dir', path: 'proc' }]))).toEqual(cpioArchive([{ kind: 'dir', path: 'proc' }]));
  });
});

describe('sdguest serial protocol', () => {
  function wire() {
    const fromGuest = new PassThrough();
    const toGuest = new PassThrough();
    const sent: string[] = [];
    toGuest.on('data', (chunk: Buffer) => sent.push(chunk.toString()));
    return { control: new SerialControl(fromGuest, toGuest), fromGuest, sent };
  }

  it('waits for ready, then pairs each request with its length-prefixed reply, even split across chunks', async () => {
    const { control, fromGuest, sent } = wire();
    const ready = control.whenReady();
    fromGuest.write('boot noise\nready\n');
    await ready;
    const a = control.text('hello');
    const b = control.text('read /proc/net/tcp');
    fromGuest.write('ok 20\n6.1.0-57-cloud-');
    fromGuest.write('amd64ok 3\nabc');
    expect(await a).toBe('6.1.0-57-cloud-amd64');
    expect(await b).toBe('abc');
    expect(sent.join('')).toBe('hello\nread /proc/net/tcp\n');
  });

  it('turns "err" into a rejected request and a closed guest into failures', async () => {
    const { control, fromGuest } = wire();
    fromGuest.write('ready\n');
    await control.whenReady();
    const failing = control.request('write /proc/sys/net/ipv4/tcp_tw_recycle 1');
    fromGuest.write('err /proc/sys/net/ipv4/tcp_tw_recycle: No such file or directory\n');
    await expect(failing).rejects.toThrow(/tcp_tw_recycle: No such file/);
    const pending = control.request('counters');
    control.close(new Error('qemu exited'));
    await expect(pending).rejects.toThrow('qemu exited');
    await expect(control.request('hello')).rejects.toThrow('qemu exited');
  });

  it('parses counters into nstat names, negative values included', () => {
    expect(parseCounters('TcpMaxConn -1\nTcpExtListenDrops 12\n\n')).toEqual({ TcpMaxConn: -1, TcpExtListenDrops: 12 });
  });
});

// The guest's initramfs, built at run time and cached by content: Debian's static busybox,
// our static control program (dist/bin/sdguest, guest/sdguest.c), the NIC modules of the
// image's version (modules.ts) and an /init that loads them, brings eth0 up with the address
// given on the kernel command line (sdv.addr=, sdv.gw=) and hands ttyS1 to sdguest.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from '../../assets.js';
import { SyndropError } from '../../errors.js';
import { cacheDir } from './cache.js';
import { gzipCpio, type CpioEntry } from './cpio.js';
import type { GuestModule } from './modules.js';

/** busybox-static's binary (Debian package busybox-static). */
export const BUSYBOX = process.env.SYNDROP_BUSYBOX ?? '/bin/busybox';
export const SDGUEST = join(BIN_DIR, 'sdguest');

/** Runs as PID 1. Every failure is printed on the console (ttyS0) and sdguest still starts, so the host can say what went wrong. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do
  [ -e "$m" ] || continue
  insmod "$m" || echo "sdguest-init: insmod $m failed"
done
for word in $(cat /proc/cmdline); do
  case "$word" in
    sdv.addr=*) addr=\${word#sdv.addr=} ;;
    sdv.gw=*) gw=\${word#sdv.gw=} ;;
  esac
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip link set eth0 up
  ip addr add "$addr" dev eth0
  ip route add default via "$gw"
  echo "sdguest-init: eth0 $addr via $gw"
else
  echo "sdguest-init: no eth0 (no NIC driver: virtio_net neither built in nor loaded)"
fi
exec /sdguest /dev/ttyS1
`;

function entries(busybox: Buffer, sdguest: Buffer, modules: readonly GuestModule[]): CpioEntry[] {
  const list: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'lib', 'lib/modules'].map((path) => ({ kind: 'dir' as const, path }));
  // The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
  list.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  list.push({ kind: 'file', path: 'bin/busybox', data: busybox, executable: true });
  list.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  list.push({ kind: 'file', path: 'init', data: Buffer.from(INIT_SCRIPT), executable: true });
  list.push({ kind: 'file', path: 'sdguest', data: sdguest, executable: true });
  // The glob in /init loads them in name order: the prefix keeps dependencies first.
  modules.forEach((m, i) => list.push({ kind: 'file', path: `lib/modules/${String(i).padStart(2, '0')}-${m.name}.ko`, data: m.bytes }));
  return list;
}

function readRequired(path: string, hint: string): Buffer {
  if (!existsSync(path)) throw new SyndropError('SYNDROP_ERR_MISSING_TOOL', `${path} not found: ${hint}`);
  return readFileSync(path);
}

/** The initramfs for these modules: its path in the cache (built on first use). */
export function buildInitramfs(modules: readonly GuestModule[]): string {
  const busybox = readRequired(BUSYBOX, 'install it: apt-get install busybox-static');
  const sdguest = readRequired(SDGUEST, 'run make (it builds dist/bin/sdguest)');
  const list = entries(busybox, sdguest, modules);
  const hash = createHash('sha256');
  for (const e of list) hash.update(JSON.stringify({ ...e, data: undefined })).update(e.kind === 'file' ? e.data : '');
  const dir = join(cacheDir(), 'initramfs');
  const path = join(dir, `${hash.digest('hex').slice(0, 16)}.cpio.gz`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, gzipCpio(list));
  renameSync(partial, path);
  return path;
}

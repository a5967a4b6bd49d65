// One qemu guest for `verify --vm`: the image with our initramfs, its virtio NIC on a tap
// device in the lab's server namespace (the namespace routes between the clients and the
// guest, as it routes to syndrop's TUN), the kernel console (ttyS0) to a file and sdguest's
// control line (ttyS1) on qemu's stdio. KVM when it works here, TCG otherwise.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyndropError } from '../../errors.js';
import { run } from '../../lab/exec.js';
import { cacheDir } from './cache.js';
import { SerialControl } from './serial-control.js';

/** The guest's address (not on any host interface) and the server namespace's end of the tap. */
export const GUEST_ADDRESS = '10.77.4.2';
export const GUEST_GATEWAY = '10.77.4.1';
const GUEST_PREFIX_LENGTH = 24;
export const TAP_NAME = 'vm0';

export type Accel = 'auto' | 'kvm' | 'tcg';

export interface GuestBoot {
  image: string;
  initramfs: string;
  /** Namespace holding the tap (the lab's server namespace). */
  netns: string;
  accel: Accel;
  memoryMb?: number;
}

/**
 * Guest memory. Not for the guest's needs (it runs one small program) but for its TCP defaults:
 * tcp_rmem[2], and with it the SYN-ACK's window scale, grows with memory up to 6 MB at about
 * 768 MB free; with 256 MB a 6.1 guest announces wscale 5 where the host and the profiles say 7.
 */
const GUEST_MEMORY_MB = 2048;
const TCG_BOOT_TIMEOUT_MS = 120_000;
/** A KVM guest on a working KVM is ready in a second or two; one that hangs is not KVM we can use. */
const KVM_BOOT_TIMEOUT_MS = 8_000;

let consoleCounter = 0;

/** Creates the tap in the server namespace if missing, with the gateway address, up. */
export async function ensureTap(netns: string): Promise<void> {
  const { code } = await run(['ip', '-n', netns, 'link', 'show', 'dev', TAP_NAME], { allowFailure: true });
  if (code !== 0) await run(['ip', '-n', netns, 'tuntap', 'add', 'dev', TAP_NAME, 'mode', 'tap']);
  await run(['ip', '-n', netns, 'addr', 'replace', `${GUEST_GATEWAY}/${GUEST_PREFIX_LENGTH}`, 'dev', TAP_NAME]);
  await run(['ip', '-n', netns, 'link', 'set', TAP_NAME, 'up']);
  await run(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', `net.ipv4.conf.${TAP_NAME}.rp_filter=0`]);
}

export async function removeTap(netns: string): Promise<void> {
  await run(['ip', '-n', netns, 'link', 'del', 'dev', TAP_NAME], { allowFailure: true });
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

const kvmProbeFile = (): string => join(cacheDir(), 'kvm-probe');

/** What an earlier `auto` boot on this host boot found: true, false, or null (never tried). */
function kvmKnown(): boolean | null {
  if (!existsSync('/dev/kvm')) return false;
  try {
    const [id, verdict] = readFileSync(kvmProbeFile(), 'utf8').trim().split(' ');
    return id === bootId() ? verdict === 'works' : null;
  } catch {
    return null;
  }
}

function rememberKvm(works: boolean): void {
  mkdirSync(cacheDir(), { recursive: true });
  writeFileSync(kvmProbeFile(), `${bootId()} ${works ? 'works' : 'hangs'}\n`);
}

export class GuestVm {
  readonly control: SerialControl;
  readonly consolePath: string;
  /** `uname -r` of the running guest. */
  release = '';
  /** Spawn to sdguest's "ready" (ms). */
  bootMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly accel: 'kvm' | 'tcg',
    consolePath: string,
  ) {
    this.consolePath = consolePath;
    this.control = new SerialControl(child.stdout!, child.stdin!);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code, signal) => {
      this.control.close(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `qemu exited (${code ?? signal}): ${stderr.trim().split('\n').slice(-2).join(' | ')} ${this.consoleTail()}`));
    });
  }

  /** Boots a guest and waits for sdguest; with accel auto, falls back from a hanging KVM to TCG. */
  static async boot(options: GuestBoot): Promise<GuestVm> {
    let accel: 'kvm' | 'tcg' = options.accel === 'auto' ? (kvmKnown() === false ? 'tcg' : 'kvm') : options.accel;
    if (accel === 'kvm' && !existsSync('/dev/kvm')) {
      if (options.accel === 'kvm') throw new SyndropError('SYNDROP_ERR_USAGE', '--accel kvm: /dev/kvm does not exist');
      accel = 'tcg';
    }
    try {
      const vm = await GuestVm.start(options, accel);
      if (options.accel === 'auto' && accel === 'kvm') rememberKvm(true);
      return vm;
    } catch (error) {
      if (options.accel !== 'auto' || accel !== 'kvm') throw error;
      rememberKvm(false);
      return GuestVm.start(options, 'tcg');
    }
  }

  private static async start(options: GuestBoot, accel: 'kvm' | 'tcg'): Promise<GuestVm> {
    await ensureTap(options.netns);
    const consolePath = join(tmpdir(), `syndrop-vm-${process.pid}-${++consoleCounter}.console`);
    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      'ipv6.disable=1',
      `sdv.addr=${GUEST_ADDRESS}/${GUEST_PREFIX_LENGTH}`,
      `sdv.gw=${GUEST_GATEWAY}`,
    ].join(' ');
    const args = [
      'netns', 'exec', options.netns,
      'qemu-system-x86_64',
      '-nodefaults', '-display', 'none', '-no-reboot',
      '-machine', 'pc', '-m', String(options.memoryMb ?? GUEST_MEMORY_MB), '-smp', '1',
      ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max']),
      '-kernel', options.image, '-initrd', options.initramfs, '-append', append,
      '-netdev', `tap,id=n0,ifname=${TAP_NAME},script=no,downscript=no`,
      '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:77:04:02',
      '-serial', `file:${consolePath}`,
      '-serial', 'stdio',
    ];
    const started = Date.now();
    const child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.once('error', () => undefined);
    const vm = new GuestVm(child, accel, consolePath);
    const timeoutMs = accel === 'kvm' ? KVM_BOOT_TIMEOUT_MS : TCG_BOOT_TIMEOUT_MS;
    try {
      await Promise.race([
        vm.control.whenReady(),
        new Promise<never>((_, reject) => child.once('exit', () => reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `the guest stopped while booting: ${vm.consoleTail()}`)))),
        new Promise<never>((_, reject) => setTimeout(() => reject(new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `the guest (${accel}) was not ready within ${timeoutMs / 1000} s: ${vm.consoleTail()}`)), timeoutMs).unref()),
      ]);
      vm.bootMs = Date.now() - started;
      vm.release = (await vm.control.text('hello')).trim();
      await vm.control.request('read /sys/class/net/eth0/address').catch(() => {
        throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `the guest ${vm.release} has no eth0: virtio_net is neither built in nor among the modules (pass --modules DIR): ${vm.consoleTail()}`);
      });
    } catch (error) {
      await vm.stop();
      throw error;
    }
    return vm;
  }

  /** The console's last lines (kernel panics, init messages), for error messages. */
  consoleTail(lines = 4): string {
    try {
      const text = readFileSync(this.consolePath, 'utf8').trim().split('\n').slice(-lines).join(' | ');
      return text === '' ? '(console empty)' : `console: ${text}`;
    } catch {
      return '(no console)';
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    if (!process.env.SYNDROP_VM_KEEP_CONSOLE) rmSync(this.consolePath, { force: true });
  }
}

// A qemu guest's kernel as the real-kernel side of a differential scenario: the same surface as
// the host's KernelSide (start, counters, stop), driven over sdguest's serial line. Sysctls are
// the guest's boot-time settings (vm-harness boots one guest per distinct set), so start only
// opens the listener; stop closes it and every accepted socket with RST, which is the reset
// between two scenarios of one boot.

import type { Scenario } from '../scenario.js';
import { floodLines, type ServerSide } from '../sides.js';
import { parseCounters } from './serial-control.js';
import { GUEST_ADDRESS, type GuestVm } from './vm.js';

export class GuestSide implements ServerSide {
  readonly name = 'kernel' as const;
  readonly address = GUEST_ADDRESS;

  constructor(private readonly vm: GuestVm) {}

  async start(scenario: Scenario, port: number): Promise<void> {
    const accept = scenario.accept === 'never' || scenario.accept === 'fast' ? scenario.accept : String(scenario.accept);
    await this.vm.control.request(`listen ${this.address} ${port} ${scenario.backlog} ${accept} ${scenario.app}`);
  }

  async counters(): Promise<Record<string, number>> {
    return parseCounters(await this.vm.control.text('counters'));
  }

  /** The guest's own kernel log (sdguest reads it with klogctl), filtered to this port. */
  async floodLog(port: number): Promise<string[]> {
    return floodLines(await this.vm.control.text('dmesg'), port);
  }

  async stop(): Promise<void> {
    await this.vm.control.request('stop');
  }
}

/** /proc/sys path of a sysctl name (net.ipv4.tcp_syncookies → /proc/sys/net/ipv4/tcp_syncookies). */
export function sysctlPath(name: string): string {
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

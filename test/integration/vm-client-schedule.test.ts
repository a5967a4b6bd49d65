// `simulate`'s client model against real Debian kernels under qemu: each guest's kernel is a
// client whose SYNs nobody answers (the namespace holding the guest's tap drops them), with
// TCP_SYNCNT 1, 2 and 3. client-syn-schedule.test.ts checks the host's kernel (6.18) the same
// way; this reaches a kernel before tcp_syn_linear_timeouts (6.1, exponential from the first
// retransmit) and one after it (6.12), the two schedules synSchedule() models (spec §1.10).
// The SYN times on the tap (tcpdump, the host's clock) and the moment connect() fails in the
// guest (its monotonic clock) must be synSchedule(guest release, retries), SYN for SYN.
//
// Tolerance as on the host (test/helpers/syn-schedule.ts): late by up to 50 ms + 4 % of the model time (each RTO starts from
// the late fire before it), never early by more than 20 ms; the count is exact. TCG needs no
// more: the lateness is the timer wheel's. At HZ=250 (Debian's config) a 4 or 8 s RTO can fire
// up to 256 ms late, so 6.1's SYN at 7 s may be 320 ms late of 330 allowed (measured 54–236)
// and 6.12's at 11 s 448 of 490 (measured 270–389).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInNetns } from '../../src/lab/exec.js';
import { synSchedule } from '../../src/simulate/workload.js';
import { readImageFileVersion } from '../../src/verify/guest/bzimage.js';
import { buildInitramfs, SDGUEST } from '../../src/verify/guest/initramfs.js';
import { resolveGuestModules } from '../../src/verify/guest/modules.js';
import { GUEST_GATEWAY, GuestVm, removeTap, TAP_NAME } from '../../src/verify/guest/vm.js';
import { CaptureLab, stop } from '../helpers/capture-lab.js';
import { integrationPrerequisites } from '../helpers/lab-fixture.js';
import { installedDebianKernels } from '../helpers/debian-kernels.js';
import { expectSchedule, synTimesBySourcePort } from '../helpers/syn-schedule.js';

const PORT = 9;
/** Not dropped: the namespace's kernel refuses it (RST), which resolves the guest's ARP first. */
const WARM_UP_PORT = 7;
const ECONNREFUSED = 111;
const RETRIES = [1, 2, 3];
const FIRST_SOURCE_PORT = 40_000;
const POLL_MS = 250;

const skip = await integrationPrerequisites(['ip', 'iptables', 'tcpdump', 'qemu-system-x86_64', '/bin/busybox', SDGUEST]);
const kernels = installedDebianKernels();
if (kernels.length < 2 && process.env.CI) throw new Error(`the client schedule needs two Debian kernels under /boot (scripts/install-test-kernels.sh); found ${kernels.length}`);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-vm-syn-schedule-'));

interface Measured {
  release: string;
  /** Per TCP_SYNCNT: SYN times on the wire, ms after the first. */
  synTimesMs: Map<number, number[]>;
  /** Per TCP_SYNCNT: the guest's "failed MS ERRNO" (or whatever else it wrote). */
  outcome: Map<number, string>;
}

const measured = new Map<string, Measured>();
const labs = kernels.map((_, i) => new CaptureLab(i === 0 ? 'sdq' : `sdq-k${i}`, `10.94.${i}`));

/** The guest's connect results by offset from FIRST_SOURCE_PORT, as they appear, until all have or the deadline. */
async function outcomes(vm: GuestVm, offsets: number[], deadline: number): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  while (found.size < offsets.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    for (const offset of offsets) {
      if (found.has(offset)) continue;
      const text = await vm.control.text(`read /tmp/connect-${FIRST_SOURCE_PORT + offset}`).catch(() => null);
      if (text !== null) found.set(offset, text.trim());
    }
  }
  return found;
}

async function measure(image: string, lab: CaptureLab, capture: string): Promise<Measured> {
  const version = readImageFileVersion(image);
  if ('error' in version) throw new Error(`${image}: ${version.error}`);
  const initramfs = buildInitramfs(resolveGuestModules(`/lib/modules/${version.release}`));
  await lab.up();
  const vm = await GuestVm.boot({ image, initramfs, netns: lab.serverNs, accel: 'auto' });
  let tcpdump: ChildProcess | undefined;
  try {
    await runInNetns(lab.serverNs, ['iptables', '-A', 'INPUT', '-i', TAP_NAME, '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
    tcpdump = await lab.inServer(['tcpdump', '-i', TAP_NAME, '--immediate-mode', '-U', '-w', capture, 'tcp', 'dst', 'port', String(PORT)]);
    // A first SYN held back while the guest resolves the gateway's MAC would make every later
    // SYN look early against it: a refused connect resolves it before the measured ones.
    await vm.control.request(`connect ${GUEST_GATEWAY} ${WARM_UP_PORT} ${FIRST_SOURCE_PORT} 1`);
    const warmUp = (await outcomes(vm, [0], Date.now() + 10_000)).get(0);
    if (warmUp?.split(' ')[2] !== String(ECONNREFUSED)) throw new Error(`guest ${vm.release}: the warm-up connect to port ${WARM_UP_PORT} was not refused: ${warmUp ?? '(no result)'}`);
    for (const retries of RETRIES) await vm.control.request(`connect ${GUEST_GATEWAY} ${PORT} ${FIRST_SOURCE_PORT + retries} ${retries}`);
    // The longest model give-up, and a margin for TCG: then every client must have ended.
    const outcome = await outcomes(vm, RETRIES, Date.now() + Math.max(...RETRIES.map((r) => synSchedule(vm.release, r).at(-1)!)) + 15_000);
    await stop(tcpdump);
    tcpdump = undefined;
    const synTimesMs = synTimesBySourcePort(capture, FIRST_SOURCE_PORT);
    return { release: vm.release, synTimesMs, outcome };
  } finally {
    if (tcpdump !== undefined) await stop(tcpdump);
    await vm.stop();
    await removeTap(lab.serverNs);
    await lab.down();
  }
}

beforeAll(async () => {
  if (skip !== undefined) return;
  const started = Date.now();
  // Side by side: a guest mostly waits on its retransmit timers.
  const results = await Promise.all(kernels.map((image, i) => measure(image, labs[i]!, join(dir, `syns-${i}.pcap`))));
  kernels.forEach((image, i) => measured.set(image, results[i]!));
  for (const m of results) {
    const syns = RETRIES.map((r) => `${r}: ${JSON.stringify((m.synTimesMs.get(r) ?? []).map(Math.round))} ${m.outcome.get(r) ?? '(no result)'}`);
    console.log(`client SYN schedule, guest ${m.release}: ${syns.join('; ')}`);
  }
  console.log(`vm client schedule: ${kernels.length} kernel(s) side by side, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 180_000);

afterAll(async () => {
  if (skip === undefined) for (const lab of labs) await lab.down();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined || kernels.length === 0)('Debian kernels under qemu as clients whose SYNs are dropped, as simulate --client-kernel models them', () => {
  for (const image of kernels) {
    describe(image, () => {
      it("the other era's schedule does not fit: the comparison tells 6.1 from 6.5+ (tcp_syn_linear_timeouts)", () => {
        const m = measured.get(image)!;
        const [major, minor] = m.release.split('.').map(Number);
        const other = major! > 6 || (major === 6 && minor! >= 5) ? '6.4' : '6.5';
        for (const retries of [2, 3]) expect(m.synTimesMs.get(retries)?.length, `TCP_SYNCNT ${retries} on ${m.release} against ${other}`).not.toBe(synSchedule(other, retries).length - 1);
      });

      for (const retries of RETRIES) {
        it(`TCP_SYNCNT ${retries}: the same SYNs at the same times, and connect() fails with ETIMEDOUT when the model gives up`, () => {
          const m = measured.get(image)!;
          const [result, ms, errno] = (m.outcome.get(retries) ?? '(no result)').split(' ');
          expect(result, m.outcome.get(retries)).toBe('failed');
          expect(Number(errno)).toBe(110); // ETIMEDOUT
          expectSchedule(m.synTimesMs.get(retries) ?? [], Number(ms), synSchedule(m.release, retries));
        });
      }
    });
  }
});

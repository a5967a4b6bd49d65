// `syndrop verify --vm IMAGE`: the differential scenarios with a real kernel under qemu as the
// referee in place of the host's. One guest boots per distinct set of server sysctls (they are
// the guest's boot-time settings, so scenarios of one set share a boot; `stop` between two
// scenarios closes the listener and resets every accepted socket), and the guest's kernel is
// compared with the profile its image's version string names (profiles/detect.ts) unless
// the caller names one. Scenarios a kernel or profile cannot run are skipped with the reason.

import { labUp } from '../lab/lab.js';
import { labTopology } from '../lab/topology.js';
import { resolveProfile } from '../profiles/resolve.js';
import { sysctlExists } from '../profiles/sysctl.js';
import type { Profile } from '../profiles/profile.js';
import { runScenario, type ScenarioReport } from './harness.js';
import { loadKnownDifferences, loadScenarios, selectScenarios, type Scenario } from './scenario.js';
import { readImageFileVersion } from './guest/bzimage.js';
import { GuestSide, sysctlPath } from './guest/guest-side.js';
import { buildInitramfs } from './guest/initramfs.js';
import { resolveGuestModules } from './guest/modules.js';
import { detectProfile } from '../profiles/detect.js';
import { GuestVm, removeTap, type Accel } from './guest/vm.js';
import { usageError } from '../errors.js';
import { assetPath } from '../assets.js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface VmVerifyOptions {
  image: string;
  /** /lib/modules/<release> to take the NIC modules from; default: beside the image, then /lib/modules. */
  modules?: string;
  /** Profile to compare with; default detected from the image. */
  kernel?: string;
  only?: string[];
  prefix?: string;
  instance?: string;
  accel?: Accel;
  onScenario?: (report: VmScenarioReport, index: number, total: number) => void;
  onBoot?: (boot: VmBoot) => void;
}

export interface VmScenarioReport {
  name: string;
  result: 'agree' | 'differ' | 'skipped';
  /** The first differing step, the skip reason, or the error. */
  detail: string;
  /** The whole comparison (absent when skipped). */
  comparison?: ScenarioReport;
}

export interface VmBoot {
  sysctls: Record<string, number>;
  /** Machine-sized defaults set to the profile's value (see MEMORY_SIZED_SYSCTLS). */
  aligned: Record<string, number>;
  bootMs: number;
  accel: 'kvm' | 'tcg';
}

export interface VmVerifyReport {
  /** `uname -r` of the guest. */
  kernel: string;
  /** The image's version string (bzImage header). */
  banner: string;
  image: string;
  profile: string;
  /** Why this profile: detected from the version string, or given with --kernel. */
  profileReason: string;
  scenarios: VmScenarioReport[];
  agree: number;
  differ: number;
  skipped: number;
  boots: VmBoot[];
  runtimeMs: number;
}

/** The modules directory for an image: --modules, the unpacked package's lib/modules beside boot/, or the installed one. */
function modulesDirFor(image: string, release: string, given: string | undefined): string | null {
  if (given !== undefined) {
    if (!existsSync(given)) throw usageError(`--modules ${given}: no such directory`);
    return given;
  }
  const candidates = [join(dirname(image), '..', 'lib', 'modules', release), join('/lib/modules', release)];
  return candidates.find((dir) => existsSync(dir)) ?? null;
}

/** The profile to compare with and why. */
export function chooseProfile(image: string, kernel: string | undefined): { profile: Profile; reason: string; release: string; banner: string } {
  const version = readImageFileVersion(image);
  if ('error' in version) throw usageError(`${image}: ${version.error}`);
  if (kernel !== undefined) {
    const profile = resolveProfile(kernel);
    return { profile, reason: `given with --kernel ${kernel}`, release: version.release, banner: version.banner };
  }
  const detected = detectProfile(version.release, version.banner);
  if ('error' in detected) throw usageError(`${image}: ${detected.error}; name a profile with --kernel`);
  return { ...detected, release: version.release, banner: version.banner };
}

/**
 * Defaults the kernel sizes from the machine's memory, not from its version: spec §5.4,
 * tcp_max_syn_backlog = max(128, ehash entries / 256). A 2 GB guest gets 128, which puts the
 * unproven-peer limit (§1.1 C8b) at 96 half-open requests; the profile's default is a large
 * machine's. They are set to the profile's value unless the scenario sets them.
 */
const MEMORY_SIZED_SYSCTLS = ['net.ipv4.tcp_max_syn_backlog'] as const;

async function alignMemorySized(vm: GuestVm, profile: Profile, sysctls: Record<string, number>): Promise<Record<string, number>> {
  const aligned: Record<string, number> = {};
  for (const name of MEMORY_SIZED_SYSCTLS) {
    const value = profile.sysctlDefaults[name];
    if (name in sysctls || value === undefined) continue;
    await vm.control.request(`write ${sysctlPath(name)} ${value}`);
    aligned[name] = value;
  }
  return aligned;
}

const sysctlKey = (scenario: Scenario): string => JSON.stringify(Object.entries(scenario.sysctls ?? {}).sort(([a], [b]) => a.localeCompare(b)));

function describeDifference(r: ScenarioReport): string {
  if (r.error) return `error: ${r.error}`;
  const d = r.firstDifference;
  if (d === null) return '';
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return `${d.stepText}: ${d.what}: kernel ${show(d.kernel)} / syndrop ${show(d.syndrop)} [spec ${r.spec}]`;
}

/** Why a scenario cannot run against this guest and profile, or null. */
async function inapplicable(scenario: Scenario, profile: Profile, vm: GuestVm): Promise<string | null> {
  for (const name of Object.keys(scenario.sysctls ?? {})) {
    if (!sysctlExists(profile, name)) return `profile ${profile.name} has no sysctl ${name}`;
    const present = await vm.control.request(`read ${sysctlPath(name)}`).then(
      () => true,
      () => false,
    );
    if (!present) return `kernel ${vm.release} has no sysctl ${name}`;
  }
  return null;
}

export async function runVmVerify(options: VmVerifyOptions): Promise<VmVerifyReport> {
  const started = Date.now();
  if (!existsSync(options.image)) throw usageError(`--vm ${options.image}: no such file`);
  const chosen = chooseProfile(options.image, options.kernel);
  const modulesDir = modulesDirFor(options.image, chosen.release, options.modules);
  const initramfs = buildInitramfs(resolveGuestModules(modulesDir));
  const topology = labTopology(options.prefix);
  await labUp({ prefix: topology.prefix });
  const instance = options.instance ?? `${process.env.SYNDROP_INSTANCE ?? 'default'}-vm`;
  const scenarios = selectScenarios(loadScenarios(), options.only);
  // A guest's known differences are its own list (the host's are about the host kernel).
  const known = new Map(loadKnownDifferences(assetPath('verify', 'known-differences-vm.json')).map((k) => [k.scenario, k.reason]));
  const groups = new Map<string, Scenario[]>();
  for (const s of scenarios) groups.set(sysctlKey(s), [...(groups.get(sysctlKey(s)) ?? []), s]);
  const basePort = 10_000 + 2 * Math.floor(Math.random() * 20_000);
  const results = new Map<string, VmScenarioReport>();
  const boots: VmBoot[] = [];
  let release = chosen.release;
  let done = 0;
  try {
    for (const group of groups.values()) {
      const sysctls = group[0]!.sysctls ?? {};
      const vm = await GuestVm.boot({ image: options.image, initramfs, netns: topology.nodes.srv.netns, accel: options.accel ?? 'auto' });
      release = vm.release;
      const aligned = await alignMemorySized(vm, chosen.profile, sysctls);
      const boot = { sysctls, aligned, bootMs: vm.bootMs, accel: vm.accel };
      boots.push(boot);
      options.onBoot?.(boot);
      try {
        for (const scenario of group) {
          const port = basePort + 2 * scenarios.indexOf(scenario);
          const why = await inapplicable(scenario, chosen.profile, vm);
          let report: VmScenarioReport;
          if (why !== null) {
            report = { name: scenario.name, result: 'skipped', detail: why };
          } else {
            for (const [name, value] of Object.entries(scenario.sysctls ?? {})) await vm.control.request(`write ${sysctlPath(name)} ${value}`);
            const side = new GuestSide(vm);
            let comparison = await runScenario(scenario, topology, chosen.profile.name, instance, port, known, side);
            if (!comparison.agree) {
              // As for the host kernel: a difference must reproduce to count (fresh ports).
              const again = await runScenario(scenario, topology, chosen.profile.name, instance, port + 2 * scenarios.length, known, side);
              if (again.agree) comparison = { ...again, disagreedOnceThenAgreed: comparison.firstDifference };
            }
            report = { name: scenario.name, result: comparison.agree ? 'agree' : 'differ', detail: describeDifference(comparison), comparison };
          }
          results.set(scenario.name, report);
          options.onScenario?.(report, done++, scenarios.length);
        }
      } finally {
        await vm.stop();
      }
    }
  } finally {
    await removeTap(topology.nodes.srv.netns);
  }
  const ordered = scenarios.map((s) => results.get(s.name)!);
  const count = (r: VmScenarioReport['result']): number => ordered.filter((s) => s.result === r).length;
  return {
    kernel: release,
    banner: chosen.banner,
    image: options.image,
    profile: chosen.profile.name,
    profileReason: chosen.reason,
    scenarios: ordered,
    agree: count('agree'),
    differ: count('differ'),
    skipped: count('skipped'),
    boots,
    runtimeMs: Date.now() - started,
  };
}

/** The verify table for a guest: one row per scenario, then kernel, profile, boots and the tally. */
export function formatVmVerifyTable(report: VmVerifyReport): string {
  const width = Math.max(8, ...report.scenarios.map((s) => s.name.length));
  const lines = [`${'SCENARIO'.padEnd(width)}  RESULT   DETAIL`];
  for (const s of report.scenarios) lines.push(`${s.name.padEnd(width)}  ${s.result.padEnd(7)}  ${s.detail}`.trimEnd());
  const boots = report.boots.map((b) => b.bootMs);
  const accel = [...new Set(report.boots.map((b) => b.accel))].join('/') || '-';
  lines.push(
    '',
    `guest kernel ${report.kernel} (${report.banner})`,
    `profile ${report.profile}: ${report.profileReason}`,
    `${report.boots.length} boot(s) under ${accel}: ${boots.length ? `${(Math.min(...boots) / 1000).toFixed(1)}–${(Math.max(...boots) / 1000).toFixed(1)} s` : '-'} to a ready guest`,
    `${report.agree} agree, ${report.differ} differ, ${report.skipped} skipped of ${report.scenarios.length}; ${(report.runtimeMs / 1000).toFixed(1)} s`,
  );
  return lines.join('\n');
}


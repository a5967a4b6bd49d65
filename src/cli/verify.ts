// `syndrop verify`: the differential suite — each scenario against a real kernel and against the
// matching profile, compared step by step (scenarios in assets/verify/scenarios/). The real
// kernel is the host's, or with --vm IMAGE a kernel image booted under qemu.

import type { Command } from 'commander';
import { requireRoot } from '../lab/lab.js';
import { resolveProfile } from '../profiles/resolve.js';
import { usageError } from '../errors.js';
import { formatVerifyTable, runVerify } from '../verify/harness.js';
import { formatVmVerifyTable, runVmVerify } from '../verify/vm-harness.js';
import type { Accel } from '../verify/guest/vm.js';
import { parseFamily } from '../lab/scenarios/family.js';
import { collect, printJson } from './common.js';

interface VerifyOptions {
  kernel?: string;
  profile?: string;
  only: string[];
  scenario: string[];
  json?: boolean;
  vm?: string;
  modules?: string;
  accel: string;
  family: string;
}

async function verifyVm(image: string, options: VerifyOptions): Promise<void> {
  if (!['auto', 'kvm', 'tcg'].includes(options.accel)) throw usageError(`--accel ${options.accel}: choose auto, kvm or tcg`);
  const kernel = options.kernel ?? options.profile;
  if (kernel !== undefined) resolveProfile(kernel);
  requireRoot();
  const only = [...options.only, ...options.scenario];
  const quiet = options.json === true;
  const report = await runVmVerify({
    image,
    modules: options.modules,
    kernel,
    only: only.length > 0 ? only : undefined,
    accel: options.accel as Accel,
    onBoot: quiet ? undefined : (b) => process.stderr.write(`guest booted in ${(b.bootMs / 1000).toFixed(1)} s (${b.accel}) with sysctls ${JSON.stringify(b.sysctls)} (machine-sized defaults set to the profile's: ${JSON.stringify(b.aligned)})\n`),
    onScenario: quiet ? undefined : (r, i, total) => process.stderr.write(`[${i + 1}/${total}] ${r.name}: ${r.result}\n`),
  });
  if (options.json) printJson(report);
  else process.stdout.write(formatVmVerifyTable(report) + '\n');
  process.exitCode = report.differ === 0 ? 0 : 1;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('run the differential scenarios against a real kernel (the host, or --vm IMAGE under qemu) and a profile; print agreements and the first differing step')
    .option('--vm <image>', 'boot this kernel image (bzImage/vmlinuz) under qemu and use it as the real kernel')
    .option('--modules <dir>', "with --vm: the image's /lib/modules/<release> (default: beside the image, then /lib/modules)")
    .option('--accel <how>', 'with --vm: auto (KVM when it works here, else TCG), kvm or tcg', 'auto')
    .option('--kernel <which>', "without --vm: 'host' (this machine's kernel); with --vm: the profile to compare with (default: detected from the image)")
    .option('--profile <version>', 'syndrop profile to compare with (default 6.x for the host; detected for --vm)')
    .option('--only <name>', 'run only this scenario (repeatable; a trailing * matches a prefix)', collect, [])
    .option('--scenario <name>', 'same as --only', collect, [])
    .option('--family <4|6>', "the clients' IP family: 4, or 6 (the kernel listener on fd77:3::1, syndrop on fd77::2; scenarios that cannot run on IPv6 yet are skipped with their reason)", '4')
    .option('--json', 'print the full report as JSON')
    .action(async (options: VerifyOptions) => {
      const family = parseFamily(options.family);
      if (options.vm !== undefined && family === 6) throw usageError('--family 6 is not supported with --vm yet (the guest listener is IPv4)');
      if (options.vm !== undefined) return verifyVm(options.vm, options);
      if (options.modules !== undefined) throw usageError('--modules needs --vm IMAGE');
      if (options.kernel !== undefined && options.kernel !== 'host') throw usageError(`--kernel ${options.kernel}: without --vm only 'host' is supported (the real kernel this machine runs)`);
      requireRoot();
      const profile = resolveProfile(options.profile ?? '6.x').name;
      const only = [...options.only, ...options.scenario];
      const report = await runVerify({
        profile,
        only: only.length > 0 ? only : undefined,
        family,
        onScenario: options.json
          ? undefined
          : (r, i, total) => process.stderr.write(`[${i + 1}/${total}] ${r.name}: ${r.agree ? 'agree' : r.error ? 'error' : 'disagree'} (${(r.durationMs / 1000).toFixed(1)} s)\n`),
      });
      if (options.json) printJson(report);
      else process.stdout.write(formatVerifyTable(report) + '\n');
      process.exitCode = report.unexpected === 0 ? 0 : 1;
    });
}

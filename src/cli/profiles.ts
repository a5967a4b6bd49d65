// `syndrop profiles [show NAME]`: the kernel profiles, their switches and sysctl defaults.

import type { Command } from 'commander';
import { resolveProfile } from '../profiles/resolve.js';
import { PROFILES, DEFAULT_PROFILE_NAME } from '../profiles/table.js';
import { usageError } from '../errors.js';
import { readImageFileVersion } from '../verify/guest/bzimage.js';
import { detectProfile } from '../profiles/detect.js';
import { existsSync } from 'node:fs';
import { printJson } from './common.js';

export function registerProfiles(program: Command): void {
  const profiles = program
    .command('profiles')
    .description('list kernel profiles and aliases; `profiles show 3.10` prints one')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) return printJson(PROFILES);
      const width = Math.max(...PROFILES.map((p) => p.name.length));
      for (const p of PROFILES) {
        const aliases = p.aliases.length > 0 ? ` (${p.aliases.join(', ')})` : '';
        const mark = p.name === DEFAULT_PROFILE_NAME ? ' [default]' : '';
        process.stdout.write(`${p.name.padEnd(width)}  era ${p.era}${aliases}${mark}${p.description ? ` — ${p.description}` : ''}\n`);
      }
    });
  profiles
    .command('show')
    .description('behaviour switches and sysctl defaults of one profile')
    .argument('<kernel>', 'version or alias')
    .option('--json', 'print JSON')
    .action((name: string, options: { json?: boolean }) => {
      const p = resolveProfile(name);
      if (options.json) return printJson(p);
      const lines = [`kernel ${p.name} (era ${p.era})${p.aliases.length ? `, aliases: ${p.aliases.join(', ')}` : ''}`];
      if (p.description) lines.push(p.description);
      lines.push('', 'switches:');
      for (const [key, value] of Object.entries(p.switches)) {
        lines.push(`  ${key} = ${Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
      }
      lines.push('', 'sysctl defaults:');
      for (const [key, value] of Object.entries(p.sysctlDefaults).sort()) lines.push(`  ${key} = ${value}`);
      if (!('net.ipv4.tcp_tw_recycle' in p.sysctlDefaults)) lines.push('  (net.ipv4.tcp_tw_recycle does not exist on this kernel)');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  profiles
    .command('detect')
    .description('the profile `verify --vm IMAGE` compares a kernel image with, and why (from its bzImage version string)')
    .argument('<image>', 'kernel image (bzImage / vmlinuz)')
    .option('--json', 'print JSON')
    .action((image: string, options: { json?: boolean }) => {
      if (!existsSync(image)) throw usageError(`${image}: no such file`);
      const version = readImageFileVersion(image);
      if ('error' in version) throw usageError(`${image}: ${version.error}`);
      const detected = detectProfile(version.release, version.banner);
      if ('error' in detected) throw usageError(`${image}: ${detected.error}`);
      if (options.json) return printJson({ image, release: version.release, banner: version.banner, profile: detected.profile.name, reason: detected.reason });
      process.stdout.write(`${detected.profile.name}\n  image: ${version.banner}\n  why: ${detected.reason}\n`);
    });
}

// The real Debian kernels the VM tests boot: the newest Debian 12 6.1 and 6.12 cloud kernels,
// unpacked under /boot with their modules by scripts/install-test-kernels.sh (apt-get
// download + dpkg -x, no boot hooks).

import { existsSync, readdirSync } from 'node:fs';

/** /boot/vmlinuz-… of each installed Debian cloud kernel with its modules, sorted. */
export function installedDebianKernels(): string[] {
  if (!existsSync('/boot')) return [];
  return readdirSync('/boot')
    .filter((name) => /^vmlinuz-6\.(1\.0-\d+|12\.\d+\+deb\d+)-cloud-amd64$/.test(name))
    .filter((name) => existsSync(`/lib/modules/${name.slice('vmlinuz-'.length)}`))
    .map((name) => `/boot/${name}`)
    .sort();
}

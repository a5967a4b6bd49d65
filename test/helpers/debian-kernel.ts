// A real Debian kernel for the vm tests: the newest linux-image-6.1.0-*-cloud-amd64 of the
// configured archives, downloaded once into syndrop's cache (apt-get download + dpkg -x).
// Outside CI a machine without apt-get skips; in CI a failure to fetch fails the test.

import { haveTool } from '../../src/lab/exec.js';
import { ensureDebianKernel, newestKernelPackage, type UnpackedKernel } from '../../src/verify/guest/debian-kernel.js';

export const DEBIAN_61_CLOUD = /^linux-image-6\.1\.0-\d+-cloud-amd64$/;

export async function debianKernel(pattern: RegExp = DEBIAN_61_CLOUD): Promise<UnpackedKernel | string> {
  if (!(await haveTool('apt-get')) || !(await haveTool('dpkg'))) {
    if (process.env.CI) throw new Error('apt-get/dpkg missing in CI: the vm tests need a Debian kernel package');
    return 'no apt-get/dpkg here';
  }
  try {
    return await ensureDebianKernel(await newestKernelPackage(pattern));
  } catch (error) {
    if (process.env.CI) throw error;
    return `cannot fetch a Debian kernel: ${error instanceof Error ? error.message : String(error)}`;
  }
}

// Where `verify --vm` keeps what it fetches and builds (unpacked Debian kernels, initramfs
// images, the KVM probe): SYNDROP_CACHE, else /var/cache/syndrop. Never inside the repository.

export function cacheDir(): string {
  return process.env.SYNDROP_CACHE ?? '/var/cache/syndrop';
}

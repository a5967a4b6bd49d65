#!/usr/bin/env bash
# Two real Debian kernels for the `verify --vm` tests (issue 16): the newest Debian 12 6.1
# cloud kernel and the newest 6.12 backport cloud kernel, by package name pattern. `apt-get
# download` + `dpkg -x` unpack the image and its modules into /boot and /lib/modules without
# running any boot hook (nothing is installed as a package; no kernel is built).
set -euo pipefail

patterns=(
  '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$'
  '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$'
)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for pattern in "${patterns[@]}"; do
  pkg=$(apt-cache search --names-only '^linux-image-' | awk '{print $1}' | grep -E "$pattern" | sort -V | tail -n 1 || true)
  if [ -z "$pkg" ]; then
    echo "install-test-kernels: no Debian package matches $pattern (apt-get update first)" >&2
    exit 1
  fi
  release=${pkg#linux-image-}
  if [ -f "/boot/vmlinuz-$release" ] && [ -d "/lib/modules/$release" ]; then
    echo "install-test-kernels: $pkg already unpacked"
    continue
  fi
  (cd "$stage" && apt-get download -q "$pkg")
  mkdir -p "$stage/$release"
  dpkg -x "$stage/${pkg}"_*.deb "$stage/$release"
  install -D -m 0644 "$stage/$release/boot/vmlinuz-$release" "/boot/vmlinuz-$release"
  mkdir -p /lib/modules
  rm -rf "/lib/modules/$release"
  cp -a "$stage/$release/lib/modules/$release" "/lib/modules/$release"
  echo "install-test-kernels: $pkg → /boot/vmlinuz-$release, /lib/modules/$release"
done

#!/usr/bin/env bash
# make demo: lab up, the emulator with a kernel profile, real clients, the drops shown, lab down.
# Bounded: every client has a timeout; the lab is removed even on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNDROP=./bin/syndrop
export SYNDROP_INSTANCE=demo
RUN_PID=""

cleanup() {
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then kill "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true; fi
  $SYNDROP lab down >/dev/null
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "make demo needs root (network namespaces, TUN)" >&2; exit 1; fi
$SYNDROP lab up >/dev/null
echo "lab up: clients sd-c1/sd-c2 (behind NAT), sd-c3 (direct); emulated server 10.77.0.2"

if $SYNDROP scenario list >/dev/null 2>&1; then
  # The kernel matrix: every drop story, 3.10 against the newest kernel, real clients.
  $SYNDROP scenario matrix --kernels "${KERNELS:-3.10,6.x}"
  exit 0
fi

for kernel in 3.10 6.x; do
  echo
  echo "=== kernel $kernel: listen(fd, 2), the application never calls accept() ==="
  $SYNDROP run --kernel "$kernel" --backlog 2 --accept-rate 0 --quiet &
  RUN_PID=$!
  for _ in $(seq 50); do $SYNDROP stats -a >/dev/null 2>&1 && break; sleep 0.1; done
  for i in 1 2 3 4 5 6; do
    code=$($SYNDROP lab exec c3 -- curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1.5 -m 2 http://10.77.0.2/ || true)
    case "$code" in
      000) echo "client $i: no answer (SYN dropped, or connected but never served)";;
      *) echo "client $i: HTTP $code";;
    esac
  done
  echo "--- syndrop ss -e"
  $SYNDROP ss -e
  echo "--- syndrop stats TcpExtListen* TcpPassiveOpens"
  $SYNDROP stats -a TcpExtListen\* TcpPassiveOpens
  echo "--- syndrop explain"
  $SYNDROP explain | sed -n '1,8p'
  kill "$RUN_PID"; wait "$RUN_PID" 2>/dev/null || true; RUN_PID=""
done

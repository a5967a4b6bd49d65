#!/usr/bin/env bash
# make demo: lab up, every drop story with real clients against two kernels (the scenario
# matrix) with its HTML timeline report, one verdict table in full, lab down. Bounded: every client has a timeout, every
# flood a count and a time limit; the lab is removed even on Ctrl-C or failure.
# KERNELS=3.10,4.4,4.10,5.4,6.x make demo   compares more kernels (about 20 s per kernel).
# REPORT=/path/report.html make demo        writes the report there (default ./syndrop-demo-report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
SYNDROP=./bin/syndrop

cleanup() {
  $SYNDROP lab down >/dev/null
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ]; then echo "make demo needs root (network namespaces, TUN)" >&2; exit 1; fi
$SYNDROP lab up >/dev/null
echo "lab up: clients sd-c1/sd-c2 (behind one NAT), sd-c3 (direct); emulated server 10.77.0.2"
echo

# The kernel matrix: each scenario runs its own emulator and real clients (curl, a socket
# client, spoofed SYNs) per kernel; ✓ = the clients experienced what the spec predicts.
# The same runs as a timeline: one HTML file, each story's kernels side by side.
REPORT="${REPORT:-$PWD/syndrop-demo-report.html}"
status=0
$SYNDROP scenario matrix --kernels "${KERNELS:-3.10,6.x}" --report "$REPORT" || status=$?

echo
echo "One story in full — the verdict table behind a matrix cell:"
echo
$SYNDROP scenario run accept-overflow --kernel 3.10 --quiet || status=$?
echo
echo "Timeline report (open in a browser; self-contained, works offline): $REPORT"
exit $status

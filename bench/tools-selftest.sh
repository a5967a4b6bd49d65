#!/usr/bin/env bash
# bench/tools-selftest.sh - manual check of dist/bin/sdgen and dist/bin/reflector.
#
# Builds a two-namespace lab, floods the C reflector with sdgen, then sends
# malformed frames and checks the reflector still answers. Bounded (each
# program stops by itself; the whole script takes ~20 s) and removes exactly
# what it created (trap). Needs root. Never touches the root namespace's
# addresses or routes.
#
#   sdt-bench-cli  sdtb-c 10.97.0.2/24 ---veth--- sdtb-s 10.97.0.1/24  sdt-bench-srv
#   default via 10.97.0.1, ip_forward=0              ip_forward=1, TUN sdb0 10.99.0.1/24,
#                                                    10.98.0.0/16 via 10.97.0.2 (spoofed sources)
#
# Usage: bench/tools-selftest.sh [SYN_COUNT] [SYN_SECONDS]   (defaults 2000000 5)
set -u
cd "$(dirname "$0")/.."

CLI=sdt-bench-cli
SRV=sdt-bench-srv
TUN=sdb0
GEN=dist/bin/sdgen
REF=dist/bin/reflector
COUNT=${1:-2000000}
SECS=${2:-5}
REF_PID=""

if [ "$(id -u)" != 0 ]; then echo "tools-selftest: needs root (network namespaces, TUN)" >&2; exit 2; fi
if [ ! -x "$GEN" ] || [ ! -x "$REF" ]; then echo "tools-selftest: build first: make bench-tools" >&2; exit 2; fi
for ns in $CLI $SRV; do
  if ip netns list | grep -qw "$ns"; then echo "tools-selftest: namespace $ns already exists; remove it first (ip netns del $ns)" >&2; exit 1; fi
done

cleanup() {
  if [ -n "$REF_PID" ] && kill -0 "$REF_PID" 2>/dev/null; then kill "$REF_PID" 2>/dev/null; wait "$REF_PID" 2>/dev/null; fi
  ip -n $SRV tuntap del dev $TUN mode tun 2>/dev/null
  ip -n $CLI link del sdtb-c 2>/dev/null
  ip netns del $CLI 2>/dev/null
  ip netns del $SRV 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

set -e
ip netns add $CLI
ip netns add $SRV
ip -n $CLI link set lo up
ip -n $SRV link set lo up
ip -n $CLI link add sdtb-c type veth peer name sdtb-s netns $SRV
ip -n $CLI addr add 10.97.0.2/24 dev sdtb-c
ip -n $SRV addr add 10.97.0.1/24 dev sdtb-s
ip -n $CLI link set sdtb-c up
ip -n $SRV link set sdtb-s up
ip -n $CLI route add default via 10.97.0.1
ip netns exec $CLI sysctl -qw net.ipv4.ip_forward=0
ip netns exec $SRV sysctl -qw net.ipv4.ip_forward=1
ip -n $SRV tuntap add dev $TUN mode tun
ip -n $SRV addr add 10.99.0.1/24 dev $TUN
ip -n $SRV link set $TUN up
ip -n $SRV route add 10.98.0.0/16 via 10.97.0.2
set +e

stat() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

echo "== 1. SYN flood: sdgen (CPU0) -> srv forward -> TUN $TUN -> reflector (CPU1) -> back to cli"
taskset -c 1 $REF --netns $SRV --dev $TUN --seconds $((SECS + 3)) & REF_PID=$!
sleep 0.5
c0=$(stat $CLI sdtb-c rx_packets); d0=$(stat $SRV $TUN tx_dropped)
ip netns exec $CLI taskset -c 0 $GEN syn --dst 10.99.0.2 --dport 80 --src-net 10.98.0.0/16 \
  --count "$COUNT" --seconds "$SECS" --progress
c1=$(stat $CLI sdtb-c rx_packets); d1=$(stat $SRV $TUN tx_dropped)
wait $REF_PID; REF_PID=""
echo "   cli rx_packets delta: $((c1 - c0)); TUN $TUN tx_dropped (queue full): $((d1 - d0))"

echo "== 2. garbage: 100000 malformed frames, then a short SYN run against the same reflector"
taskset -c 1 $REF --netns $SRV --dev $TUN --seconds 10 & REF_PID=$!
sleep 0.5
d0=$(stat $SRV $TUN tx_dropped)
ip netns exec $CLI taskset -c 0 $GEN garbage --dst 10.99.0.2 --dport 80 --count 100000 --seconds 5 --seed 42
ip netns exec $CLI taskset -c 0 $GEN syn --dst 10.99.0.2 --dport 80 --src-net 10.98.0.0/16 \
  --count 100000 --seconds 2 --rate 100000 --ts --sack --wscale 7
d1=$(stat $SRV $TUN tx_dropped)
echo "   TUN $TUN tx_dropped during phase 2: $((d1 - d0)) (garbage is sent at full speed; the TUN queue overflows)"
if kill -0 $REF_PID 2>/dev/null; then echo "   reflector alive after garbage: yes"; else echo "   reflector alive after garbage: NO"; fi
wait $REF_PID; rc=$?; REF_PID=""
echo "   reflector exit code: $rc"

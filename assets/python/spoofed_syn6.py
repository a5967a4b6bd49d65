#!/usr/bin/env python3
"""A bounded burst of spoofed IPv6 SYNs for the lab's scenarios (syndrop scenario --family 6).
bench/src/sdgen and hping3 speak IPv4 only; this is the IPv6 counterpart of `sdgen syn`, stdlib
only. Sources are distinct addresses inside a spoofed prefix that the server namespace routes
back into this namespace, where (no IPv6 forwarding) the SYN-ACKs are dropped silently.

usage: spoofed_syn6.py DST DPORT SRC_PREFIX COUNT SECONDS
  SRC_PREFIX  e.g. fd77:8000::/17 — source n is the prefix's base address + n (n = 1 … COUNT)

Prints one JSON line {"sent": N}. Stops after COUNT SYNs or SECONDS, whichever comes first.
"""
import ipaddress, json, random, socket, struct, sys, time

dst, dport, prefix, count, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
net = ipaddress.IPv6Network(prefix, strict=False)
dst_bytes = socket.inet_pton(socket.AF_INET6, dst)
rng = random.Random(1)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def syn(src_bytes, sport):
    # MSS 1440 (what a Linux client on a 1500 MTU writes for IPv6), no other options.
    tcp = struct.pack('!HHIIBBHHH', sport, dport, rng.randrange(1 << 32), 0, 6 << 4, 0x02, 64800, 0, 0) + struct.pack('!BBH', 2, 4, 1440)
    pseudo = src_bytes + dst_bytes + struct.pack('!IxxxB', len(tcp), 6)
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    # Version 6, hop limit 64, next header TCP (the kernel fills nothing in: IPPROTO_RAW implies IPV6_HDRINCL).
    return struct.pack('!IHBB', 6 << 28, len(tcp), 6, 64) + src_bytes + dst_bytes + tcp


raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
deadline = time.monotonic() + seconds
sent = 0
while sent < count and time.monotonic() < deadline:
    src = net.network_address + sent + 1
    raw.sendto(syn(src.packed, 1024 + sent % 60000), (dst, 0))
    sent += 1
print(json.dumps({'sent': sent}), flush=True)

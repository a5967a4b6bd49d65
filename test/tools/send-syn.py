#!/usr/bin/env python3
"""Send COUNT crafted SYNs with a chosen TSval (scapy), GAP seconds apart, from the current
namespace. Used to present a second, unrelated timestamp clock from behind the lab's NAT.

usage: send-syn.py DST DPORT SPORT TSVAL [COUNT] [GAP]
Needs Debian's python3 with python3-scapy (/usr/bin/python3).
"""
import sys
from scapy.all import IP, TCP, send  # noqa: E402

dst, dport, sport, tsval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
gap = float(sys.argv[6]) if len(sys.argv) > 6 else 0.2
syn = IP(dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=1000,
                        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (tsval, 0)), ("NOP", None), ("WScale", 7)])
send(syn, count=count, inter=gap, verbose=False)

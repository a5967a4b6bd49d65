#!/usr/bin/env python3
"""Open M non-blocking TCP connections (GAP ms apart), wait WAIT s, print one JSON line with
each socket's state as the client kernel sees it (TCP_INFO); then keep them open until stdin
closes (so the server can be inspected) and reset them all (SO_LINGER 0).

usage: open-connections.py DST PORT M GAP_MS WAIT_S
"""
import errno, json, socket, struct, sys, time

STATES = {1: "ESTAB", 2: "SYN_SENT", 7: "CLOSE", 8: "CLOSE_WAIT"}

def main():
    dst, port, m, gap, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
    socks = []
    for _ in range(m):
        s = socket.socket()
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            s.connect((dst, port))
        except BlockingIOError:
            pass
        socks.append(s)
        time.sleep(gap / 1000)
    time.sleep(wait)
    result = []
    for s in socks:
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        state = struct.unpack("B", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[:1])[0]
        result.append({"state": STATES.get(state, str(state)), "error": errno.errorcode.get(err) if err else None})
    print(json.dumps(result), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()

main()

#!/usr/bin/env python3
# The real-kernel side of a differential scenario: one listening socket in the server namespace,
# with the same backlog, accept policy and application as `syndrop run` gets.
#
#   kernel-listener.py ADDR PORT BACKLOG ACCEPT APP
#     ACCEPT: never | fast | <rate per second> (a token bucket like syndrop's --accept-rate:
#             tokens accrue continuously up to max(1, rate); the bucket starts full)
#     APP:    http (read one request head, answer like syndrop's http app, close first)
#             echo | discard (close when the peer does) | hold (never read, never close)
#
# Prints "ready" once listening; runs until stdin closes or SIGTERM. Accepted sockets are
# closed with SO_LINGER 0 at the end (RST, nothing left retransmitting into the next scenario).

import ctypes
import select
import signal
import socket
import struct
import sys
import time

addr, port, backlog, accept_mode, app = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

BODY = b'hello from syndrop\n'
RESPONSE = (b'HTTP/1.1 200 OK\r\nServer: syndrop\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n'
            b'Connection: close\r\n\r\n' % len(BODY)) + BODY

# An IPv6 address (syndrop verify --family 6): an IPv6 listener.
srv = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((addr, port))
# libc listen(), not socket.listen(): CPython clamps a negative backlog to 0, while the kernel
# compares it unsigned against somaxconn (a negative backlog means somaxconn, spec §5.1).
libc = ctypes.CDLL(None, use_errno=True)
if libc.listen(srv.fileno(), ctypes.c_int(backlog)) != 0:
    raise OSError(ctypes.get_errno(), 'listen')
srv.setblocking(False)

rate = None if accept_mode in ('never', 'fast') else float(accept_mode)
tokens = max(1.0, rate) if rate else 0.0
last = time.monotonic()
conns = {}  # fd -> [socket, buffer, answered]
closed_http = []
stopping = [False]


def on_term(*_):
    stopping[0] = True


signal.signal(signal.SIGTERM, on_term)
print('ready', flush=True)

while not stopping[0]:
    now = time.monotonic()
    if rate:
        tokens = min(tokens + (now - last) * rate, max(1.0, rate))
    last = now
    rlist = [sys.stdin] + [c[0] for c in conns.values() if app != 'hold']
    want_accept = accept_mode == 'fast' or (rate is not None and tokens >= 1)
    if want_accept:
        rlist.append(srv)
    timeout = 0.2
    if rate and not want_accept:
        timeout = max(0.001, (1 - tokens) / rate)
    try:
        r, _, _ = select.select(rlist, [], [], timeout)
    except InterruptedError:
        continue
    for s in r:
        if s is sys.stdin:
            if sys.stdin.readline() == '':
                stopping[0] = True
        elif s is srv:
            while accept_mode == 'fast' or tokens >= 1:
                try:
                    c, _ = srv.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                conns[c.fileno()] = [c, b'', False]
                if rate:
                    tokens -= 1
        else:
            entry = conns.get(s.fileno())
            if entry is None:
                continue
            try:
                data = s.recv(65536)
            except (ConnectionResetError, OSError):
                data = b''
            if data == b'':
                del conns[s.fileno()]
                s.close()
                continue
            if app == 'echo':
                try:
                    s.send(data)
                except OSError:
                    pass
            elif app == 'http' and not entry[2]:
                entry[1] += data
                if b'\r\n\r\n' in entry[1]:
                    entry[2] = True
                    try:
                        s.send(RESPONSE)
                    except OSError:
                        pass
                    # Close first, like syndrop's http app: this side enters TIME_WAIT.
                    del conns[s.fileno()]
                    s.close()

for entry in conns.values():
    try:
        entry[0].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        entry[0].close()
    except OSError:
        pass
srv.close()

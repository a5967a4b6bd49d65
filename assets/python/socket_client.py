#!/usr/bin/env python3
"""A real socket client for the lab's scenarios (syndrop scenario): blocking connect()s with a
timeout, sleeps, commands run in this namespace, and probes of the open connections, in the
order the plan gives. Stdlib only.

usage: socket_client.py PLAN
  PLAN  JSON: {"host", "port", "steps": [{"op": "connect", "count", "timeout"} |
        {"op": "sleep", "seconds"} | {"op": "cmd", "argv"} | {"op": "probe"}], "hold"}

Prints one JSON array, one result per connect() ({"connect", "connectMs", "port", "probe"?}),
then keeps the connections open for "hold" seconds and closes them with a RST (SO_LINGER 0).
"""
import errno, json, socket, struct, subprocess, sys, time
plan = json.loads(sys.argv[1])
dst = (plan['host'], plan['port'])
results = []
open_socks = []
# An IPv6 host (syndrop scenario --family 6) gets an IPv6 socket.
FAMILY = socket.AF_INET6 if ':' in plan['host'] else socket.AF_INET
def connect(timeout):
    s = socket.socket(FAMILY, socket.SOCK_STREAM)
    s.settimeout(timeout)
    t0 = time.monotonic()
    r = {}
    try:
        s.connect(dst)
        r['connect'] = 'connected'
    except socket.timeout:
        r['connect'] = 'dropped'
    except ConnectionRefusedError:
        r['connect'] = 'refused'
    except ConnectionResetError:
        r['connect'] = 'reset'
    except OSError as e:
        r['connect'] = 'failed'
    r['connectMs'] = round((time.monotonic() - t0) * 1000)
    try:
        r['port'] = s.getsockname()[1]
    except OSError:
        r['port'] = 0
    results.append(r)
    if r['connect'] == 'connected':
        open_socks.append((s, r))
    else:
        s.close()
def probe():
    for s, r in open_socks:
        s.setblocking(False)
        try:
            data = s.recv(1, socket.MSG_PEEK)
            r['probe'] = 'data' if data else 'closed'
        except BlockingIOError:
            r['probe'] = 'open'
        except ConnectionResetError:
            r['probe'] = 'reset'
        except OSError as e:
            r['probe'] = 'reset' if e.errno in (errno.ECONNRESET, errno.EPIPE) else 'closed'
for step in plan['steps']:
    op = step['op']
    if op == 'connect':
        for _ in range(step['count']):
            connect(step['timeout'])
    elif op == 'sleep':
        time.sleep(step['seconds'])
    elif op == 'cmd':
        subprocess.run(step['argv'], check=True, stdout=subprocess.DEVNULL)
    elif op == 'probe':
        probe()
print(json.dumps(results), flush=True)
time.sleep(plan.get('hold', 0))
for s, r in open_socks:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    s.close()

#!/usr/bin/env python3
# syndrop differential driver: plays one scenario's client side inside the client namespace
# against one server (the real kernel listener or the emulated host) and reports what the
# clients experienced and every segment the server sent, with times.
#
# Stdlib only (CI has /usr/bin/python3; scapy is not needed). Two kinds of client:
#   - real sockets of this namespace's kernel (connect/send/close, outcome read from TCP_INFO);
#   - crafted flows from spoofed sources in the lab's spoofed prefix: sent through a raw
#     socket, answers read with an AF_PACKET socket on eth0. The server routes replies to those
#     sources into this namespace, whose ip_forward=0 drops them after the capture saw them, so
#     this kernel never RSTs a crafted flow's SYN-ACK and no OUTPUT rule is needed.
# An IPv6 server address (syndrop verify --family 6) switches everything to IPv6: IPv6 sockets,
# crafted segments with a 40-byte IPv6 header (IPPROTO_RAW implies IPV6_HDRINCL), the capture on
# ETH_P_IPV6 (no extension headers expected: neither server sends any). IPv6 has no IP id.
#
# Protocol: the plan is JSON on argv[1]; the result is one JSON object on stdout's last line.
# A step {"op":"snap"} prints {"sync": k} and blocks until the harness answers a line on stdin
# (it snapshots the server's counters meanwhile).

import errno
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4

plan = json.loads(sys.argv[1])
SERVER = plan['server']
PORT = int(plan['port'])
CLOSED_PORT = int(plan.get('closedPort', PORT + 1))
SPOOF = plan['spoofNet']  # e.g. "10.77.200." — crafted flows use SPOOF + n
IFACE = plan.get('iface', 'eth0')
V6 = ':' in SERVER
AF = socket.AF_INET6 if V6 else socket.AF_INET
rng = random.Random(plan.get('seed', 1))

T0 = time.monotonic()


def now_ms():
    return (time.monotonic() - T0) * 1000.0


def ip_to_bytes(a):
    return socket.inet_pton(AF, a)


def bytes_to_ip(b):
    return socket.inet_ntop(AF, b)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


FLAG_BITS = [('F', 0x01), ('S', 0x02), ('R', 0x04), ('P', 0x08), ('A', 0x10), ('U', 0x20), ('E', 0x40), ('C', 0x80)]


def flag_str(f):
    return ''.join(n for n, b in FLAG_BITS if f & b)


def build_options(o):
    """Options in the order a Linux client writes them: MSS, SACK-perm+TS, WS."""
    out = b''
    if o.get('mss') is not None:
        out += struct.pack('!BBH', 2, 4, o['mss'])
    ts = o.get('ts')
    if ts is not None:
        if o.get('sack'):
            out += b'\x04\x02'
        else:
            out += b'\x01\x01'
        out += struct.pack('!BBII', 8, 10, ts[0] & 0xFFFFFFFF, ts[1] & 0xFFFFFFFF)
    elif o.get('sack'):
        out += b'\x01\x01\x04\x02'
    if o.get('ws') is not None:
        out += struct.pack('!BBBB', 1, 3, 3, o['ws'])
    while len(out) % 4:
        out += b'\x01'
    return out


def parse_options(b):
    opts = {'kinds': []}
    i = 0
    while i < len(b):
        k = b[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        ln = b[i + 1]
        if ln < 2 or i + ln > len(b):
            break
        val = b[i + 2:i + ln]
        if k == 2 and ln == 4:
            opts['mss'] = struct.unpack('!H', val)[0]
            opts['kinds'].append('mss')
        elif k == 3 and ln == 3:
            opts['ws'] = val[0]
            opts['kinds'].append('ws')
        elif k == 4:
            opts['kinds'].append('sack')
        elif k == 8 and ln == 10:
            opts['tsval'], opts['tsecr'] = struct.unpack('!II', val)
            opts['kinds'].append('ts')
        else:
            opts['kinds'].append(str(k))
        i += ln
    return opts


raw = socket.socket(AF, socket.SOCK_RAW, socket.IPPROTO_RAW)


def send_tcp(src, sport, dport, seq, ack, flags, window=64240, options=b'', payload=b''):
    doff = (20 + len(options)) // 4
    hdr = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, doff << 4, flags, window, 0, 0)
    seg = hdr + options + payload
    if V6:
        pseudo = ip_to_bytes(src) + ip_to_bytes(SERVER) + struct.pack('!IxxxB', len(seg), 6)
        seg = seg[:16] + struct.pack('!H', csum(pseudo + seg)) + seg[18:]
        ip6h = struct.pack('!IHBB', 6 << 28, len(seg), 6, 64) + ip_to_bytes(src) + ip_to_bytes(SERVER)
        raw.sendto(ip6h + seg, (SERVER, 0))
        return
    pseudo = ip_to_bytes(src) + ip_to_bytes(SERVER) + struct.pack('!BBH', 0, 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack('!H', c) + seg[18:]
    total = 20 + len(seg)
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total, rng.randrange(65536), 0x4000, 64, 6, 0, ip_to_bytes(src), ip_to_bytes(SERVER))
    iph = iph[:10] + struct.pack('!H', csum(iph)) + iph[12:]
    raw.sendto(iph + seg, (SERVER, 0))


class Flow:
    """A crafted client connection from a spoofed source."""

    def __init__(self, label, index, dport):
        self.label = label
        self.src = SPOOF + str(1 + index % 250)
        self.sport = 20000 + index
        self.dport = dport
        self.isn = rng.randrange(1 << 32)
        self.snd_nxt = self.isn
        self.ts_base = rng.randrange(1 << 30) + 1000000
        self.ts_recent = 0
        self.server_isn = None
        self.rcv_nxt = None
        self.autoack = True
        self.opts = {}
        self.first_tsval = None
        self.last_tsval = None
        self.last_ack_sent = None
        self.prev_rcv_nxt = None
        self.prev_snd_nxt = None
        self.lock = threading.Lock()

    def tsval(self):
        return (self.ts_base + int(now_ms())) & 0xFFFFFFFF


flows = {}
flow_by_key = {}
real = {}  # label -> socket
real_by_port = {}
capture = []  # server -> client segments
client_syns = []  # client -> server SYNs (for information)
cap_lock = threading.Lock()
stop = threading.Event()
step_index = [-1]


def flow_ts_opts(flow):
    if flow.opts.get('ts') is None:
        return b''
    return build_options({'ts': (flow.tsval(), flow.ts_recent)})


def on_server_segment(rec, flow, payload_len, flags, seq, opts):
    """Minimal client TCP for crafted flows: learn the server ISN, ACK data and FIN."""
    with flow.lock:
        if flags & 0x02 and flags & 0x10:
            if flow.server_isn is None:
                flow.server_isn = seq
            flow.last_synack_seq = seq
            # Like a real client in ESTABLISHED: a retransmitted SYN-ACK is answered with a dup ACK.
            if flow.autoack and flow.rcv_nxt is not None and seq == flow.server_isn:
                send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, flow.rcv_nxt, 0x10, window=502, options=flow_ts_opts(flow))
            if 'tsval' in opts:
                flow.ts_recent = opts['tsval']
            return
        if flow.rcv_nxt is None or not flow.autoack:
            return
        if 'tsval' in opts:
            flow.ts_recent = opts['tsval']
        if payload_len > 0 or flags & 0x01:
            end = seq + payload_len + (1 if flags & 0x01 else 0)
            if ((end - flow.rcv_nxt) & 0xFFFFFFFF) < 0x80000000:
                flow.rcv_nxt = end & 0xFFFFFFFF
            send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, flow.rcv_nxt, 0x10, options=flow_ts_opts(flow))


def sniffer(sock):
    srv = ip_to_bytes(SERVER)
    while not stop.is_set():
        r, _, _ = select.select([sock], [], [], 0.05)
        if not r:
            continue
        try:
            pkt, addr = sock.recvfrom(65535)
        except OSError:
            continue
        t = now_ms()
        if V6:
            if len(pkt) < 60 or pkt[6] != 6:
                continue
            ihl = 40
            src, dst = pkt[8:24], pkt[24:40]
            total = 40 + struct.unpack('!H', pkt[4:6])[0]
        else:
            if len(pkt) < 40 or pkt[9] != 6:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            src, dst = pkt[12:16], pkt[16:20]
            total = struct.unpack('!H', pkt[2:4])[0]
        tcp = pkt[ihl:]
        if len(tcp) < 20:
            continue
        sport, dport, seq, ack, doff, flags, win = struct.unpack('!HHIIBBH', tcp[:16])
        hlen = (doff >> 4) * 4
        payload_len = max(0, total - ihl - hlen)
        if src == srv and addr[2] != PACKET_OUTGOING:
            if sport not in (PORT, CLOSED_PORT):
                continue
            opts = parse_options(tcp[20:hlen])
            d = bytes_to_ip(dst)
            key = (d, dport)
            flow = flow_by_key.get(key)
            label = flow.label if flow else real_by_port.get(dport)
            if label is None:
                label = '%s:%d' % key
            f = flag_str(flags)
            if 'R' in f:
                kind = 'R' if 'A' not in f else 'RA'
            elif 'S' in f:
                kind = 'SA'
            elif payload_len > 0 or 'F' in f:
                kind = 'D'
            else:
                kind = 'A'
            rec = {'t': round(t, 1), 'step': step_index[0], 'flow': label, 'kind': kind, 'flags': f, 'seq': seq, 'ack': ack,
                   'win': win, 'len': payload_len, 'opts': opts}
            if not V6:
                rec['ipIdZero'] = pkt[4:6] == b'\x00\x00'
            if flow is not None:
                on_server_segment(rec, flow, payload_len, flags, seq, opts)
                with flow.lock:
                    rec['ackRel'] = (ack - flow.isn) & 0xFFFFFFFF
                    if flow.server_isn is not None:
                        rec['seqRel'] = (seq - flow.server_isn) & 0xFFFFFFFF
                    if flow.prev_rcv_nxt is not None and kind == 'SA':
                        rec['isnFromTw'] = (seq - flow.prev_rcv_nxt) & 0xFFFFFFFF
                    if kind == 'A' and flow.prev_rcv_nxt is not None:
                        rec['twAck'] = seq == flow.prev_rcv_nxt and ack == flow.prev_snd_nxt
                    if 'tsecr' in opts:
                        if opts['tsecr'] == flow.first_tsval:
                            rec['tsecrEchoes'] = 'first'
                        elif opts['tsecr'] == flow.last_tsval:
                            rec['tsecrEchoes'] = 'last'
                        else:
                            rec['tsecrEchoes'] = 'other'
                    if kind in ('R', 'RA') and flow.last_ack_sent is not None:
                        rec['rstSeqIsAck'] = seq == flow.last_ack_sent
            with cap_lock:
                capture.append(rec)
        elif dst == srv and addr[2] == PACKET_OUTGOING and flags & 0x02 and not flags & 0x10:
            if dport == PORT:
                with cap_lock:
                    client_syns.append({'t': round(t, 1), 'sport': sport})


def get_flow(step, create=True):
    label = step['flow']
    flow = flows.get(label)
    if flow is None and create:
        dport = CLOSED_PORT if step.get('closedPort') else PORT
        flow = Flow(label, len(flows) + int(plan.get('flowIndexBase', 0)), dport)
        flows[label] = flow
        flow_by_key[(flow.src, flow.sport)] = flow
    return flow


def do_syn(step):
    flow = get_flow(step)
    o = step.get('opts', {'mss': 1460, 'sack': True, 'ts': True, 'ws': 7})
    flow.opts = dict(o)
    seq_mode = step.get('seq', 'isn')
    with flow.lock:
        if seq_mode in ('next', 'lower'):
            flow.prev_rcv_nxt = flow.rcv_nxt
            flow.prev_snd_nxt = flow.snd_nxt
        if seq_mode == 'next':  # a new connection on the same 4-tuple: seq beyond the old one
            flow.isn = (flow.snd_nxt + 100000) & 0xFFFFFFFF
        elif seq_mode == 'lower':
            flow.isn = (flow.snd_nxt - 100000) & 0xFFFFFFFF
        if seq_mode in ('next', 'lower'):
            flow.server_isn = None
            flow.rcv_nxt = None
            flow.snd_nxt = flow.isn
        ts_mode = step.get('tsval', 'now')
        tsval = flow.tsval()
        if ts_mode == 'old':
            tsval = (flow.ts_base - 100000) & 0xFFFFFFFF
        elif ts_mode == 'same' and flow.first_tsval is not None:
            tsval = flow.first_tsval
        if flow.first_tsval is None or seq_mode in ('next', 'lower'):
            flow.first_tsval = tsval
        flow.last_tsval = tsval
        opts = dict(o)
        if o.get('ts'):
            opts['ts'] = (tsval, 0)
        else:
            opts.pop('ts', None)
        send_tcp(flow.src, flow.sport, flow.dport, flow.isn, 0, 0x02, window=step.get('window', 64240), options=build_options(opts))
        flow.snd_nxt = (flow.isn + 1) & 0xFFFFFFFF
    return {'sent': 'S'}


def do_ack(step):
    flow = get_flow(step, create=False)
    if flow is None or flow.server_isn is None:
        return {'sent': None, 'why': 'no SYN-ACK seen'}
    with flow.lock:
        ack = (flow.last_synack_seq + 1 + int(step.get('ackDelta', 0))) & 0xFFFFFFFF
        data = step.get('data', '').encode()
        flags = 0x10 | (0x08 if data else 0)
        if flow.rcv_nxt is None and not step.get('ackDelta'):
            flow.rcv_nxt = (flow.last_synack_seq + 1) & 0xFFFFFFFF
        flow.last_ack_sent = ack
        send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, ack, flags, window=502, options=flow_ts_opts(flow), payload=data)
        flow.snd_nxt = (flow.snd_nxt + len(data)) & 0xFFFFFFFF
    return {'sent': 'A' if not data else 'PA'}


def do_data(step):
    flow = get_flow(step, create=False)
    if flow is None or flow.rcv_nxt is None:
        return {'sent': None, 'why': 'not established'}
    with flow.lock:
        data = step.get('data', '').encode()
        send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, flow.rcv_nxt, 0x18, window=502, options=flow_ts_opts(flow), payload=data)
        flow.snd_nxt = (flow.snd_nxt + len(data)) & 0xFFFFFFFF
    return {'sent': 'PA'}


def do_fin(step):
    flow = get_flow(step, create=False)
    if flow is None or flow.rcv_nxt is None:
        return {'sent': None, 'why': 'not established'}
    with flow.lock:
        send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, flow.rcv_nxt, 0x11, window=502, options=flow_ts_opts(flow))
        flow.snd_nxt = (flow.snd_nxt + 1) & 0xFFFFFFFF
    return {'sent': 'FA'}


def do_rst(step):
    flow = get_flow(step, create=False)
    if flow is None:
        return {'sent': None, 'why': 'no flow'}
    with flow.lock:
        seq = (flow.snd_nxt + int(step.get('seqDelta', 0))) & 0xFFFFFFFF
        if step.get('withAck') and flow.server_isn is not None:
            send_tcp(flow.src, flow.sport, flow.dport, seq, (flow.last_synack_seq + 1) & 0xFFFFFFFF, 0x14, window=0)
            return {'sent': 'RA'}
        send_tcp(flow.src, flow.sport, flow.dport, seq, 0, 0x04, window=0)
    return {'sent': 'R'}


def do_flood(step):
    n = int(step['count'])
    o = step.get('opts', {'mss': 1460, 'sack': True, 'ws': 7})
    base = step['flow']
    for i in range(n):
        flow = get_flow({'flow': '%s#%d' % (base, i)})
        flow.opts = dict(o)
        opts = dict(o)
        if o.get('ts'):
            opts['ts'] = (flow.tsval(), 0)
        send_tcp(flow.src, flow.sport, flow.dport, flow.isn, 0, 0x02, options=build_options(opts))
        flow.snd_nxt = (flow.isn + 1) & 0xFFFFFFFF
        gap = step.get('gapUs', 0)
        if gap:
            time.sleep(gap / 1e6)
    return {'sent': n}


def do_flood_ack(step):
    """Complete the handshake of every flood flow that got a SYN-ACK."""
    base = step['flow']
    acked = 0
    for label, flow in list(flows.items()):
        if not label.startswith(base + '#') or flow.server_isn is None:
            continue
        with flow.lock:
            flow.rcv_nxt = (flow.last_synack_seq + 1) & 0xFFFFFFFF
            send_tcp(flow.src, flow.sport, flow.dport, flow.snd_nxt, flow.rcv_nxt, 0x10, window=502, options=flow_ts_opts(flow))
        acked += 1
        if step.get('gapUs'):
            time.sleep(step['gapUs'] / 1e6)
    return {'acked': acked}


def do_connect(step):
    count = int(step.get('count', 1))
    labels = []
    for i in range(count):
        label = step['client'] if count == 1 else '%s%d' % (step['client'], i + 1)
        s = socket.socket(AF)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        s.bind(('::' if V6 else '0.0.0.0', 0))
        real[label] = s
        real_by_port[s.getsockname()[1]] = label
        try:
            s.connect((SERVER, PORT))
        except BlockingIOError:
            pass
        except OSError as e:
            pass
        labels.append(label)
        gap = step.get('gapMs', 0)
        if gap and i + 1 < count:
            time.sleep(gap / 1000.0)
    return {'clients': labels}


STATES = {1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE',
          8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING'}


def outcome(s):
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    st = struct.unpack('B', s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[:1])[0]
    if err in (errno.ECONNRESET, errno.ECONNREFUSED, errno.EPIPE):
        return 'reset'
    if err:
        return errno.errorcode.get(err, str(err))
    state = STATES.get(st, str(st))
    if state == 'SYN_SENT':
        return 'timed-out'
    if state in ('ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSING', 'LAST_ACK'):
        return 'connected'
    if state == 'CLOSE':
        return 'reset'
    return state


def do_check(step):
    names = step.get('clients') or sorted(real.keys())
    out = {}
    for label in names:
        s = real.get(label)
        out[label] = outcome(s) if s is not None else 'unknown'
    # crafted flows: established from our side once we ACKed a SYN-ACK and saw no RST
    return {'outcomes': out}


def do_send(step):
    s = real.get(step['client'])
    try:
        s.send(step.get('data', 'x').encode())
        return {'sent': True}
    except OSError as e:
        return {'sent': False, 'error': errno.errorcode.get(e.errno, str(e.errno))}


def do_recv(step):
    s = real.get(step['client'])
    try:
        data = s.recv(65536)
        return {'bytes': len(data), 'eof': len(data) == 0}
    except BlockingIOError:
        return {'bytes': 0, 'eof': False, 'pending': True}
    except OSError as e:
        return {'error': errno.errorcode.get(e.errno, str(e.errno))}


def do_close(step):
    s = real.get(step['client'])
    if step.get('graceful'):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 0, 0))
    s.close()
    return {}


def wait_until(ms):
    end = T_step + ms / 1000.0
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


OPS = {
    'syn': do_syn, 'ack': do_ack, 'data': do_data, 'fin': do_fin, 'rst': do_rst, 'flood': do_flood, 'floodAck': do_flood_ack,
    'connect': do_connect, 'check': do_check, 'send': do_send, 'recv': do_recv, 'close': do_close,
}


def main():
    global T_step
    proto = ETH_P_IPV6 if V6 else ETH_P_IP
    psock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(proto))
    psock.bind((IFACE, proto))
    th = threading.Thread(target=sniffer, args=(psock,), daemon=True)
    th.start()
    results = []
    for k, step in enumerate(plan['steps']):
        step_index[0] = k
        T_step = time.monotonic()
        started = now_ms()
        op = step['op']
        if op == 'wait':
            wait_until(step['ms'])
            res = {}
        elif op == 'snap':
            sys.stdout.write(json.dumps({'sync': k}) + '\n')
            sys.stdout.flush()
            sys.stdin.readline()
            res = {}
        else:
            res = OPS[op](step)
        results.append({'step': k, 'op': op, 't': round(started, 1), 'result': res})
    time.sleep(0.05)
    stop.set()
    th.join(1)
    with cap_lock:
        out = {'result': {'steps': results, 'capture': capture, 'clientSyns': len(client_syns), 'durationMs': round(now_ms(), 1)}}
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
    for s in real.values():
        try:
            s.close()
        except OSError:
            pass


T_step = time.monotonic()
main()

// `ss -ltn` / `ss -ltnH` / `ss -ltne` / `ss -tan` output → listeners with their accept queue
// (spec §5.5: for a listener Recv-Q = sk_ack_backlog, Send-Q = sk_max_ack_backlog) and,
// when the output also lists SYN-RECV sockets (`ss -tan`), the half-open count per port.

import type { Parsed } from './parse-counters.js';

export interface ListenerLine {
  address: string;
  port: number;
  /** Children waiting for accept(). */
  recvQ: number;
  /** min(listen() backlog, somaxconn). */
  sendQ: number;
  /** SYN-RECV sockets on this port, when the output lists them; null otherwise. */
  synRecv: number | null;
}

/** `ADDR:PORT` as ss prints it: `10.0.0.1:80`, `[::]:22`, `*:80`, `127.0.0.53%lo:53`. */
export function splitEndpoint(endpoint: string): { address: string; port: number } | null {
  const cut = endpoint.lastIndexOf(':');
  if (cut <= 0) return null;
  const port = endpoint.slice(cut + 1);
  if (!/^\d+$/.test(port)) return null;
  return { address: endpoint.slice(0, cut), port: Number(port) };
}

const NETIDS = new Set(['tcp', 'udp', 'raw', 'u_str', 'u_dgr', 'u_seq', 'sctp', 'mptcp']);

export function parseSsListeners(text: string): Parsed<ListenerLine[]> {
  const listeners: ListenerLine[] = [];
  const synRecvByPort = new Map<number, number>();
  let sawSocketList = false;
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const tokens = raw.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0 || tokens[0] === 'State' || tokens[0] === 'Netid') continue;
    if (NETIDS.has(tokens[0]!)) tokens.shift();
    const [state, recvQ, sendQ, local] = tokens;
    const endpoint = local === undefined ? null : splitEndpoint(local);
    if (state === undefined || !/^\d+$/.test(recvQ ?? '') || !/^\d+$/.test(sendQ ?? '') || endpoint === null) {
      // ss -e continuation text and the like: only a line that starts like a row is malformed.
      if (/^[A-Z][A-Z0-9-]+$/.test(state ?? '')) malformed += 1;
      continue;
    }
    if (state === 'LISTEN' || state === 'UNCONN') {
      if (state === 'LISTEN') listeners.push({ ...endpoint, recvQ: Number(recvQ), sendQ: Number(sendQ), synRecv: null });
      continue;
    }
    sawSocketList = true;
    if (state === 'SYN-RECV') synRecvByPort.set(endpoint.port, (synRecvByPort.get(endpoint.port) ?? 0) + 1);
  }
  if (sawSocketList) for (const l of listeners) l.synRecv = synRecvByPort.get(l.port) ?? 0;
  return { value: listeners, malformed };
}

/** A listener as doctor names it: `ADDR:PORT`. */
export function listenerName(listener: { address: string; port: number }): string {
  return `${listener.address}:${listener.port}`;
}

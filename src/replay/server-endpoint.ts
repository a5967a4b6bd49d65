// Which address:port of a capture is "the server": `--server ADDR:PORT` (`[ADDR]:PORT` for
// IPv6), or the endpoint that receives the most SYNs in either family (issue 17). Detection
// is one streaming pass of its own, so the replay pass can feed segments from the first one on.

import { usageError, SyndropError } from '../errors.js';
import { isIpv6Key, type Ipv6Peers } from '../stack/peers6.js';
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from '../wire/addr.js';
import { TcpFlag } from '../wire/tcp.js';
import { CaptureReader } from './capture-reader.js';
import { CapturedSegment, SegmentLoad } from './captured-segment.js';

/**
 * Plain data (it crosses to the grid's worker threads): an IPv4 server by its address; an
 * IPv6 one by its four address words, `address` then 0 until a pass interns it (`serverKey`).
 */
export interface ServerEndpoint {
  address: number;
  port: number;
  address6?: number[];
}

export function endpointToString(endpoint: ServerEndpoint): string {
  return endpoint.address6 === undefined ? `${ipv4ToString(endpoint.address)}:${endpoint.port}` : `[${ipv6ToString(endpoint.address6)}]:${endpoint.port}`;
}

/** The server's address as a pass's segments carry it: IPv4 as is, IPv6 as its key in `peers6`. */
export function serverKey(endpoint: ServerEndpoint, peers6: Ipv6Peers): number {
  return endpoint.address6 === undefined ? endpoint.address : peers6.internWords(endpoint.address6);
}

export function parseServerEndpoint(text: string): ServerEndpoint {
  const trimmed = text.trim();
  const v6 = /^\[([0-9A-Fa-f:]+)\]:(\d+)$/.exec(trimmed);
  if (v6 !== null) {
    const words = parseIpv6(v6[1]!);
    const port = Number(v6[2]);
    if (words === null || port < 1 || port > 65535) throw usageError(`--server ${text}: expected [IPv6ADDR]:PORT, e.g. [fd77::2]:80`);
    return { address: 0, port, address6: [...words] };
  }
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(trimmed);
  const address = match === null ? -1 : parseIpv4(match[1]!);
  const port = match === null ? 0 : Number(match[2]);
  if (address < 0 || port < 1 || port > 65535) throw usageError(`--server ${text}: expected IPv4ADDR:PORT or [IPv6ADDR]:PORT, e.g. 10.77.0.2:80 or [fd77::2]:80`);
  return { address, port };
}

/** The endpoint receiving the most SYNs, IPv4 or IPv6 (ties: the one seen first). */
export function detectServer(path: string): ServerEndpoint {
  const reader = CaptureReader.open(path);
  const segment = new CapturedSegment();
  const syns = new Map<number, number>();
  /** Addresses SYNs went to: the only IPv6 keys this pass keeps (a flood's sources are swept). */
  const destinations = new Set<number>();
  try {
    while (reader.next()) {
      if (segment.peers6.wantsSweep) segment.peers6.sweep((key) => destinations.has(key));
      if (segment.load(reader.buf, reader.ipOffset, reader.ipLength) !== SegmentLoad.TCP) continue;
      if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) continue;
      const key = segment.dstAddr * 65536 + segment.dstPort;
      syns.set(key, (syns.get(key) ?? 0) + 1);
      destinations.add(segment.dstAddr);
    }
  } finally {
    reader.close();
  }
  let best = -1;
  let bestCount = 0;
  for (const [key, count] of syns) {
    if (count > bestCount) {
      best = key;
      bestCount = count;
    }
  }
  if (best < 0) throw new SyndropError('SYNDROP_ERR_BAD_CAPTURE', `${path}: no TCP SYN in the capture, so no server to replay (give --server ADDR:PORT)`);
  const address = Math.floor(best / 65536);
  const port = best % 65536;
  if (!isIpv6Key(address)) return { address, port };
  return { address: 0, port, address6: [0, 1, 2, 3].map((i) => segment.peers6.word(address, i)) };
}

// Which address:port of a capture is "the server": `--server ADDR:PORT`, or the endpoint
// that receives the most SYNs (issue 17). Detection is one streaming pass of its own, so
// the replay pass can feed segments from the first one on.

import { usageError, SyndropError } from '../errors.js';
import { ipv4ToString, parseIpv4 } from '../wire/addr.js';
import { TcpFlag } from '../wire/tcp.js';
import { CaptureReader } from './capture-reader.js';
import { CapturedSegment, SegmentLoad } from './captured-segment.js';

export interface ServerEndpoint {
  address: number;
  port: number;
}

export function endpointToString(endpoint: { address: number; port: number }): string {
  return `${ipv4ToString(endpoint.address)}:${endpoint.port}`;
}

export function parseServerEndpoint(text: string): ServerEndpoint {
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text.trim());
  const address = match === null ? -1 : parseIpv4(match[1]!);
  const port = match === null ? 0 : Number(match[2]);
  if (address < 0 || port < 1 || port > 65535) throw usageError(`--server ${text}: expected IPv4ADDR:PORT, e.g. 10.77.0.2:80`);
  return { address, port };
}

/** The endpoint receiving the most SYNs (ties: the one seen first). */
export function detectServer(path: string): ServerEndpoint {
  const reader = CaptureReader.open(path);
  const segment = new CapturedSegment();
  const syns = new Map<number, number>();
  try {
    while (reader.next()) {
      if (segment.load(reader.buf, reader.ipOffset, reader.ipLength) !== SegmentLoad.TCP) continue;
      if ((segment.flags & (TcpFlag.SYN | TcpFlag.ACK)) !== TcpFlag.SYN) continue;
      const key = segment.dstAddr * 65536 + segment.dstPort;
      syns.set(key, (syns.get(key) ?? 0) + 1);
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
  if (best < 0) throw new SyndropError('SYNDROP_ERR_BAD_CAPTURE', `${path}: no IPv4 TCP SYN in the capture, so no server to replay (give --server ADDR:PORT)`);
  return { address: Math.floor(best / 65536), port: best % 65536 };
}

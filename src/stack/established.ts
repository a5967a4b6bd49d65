// Input to a full socket (tcp_rcv_established / tcp_validate_incoming, simplified): PAWS,
// window, RST and SYN checks, then the connection's own ACK/data/FIN processing.

import type { Connection } from './conn.js';
import type { Host } from './host.js';
import { Counter } from './mib.js';
import { inWindow } from './seq.js';
import { sendTimewaitAck } from './timewait-input.js';
import { Verdict } from './verdict.js';
import { TcpFlag } from '../wire/tcp.js';

export function connReceive(host: Host, conn: Connection): number {
  const tcp = host.tcp;
  const o = host.options;
  const flags = tcp.flags;
  const seq = tcp.seq;
  const length = tcp.payloadLength + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
  // PAWS (tcp_validate_incoming).
  if (conn.timestamps && o.hasTimestamps && ((conn.tsRecent - o.tsVal) | 0) > 0 && (flags & TcpFlag.RST) === 0) {
    host.counters[Counter.PAWSEstab]!++;
    host.sendConnAck(conn);
    return Verdict.NONE;
  }
  const rcvWindow = conn.window << conn.ourWindowScale;
  if (!inWindow(seq, (seq + length) >>> 0, conn.rcvNxt, (conn.rcvNxt + Math.max(rcvWindow, 1)) >>> 0)) {
    if ((flags & TcpFlag.RST) === 0) host.sendConnAck(conn);
    return Verdict.NONE;
  }
  if ((flags & TcpFlag.RST) !== 0) {
    if (seq !== conn.rcvNxt) {
      host.sendConnAck(conn);
      host.counters[Counter.TCPChallengeACK]!++;
      return Verdict.NONE;
    }
    host.connResetByPeer(conn);
    return Verdict.CONN_RESET;
  }
  if ((flags & TcpFlag.SYN) !== 0) {
    // RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK.
    host.sendConnAck(conn);
    host.counters[Counter.TCPChallengeACK]!++;
    return Verdict.NONE;
  }
  if ((flags & TcpFlag.ACK) === 0) return Verdict.NONE;
  if (o.hasTimestamps && conn.timestamps && ((seq - conn.rcvNxt) | 0) <= 0) {
    conn.tsRecent = o.tsVal;
    conn.tsRecentStamp = host.nowSeconds();
  }
  const owed = conn.receiveSegment(flags, seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength);
  if (owed && !conn.isClosed() && host.connections.has(conn.id)) host.sendConnAck(conn);
  else if (owed && host.timewaitJustEntered >= 0) sendTimewaitAck(host, host.timewaitJustEntered);
  host.timewaitJustEntered = -1;
  return Verdict.NONE;
}

// Input to a full socket (tcp_rcv_established / tcp_validate_incoming, simplified): PAWS,
// window, RST and SYN checks, then the connection's own ACK/data/FIN processing.

import { TcpFlag } from '../wire/tcp.js';
import { ConnState, type Connection } from './conn.js';
import { unhashConnection } from './conn-table.js';
import { FLOW_TIMEWAIT } from './constants.js';
import { Counter } from './mib.js';
import { apply } from './output.js';
import type { Segment } from './segment.js';
import { inWindow } from './seq.js';
import { sendConnAck } from './sockets.js';
import type { KernelState } from './state.js';
import { sendTimewaitAck } from './timewait-sock.js';
import { Verdict } from './verdict.js';

export function connReceive(state: KernelState, seg: Segment, conn: Connection): number {
  const tcp = seg.tcp;
  const o = seg.options;
  const flags = tcp.flags;
  const seq = tcp.seq;
  const length = tcp.payloadLength + ((flags & TcpFlag.FIN) !== 0 ? 1 : 0);
  // PAWS (tcp_validate_incoming).
  if (conn.timestamps && o.hasTimestamps && ((conn.tsRecent - o.tsVal) | 0) > 0 && (flags & TcpFlag.RST) === 0) {
    state.counters[Counter.PAWSEstab]!++;
    sendConnAck(state, conn);
    return Verdict.NONE;
  }
  const rcvWindow = conn.receiveWindow;
  if (!inWindow(seq, (seq + length) >>> 0, conn.rcvNxt, (conn.rcvNxt + Math.max(rcvWindow, 1)) >>> 0)) {
    if ((flags & TcpFlag.RST) === 0) sendConnAck(state, conn);
    return Verdict.NONE;
  }
  if ((flags & TcpFlag.RST) !== 0) {
    if (seq !== conn.rcvNxt) {
      sendConnAck(state, conn);
      state.counters[Counter.TCPChallengeACK]!++;
      return Verdict.NONE;
    }
    const counted = conn.state === ConnState.ESTABLISHED || conn.state === ConnState.CLOSE_WAIT;
    apply(state, seg, counted ? Verdict.CONN_RESET : Verdict.CONN_RESET_QUIET);
    unhashConnection(state, conn, 'reset');
    return Verdict.CONN_RESET;
  }
  if ((flags & TcpFlag.SYN) !== 0) {
    // RFC 5961 §4: a SYN in a synchronized state gets a challenge ACK.
    sendConnAck(state, conn);
    state.counters[Counter.TCPChallengeACK]!++;
    return Verdict.NONE;
  }
  if ((flags & TcpFlag.ACK) === 0) return Verdict.NONE;
  if (o.hasTimestamps && conn.timestamps && ((seq - conn.rcvNxt) | 0) <= 0) {
    conn.tsRecent = o.tsVal;
    conn.tsRecentStamp = state.nowSeconds();
  }
  if (!conn.receiveSegment(flags, seq, tcp.ack, tcp.window, tcp.buf, tcp.payloadOffset, tcp.payloadLength)) return Verdict.NONE;
  // A FIN in FIN_WAIT_2 met the timewait minisock: its ACK goes out from the bucket.
  const flow = state.flows.get(conn.peerAddr, conn.peerPort, conn.localPort);
  if (flow >= 0 && (flow & 3) === FLOW_TIMEWAIT) sendTimewaitAck(state, flow >>> 2);
  return Verdict.NONE;
}

// Full sockets in the ehash: a connection leaves it (tcp_done / inet_unhash) in one place,
// whichever way it ends — closed, reset, timed out or turned into a TIME_WAIT bucket.

import { ConnState, type Connection } from './conn.js';
import type { KernelState } from './state.js';

export type ConnectionEnd = 'closed' | 'reset' | 'timeout';

export function unhashConnection(state: KernelState, conn: Connection, why: ConnectionEnd): void {
  if (conn.isClosed()) return;
  conn.setState(ConnState.CLOSED);
  state.connections.delete(conn.id);
  state.flows.delete(conn.peerAddr, conn.peerPort, conn.localPort);
  state.connTimers.cancel(conn.id);
  if (conn.handler !== null) conn.handler.onClosed(conn, why);
}

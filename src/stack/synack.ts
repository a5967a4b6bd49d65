// What a request sends: the SYN-ACK (tcp_make_synack, options as Linux writes them, spec
// §1.10) and the bare ACK of tcp_v4_reqsk_send_ack.

import type { SegmentSpec } from '../wire/builder.js';
import { TcpFlag } from '../wire/tcp.js';
import { emit } from './output.js';
import { initialReceiveWindow, offeredWindowScale } from './receive-window.js';
import { ReqFlag } from './reqsk.js';
import type { KernelState } from './state.js';

/** The SYN-ACK for a queued request (tcp_make_synack): options as Linux writes them (spec §1.10). */
export function sendRequestSynAck(state: KernelState, slot: number, isn: number, retransmit: boolean): void {
  const r = state.requests;
  const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
  const spec = synAckSpec(
    state,
    r.peerAddr[slot]!,
    r.peerPort[slot]!,
    r.localPort[slot]!,
    isn,
    r.rcvIsn[slot]! | 0,
    (r.flags[slot]! & ReqFlag.SACK) !== 0,
    r.peerWindowScale[slot]!,
    tstampOk,
  );
  // tcp_ecn_make_synack: a request that negotiated ECN says ECE on every SYN-ACK.
  if ((r.flags[slot]! & ReqFlag.ECN) !== 0) spec.flags |= TcpFlag.ECE;
  if (tstampOk) {
    let tsVal = (state.tsNow() + r.tsOffset[slot]!) | 0;
    if (state.switches.requestTsecrCheck) {
      // tcp_synack_options (6.15+): remember the first and latest TSval; a first TSval of 0
      // is sent as ~0 so that 0 can mean "none yet".
      if (r.sntTsvalFirst[slot] === 0) {
        if (tsVal === 0) tsVal = -1;
        r.sntTsvalFirst[slot] = tsVal;
      }
      r.sntTsvalLast[slot] = tsVal;
    }
    spec.tsVal = tsVal;
    spec.tsEcr = r.tsRecent[slot]!;
  }
  emit(state, spec);
  if (retransmit) r.numRetrans[slot]!++;
}

/** The SYN-ACK's fields before timestamps (shared by queued requests and cookies). */
export function synAckSpec(
  state: KernelState,
  peerAddr: number,
  peerPort: number,
  localPort: number,
  isn: number,
  clientIsn: number,
  sackOk: boolean,
  peerWindowScale: number,
  tstampOk: boolean,
): SegmentSpec {
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = peerAddr;
  spec.srcPort = localPort;
  spec.dstPort = peerPort;
  spec.seq = isn;
  spec.ack = (clientIsn + 1) | 0;
  spec.flags = TcpFlag.SYN | TcpFlag.ACK;
  spec.window = requestReceiveWindow(state, tstampOk, peerAddr);
  spec.mss = state.mssFor(peerAddr);
  spec.sackPermitted = sackOk;
  spec.windowScale = peerWindowScale >= 0 ? offeredWindowScale(state.sysctls.hot) : -1;
  spec.hasTimestamps = tstampOk;
  return spec;
}

/** tcp_v4_reqsk_send_ack: seq snt_isn+1, ack rcv_nxt, our window, TSecr = ts_recent. */
export function sendRequestAck(state: KernelState, slot: number): void {
  const r = state.requests;
  const tstampOk = (r.flags[slot]! & ReqFlag.TIMESTAMPS) !== 0;
  const spec = state.spec.reset();
  spec.srcAddr = state.address;
  spec.dstAddr = r.peerAddr[slot]!;
  spec.srcPort = r.localPort[slot]!;
  spec.dstPort = r.peerPort[slot]!;
  spec.seq = (r.sntIsn[slot]! + 1) >>> 0;
  spec.ack = (r.rcvIsn[slot]! + 1) >>> 0;
  spec.flags = TcpFlag.ACK;
  // rsk_rcv_wnd >> rcv_wscale: shifted without rounding, unlike a full socket's window.
  const ws = r.peerWindowScale[slot]! >= 0 ? offeredWindowScale(state.sysctls.hot) : 0;
  spec.window = requestReceiveWindow(state, tstampOk, spec.dstAddr) >>> ws;
  spec.ipId = state.ctlReplyIpId(spec.dstAddr);
  if (tstampOk) {
    spec.hasTimestamps = true;
    spec.tsVal = (state.tsNow() + r.tsOffset[slot]!) >>> 0;
    spec.tsEcr = r.tsRecent[slot]!;
  }
  emit(state, spec);
}

/**
 * tcp_openreq_init_rwin: the request's rcv_wnd, from our advertised MSS towards the peer's
 * family less the TS option (measured on 6.18 over IPv6: 64260 = 45 × 1428 with TS, 64800
 * = 45 × 1440 without).
 */
export function requestReceiveWindow(state: KernelState, tstampOk: boolean, peerAddr: number): number {
  return initialReceiveWindow(state.switches, state.sysctls.hot, state.mssFor(peerAddr) - (tstampOk ? 12 : 0));
}

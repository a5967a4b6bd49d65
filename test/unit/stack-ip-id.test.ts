// IP ids per version (spec §8c): SYN-ACKs 0 everywhere; a full socket counts up from a random
// start; ACKs and RSTs of the control socket (request, TIME_WAIT, listener) are non-zero on
// 3.10 / 4.x up to 4.15 and 0 from 4.17 (6.1, 6.18 measured).

import { describe, expect, it } from 'vitest';
import { HttpApp } from '../../src/app/handlers.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';
import { CLIENT_C, only, serverClosedConnection } from '../helpers/vectors.js';

const CTL_NONZERO = ['3.10', 'centos7', '4.4', '4.4-late', '4.9', '4.9-late', '4.10', '4.15'];
const CTL_ZERO = ['4.19', '5.4', '5.10', '5.15', '6.1', '6.1-late', '6.1-latest', '6.8', '6.12', '6.12-late', '6.x'];
const GET = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: s\r\n\r\n');

function harness(kernel: string): StackHarness {
  const h = new StackHarness(kernel, [], { seed: 7 });
  h.app.listen(80, 128, { handler: new HttpApp() });
  return h;
}

describe.each([...CTL_NONZERO, ...CTL_ZERO])('%s: IP ids (spec §8c)', (kernel) => {
  const ctlNonZero = CTL_NONZERO.includes(kernel);

  it(`${kernel}: SYN-ACK id 0; the connection's segments count up by one from a start that is not 0`, () => {
    const h = harness(kernel);
    const synAck = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1000 }).replies);
    expect(synAck.ipId).toBe(0);
    h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK, tsVal: 101, tsEcr: synAck.tsVal! });
    const replies = h.segment({ src: CLIENT_C, srcPort: 5000, seq: 1001, ack: synAck.seq + 1, flags: TcpFlag.ACK | TcpFlag.PSH, tsVal: 102, payload: GET }).replies;
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(replies[0]!.ipId).not.toBe(0);
    replies.forEach((r, i) => expect(r.ipId).toBe((replies[0]!.ipId + i) & 0xffff));
  });

  it(`${kernel}: TIME_WAIT ACK and a listener RST: ${ctlNonZero ? 'non-zero ids' : 'id 0'}`, () => {
    const h = harness(kernel);
    const tw = serverClosedConnection(h, 5000, CLIENT_C);
    const again = only(h.segment({ src: CLIENT_C, srcPort: 5000, seq: tw.rcvNxt - 1, ack: tw.sndNxt, flags: TcpFlag.ACK | TcpFlag.FIN, tsVal: 200 }).replies);
    expect(again.flags).toBe(TcpFlag.ACK);
    const rst = only(h.segment({ src: CLIENT_C, srcPort: 6000, seq: 1, ack: 12345, flags: TcpFlag.ACK, tsVal: null }).replies);
    expect(rst.flags & TcpFlag.RST).toBe(TcpFlag.RST);
    if (ctlNonZero) {
      expect(again.ipId).not.toBe(0);
      expect(rst.ipId).not.toBe(0);
    } else {
      expect(again.ipId).toBe(0);
      expect(rst.ipId).toBe(0);
    }
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { CapturedSegment, SegmentLoad } from '../../src/replay/captured-segment.js';
import { DEFAULT_RTT_MS, measureHandshakeRtts } from '../../src/replay/handshake-rtt.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { runReplay, type ReplayOptions } from '../../src/replay/replay.js';
import { conversationReplay } from '../helpers/replay-options.js';
import { replayJson } from '../../src/replay/replay-result.js';
import { detectServer } from '../../src/replay/server-endpoint.js';
import { recordConversation, firstClientPort } from '../helpers/recorded-conversation.js';
import { CLIENT_C, SERVER } from '../helpers/stack-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The accept-overflow story (README, spec §1.1 C3 / §1.2 D2): backlog 2 → the accept queue
// holds 3, the application never accepts, 6 clients 10 ms apart.
const story = { backlog: 2, acceptRate: 0, clients: 6, spacingMs: 10, untilMs: 2500 };
const capture6x = join(dir, 'overflow-6x.pcap');
const capture310 = join(dir, 'overflow-310.pcap');
const real6x = recordConversation(capture6x, { kernel: '6.x', ...story });
const real310 = recordConversation(capture310, { kernel: '3.10', ...story });

function replay(capturePath: string, kernel: string, extra: Partial<ReplayOptions> = {}) {
  return runReplay(conversationReplay(capturePath, kernel, extra));
}

const byPort = (connections: Array<{ client: string }>) => connections.map((c) => Number(c.client.split(':')[1]) - firstClientPort + 1);

describe('replay of a capture through the same kernel reproduces its decisions', () => {
  it('6.x capture, 6.x profile: clients 1–3 established, 4–6 dropped, nothing diverged (spec §1.2 D2)', () => {
    const result = replay(capture6x, '6.x');
    expect(byPort(result.connections)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.connections.map((c) => [c.real, c.emulated, c.diverged])).toEqual([
      ['established', 'established', false],
      ['established', 'established', false],
      ['established', 'established', false],
      ['dropped', 'dropped', false],
      ['dropped', 'dropped', false],
      ['dropped', 'dropped', false],
    ]);
    // Each dropped client sent its SYN and one retransmit within 2.5 s: 3 × 2 overflows.
    expect(result.counters.TcpExtListenOverflows).toBe(6);
    expect(result.counters.TcpExtListenDrops).toBe(6);
    // The server that made the capture counted the same.
    expect(real6x.listenDeltas()).toMatchObject({ ListenOverflows: 6, ListenDrops: 6 });
    expect(result.summary.emulatedDropsByReason).toEqual({ ACCEPTQ_FULL: 6 });
    expect(result.findings.map((f) => f.id)).toEqual(['accept-overflow']);
  });

  it('3.10 capture, 3.10 profile: the ghosts are read off the capture and reproduced (spec §1.1 C3, §3.2)', () => {
    // 3.10's prune walk visits SYN-table buckets by a keyed hash (spec §4.2): replayed with
    // the recording host's key (the harness seed, 42) its retransmits fall on the same ticks.
    const result = replay(capture310, '3.10', { seed: 42 });
    const outcomes = result.connections.map((c) => [c.real, c.emulated, c.diverged]);
    expect(outcomes.slice(0, 5)).toEqual([
      ['established', 'established', false],
      ['established', 'established', false],
      ['established', 'established', false],
      ['ghost', 'ghost', false],
      ['ghost', 'ghost', false],
    ]);
    expect(result.connections[5]!.emulatedVerdicts[0]).toBe('DROP_ACCEPTQ_FULL_YOUNG');
    expect(result.summary.diverged).toBe(0);
    expect(real310.listenDeltas().ListenOverflows).toBe(result.counters.TcpExtListenOverflows);
  });
});

describe('replay through another kernel, open loop', () => {
  it('3.10 capture through 6.x: the ghosts become dropped SYNs; their captured ACKs are stray ACKs answered with RST', () => {
    const result = replay(capture310, '6.x');
    const ghosts = result.connections.slice(3, 5);
    expect(ghosts.map((c) => [c.real, c.emulated, c.diverged])).toEqual([
      ['ghost', 'dropped', true],
      ['ghost', 'dropped', true],
    ]);
    for (const ghost of ghosts) expect(ghost.emulatedVerdicts.slice(0, 2)).toEqual(['DROP_ACCEPTQ_FULL', 'RST_STRAY_ACK']);
  });

  it('6.x capture through 3.10: the young rule answers clients 4 and 5, which never complete (half-open)', () => {
    const result = replay(capture6x, '3.10');
    expect(result.connections.slice(0, 5).map((c) => [c.real, c.emulated])).toEqual([
      ['established', 'established'],
      ['established', 'established'],
      ['established', 'established'],
      ['dropped', 'half-open'],
      ['dropped', 'half-open'],
    ]);
    expect(result.connections[5]!.emulatedVerdicts[0]).toBe('DROP_ACCEPTQ_FULL_YOUNG');
    expect(result.summary.diverged).toBeGreaterThanOrEqual(2);
  });

  it('a larger backlog on the same capture: every client that kept trying is established', () => {
    const result = replay(capture6x, '6.x', { backlog: 128 });
    expect(result.summary.emulated.established).toBe(3);
    // Clients 4–6 sent only SYNs (the real server never answered): the emulated server's
    // SYN-ACKs meet no ACK in the capture, so they stay half-open — open loop, stated per connection.
    expect(result.summary.emulated['half-open']).toBe(3);
    expect(result.counters.TcpExtListenOverflows).toBeUndefined();
  });
});

describe('output', () => {
  it('--json carries the issue shape: server, kernel, connections {client, real, emulated, diverged}, counters', () => {
    const json = replayJson(replay(capture6x, '6.x')) as Record<string, unknown>;
    expect(json.server).toBe('10.0.0.1:80');
    expect(json.kernel).toBe('6.x');
    expect((json.connections as object[])[0]).toEqual({ client: `10.0.0.2:${firstClientPort}`, real: 'established', emulated: 'established', diverged: false });
    expect((json.counters as Record<string, number>).TcpExtListenOverflows).toBe(6);
  });

  it('--out writes every client segment and every emulated reply, drops with the reason as a comment', () => {
    const out = join(dir, 'replay-out.pcapng');
    const result = replay(capture6x, '6.x', { outPath: out });
    const reader = CaptureReader.open(out);
    let packets = 0;
    while (reader.next()) packets++;
    reader.close();
    // 3 established clients: SYN + ACK in, SYN-ACK out; 3 dropped: 2 SYNs each, no reply.
    expect(result.input.clientSegments).toBe(3 * 2 + 3 * 2);
    expect(packets).toBe(result.input.clientSegments + 3);
    const text = readFileSync(out).toString('latin1');
    expect(text.split('syndrop 6.x: ACCEPTQ_FULL').length - 1).toBe(6);
  });

  it('the server is detected as the endpoint receiving the most SYNs', () => {
    expect(detectServer(capture6x)).toEqual({ address: SERVER, port: 80 });
  });

  it('the series counts SYNs in, SYN-ACKs and drops per second, and the accept queue it held', () => {
    const [first, second] = replay(capture6x, '6.x').series.buckets;
    expect(first).toMatchObject({ t: 0, synsIn: 6, synAcks: 3, established: 3, drops: { ACCEPTQ_FULL: 3 }, acceptQueueMax: 3, acceptQueueEnd: 3 });
    expect(second).toMatchObject({ t: 1000, synsIn: 3, synAcks: 0, drops: { ACCEPTQ_FULL: 3 } });
  });
});

describe('--complete-handshakes: the client ACK of a SYN-ACK the real server never sent', () => {
  const completed = (kernel: string, extra: Partial<ReplayOptions> = {}) => replay(capture6x, kernel, { completeHandshakes: true, ...extra });

  it('the client RTT is measured in the capture: its ACK 1 ms after its SYN; a client without one gets the median, an empty capture the default', () => {
    const rtts = measureHandshakeRtts(capture6x, { address: SERVER, port: 80 });
    expect(rtts.handshakes).toBe(3);
    expect(rtts.rttMicros(CLIENT_C)).toBe(1000);
    expect(rtts.rttMicros(CLIENT_C + 1)).toBe(1000);
    expect(measureHandshakeRtts(capture6x, { address: SERVER, port: 81 }).rttMicros(CLIENT_C)).toBe(DEFAULT_RTT_MS * 1000);
  });

  it('6.x capture through 3.10: clients 4 and 5 become ghosts, their synthesized ACKs meeting the full accept queue (spec §1.1 C3, §3.2)', () => {
    const result = completed('3.10');
    expect(result.connections.slice(0, 5).map((c) => [c.real, c.emulated, c.diverged])).toEqual([
      ['established', 'established', false],
      ['established', 'established', false],
      ['established', 'established', false],
      ['dropped', 'ghost', true],
      ['dropped', 'ghost', true],
    ]);
    for (const ghost of result.connections.slice(3, 5)) expect(ghost.emulatedVerdicts.slice(0, 2)).toEqual(['SYN_QUEUED', 'REQ_ACCEPTQ_OVERFLOW']);
    // One ACK per emulated SYN-ACK (a real client answers each): client 4 got its first, the
    // 1 s timer retransmit and the answer to its own SYN retransmit; client 5 its first and the
    // answer to its SYN retransmit. Clients 1–3 were answered by the real server: none.
    expect(result.connections.map((c) => c.synthesized)).toEqual([0, 0, 0, 3, 2, 0]);
    expect(result.input.synthesized).toBe(5);
    // Client 6's first SYN meets two young requests (spec §1.1 C3); its retransmit is answered
    // at the capture's last packet, whose ACK would fall due after the capture ended.
    expect(result.connections[5]!.emulatedVerdicts[0]).toBe('DROP_ACCEPTQ_FULL_YOUNG');
    expect(result.connections[5]!.emulated).toBe('half-open');
    // Every synthesized ACK overflowed, and the young-rule drop of client 6's SYN counted too.
    expect(result.counters.TcpExtListenOverflows).toBe(6);
    const json = replayJson(result) as { connections: Array<{ synthesized: number }> };
    expect(json.connections.map((c) => c.synthesized)).toEqual([0, 0, 0, 3, 2, 0]);
  });

  it('without the option the same replay stays open loop: no synthesized field, clients 4 and 5 half-open', () => {
    const result = replay(capture6x, '3.10');
    expect(result.connections.slice(3, 5).map((c) => c.emulated)).toEqual(['half-open', 'half-open']);
    expect(result.input.synthesized).toBeUndefined();
    expect(Object.keys((replayJson(result) as { connections: object[] }).connections[0]!)).toEqual(['client', 'real', 'emulated', 'diverged']);
  });

  it('6.x capture through 6.x: the real server answered every SYN-ACK the emulated one sent, nothing is synthesized', () => {
    const result = completed('6.x');
    expect(result.input.synthesized).toBe(0);
    expect(result.connections.map((c) => c.emulated)).toEqual(replay(capture6x, '6.x').connections.map((c) => c.emulated));
  });

  it('the synthesized ACK: seq ISN+1, ack the emulated ISN+1, TSval advanced by the RTT, TSecr the SYN-ACK TSval, the SYN window scaled; marked in --out', () => {
    const out = join(dir, 'replay-complete.pcapng');
    completed('3.10', { outPath: out });
    const reader = CaptureReader.open(out);
    const segment = new CapturedSegment();
    const fourthPort = firstClientPort + 3;
    let synAck: { seq: number; tsVal: number; micros: number } | null = null;
    let ack: { seq: number; ack: number; tsVal: number; tsEcr: number; window: number; micros: number } | null = null;
    while (reader.next() && ack === null) {
      expect(segment.load(reader.buf, reader.ipOffset, reader.ipLength)).toBe(SegmentLoad.TCP);
      if (segment.dstPort === fourthPort && segment.flags === (TcpFlag.SYN | TcpFlag.ACK)) synAck = { seq: segment.seq, tsVal: segment.tsVal, micros: reader.timeMicros };
      // The capture holds no ACK from client 4: the first one in --out is synthesized.
      if (segment.srcPort === fourthPort && segment.flags === TcpFlag.ACK) ack = { seq: segment.seq, ack: segment.ack, tsVal: segment.tsVal, tsEcr: segment.tsEcr, window: segment.window, micros: reader.timeMicros };
    }
    reader.close();
    // The recorded client's SYN at 30 ms: seq 1000, TSval 130, window 64240, wscale 7.
    expect(ack).toEqual({ seq: 1001, ack: (synAck!.seq + 1) >>> 0, tsVal: 131, tsEcr: synAck!.tsVal, window: 64240 >> 7, micros: synAck!.micros + 1000 });
    const text = readFileSync(out).toString('latin1');
    expect(text.split('synthesized client ACK (--complete-handshakes)').length - 1).toBe(5);
  });
});

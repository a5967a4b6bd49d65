// Replay of IPv6 captures: crafted IPv6 frames through every link layer the reader knows, the
// captured segment's IPv6 view and rewrite, and the accept-overflow story recorded over IPv6
// by a harness host (the "real server") replayed through kernel profiles, as replay.test.ts
// does over IPv4.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { CapturedSegment, SegmentLoad } from '../../src/replay/captured-segment.js';
import { replayGrid } from '../../src/offline/grid-pool.js';
import { LinkType } from '../../src/replay/link-layer.js';
import { runReplay, type ReplayOptions } from '../../src/replay/replay.js';
import { replayJson } from '../../src/replay/replay-result.js';
import { renderReplay } from '../../src/replay/replay-text.js';
import { detectServer, endpointToString, parseServerEndpoint } from '../../src/replay/server-endpoint.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { ethernet, linuxCooked, linuxCookedV2, pcapFile, pcapngFile, type CapturedFrame } from '../helpers/capture-files.js';
import { withExtensions } from '../helpers/ipv6-frames.js';
import { asIpv6, CLIENT6, firstClientPort, recordConversation, SERVER6 } from '../helpers/recorded-conversation.js';
import { refFold, refSum } from '../helpers/reference-checksum.js';
import { conversationReplay } from '../helpers/replay-options.js';
import { StackHarness } from '../helpers/stack-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_123_456;
const harness = new StackHarness('6.x');
const syn6 = asIpv6(harness.frame({ srcPort: 40001 }));
const ack6 = asIpv6(harness.frame({ srcPort: 40001, flags: TcpFlag.ACK, seq: 1001, ack: 7 }));
const SERVER6_TEXT = 'fd77::2';
const SERVER6_ENDPOINT = { address: 0, port: 80, address6: [...SERVER6] };

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Every packet the reader hands on, as bytes, and its stats. */
function readAll(path: string) {
  const reader = CaptureReader.open(path);
  const packets: number[][] = [];
  while (reader.next()) packets.push([...reader.buf.subarray(reader.ipOffset, reader.ipOffset + reader.ipLength)]);
  reader.close();
  return { packets, stats: reader.stats };
}

/** A BSD/Linux loopback header: the address family in the writer's (here little-endian) byte order. */
function loopback(ip: Uint8Array, family: number): Uint8Array {
  return Buffer.concat([Buffer.from([family, 0, 0, 0]), ip]);
}

const frames = (wrap: (ip: Uint8Array) => Uint8Array): CapturedFrame[] => [
  { timeMicros: T0, bytes: wrap(syn6) },
  { timeMicros: T0 + 1500, bytes: wrap(ack6) },
];

describe('link layers: the IPv6 packet is handed on, not skipped', () => {
  const cases: Array<[string, number, (ip: Uint8Array) => Uint8Array]> = [
    ['Ethernet, ethertype 0x86dd', LinkType.ETHERNET, (ip) => ethernet(ip, 0x86dd)],
    ['Ethernet with an 802.1Q tag', LinkType.ETHERNET, (ip) => ethernet(ip, 0x86dd, true)],
    ['Linux cooked (SLL), protocol 0x86dd', LinkType.LINUX_SLL, (ip) => linuxCooked(ip, 0x86dd)],
    ['Linux cooked v2 (SLL2), protocol 0x86dd', LinkType.LINUX_SLL2, (ip) => linuxCookedV2(ip, 0x86dd)],
    ['raw IPv6 (229)', LinkType.IPV6, (ip) => ip],
    ['raw IP (101), version nibble 6', LinkType.RAW, (ip) => ip],
    ['raw IP (12, BSD), version nibble 6', LinkType.RAW_BSD, (ip) => ip],
    ['null loopback, AF_INET6 of Linux (10)', LinkType.NULL, (ip) => loopback(ip, 10)],
    ['null loopback, AF_INET6 of FreeBSD (28)', LinkType.NULL, (ip) => loopback(ip, 28)],
  ];
  for (const [name, linkType, wrap] of cases) {
    it(`${name}: pcap and pcapng give the IPv6 bytes and count them as IPv6`, () => {
      const pcap = readAll(write(`link-${linkType}-${name.length}.pcap`, pcapFile('le', linkType, frames(wrap))));
      const pcapng = readAll(write(`link-${linkType}-${name.length}.pcapng`, pcapngFile([{ order: 'be', interfaces: [{ linkType }], frames: frames(wrap) }])));
      for (const { packets, stats } of [pcap, pcapng]) {
        expect(packets).toEqual([[...syn6], [...ack6]]);
        expect(stats).toMatchObject({ packets: 2, ipv4: 0, ipv6: 2, otherSkipped: 0, malformed: 0 });
      }
    });
  }

  it('an Ethernet frame cut inside its header is malformed; a cut IPv6 packet is handed on for the replay to refuse', () => {
    const path = write('cut.pcap', pcapFile('le', LinkType.ETHERNET, [
      { timeMicros: T0, bytes: ethernet(syn6, 0x86dd).subarray(0, 13) },
      { timeMicros: T0 + 1, bytes: ethernet(syn6, 0x86dd).subarray(0, 14 + 30), wireLength: 14 + syn6.length },
    ]));
    const { packets, stats } = readAll(path);
    expect(stats).toMatchObject({ packets: 2, ipv6: 1, malformed: 1 });
    const segment = new CapturedSegment();
    const cut = Uint8Array.from(packets[0]!);
    expect(segment.load(cut, 0, cut.length)).toBe(SegmentLoad.MALFORMED);
  });
});

describe('the captured IPv6 segment (RFC 8200 §3, RFC 9293 §3.1)', () => {
  it('reads ports, sequence numbers, flags and options behind the 40-byte header; both addresses become keys in 0.0.0.0/8', () => {
    const segment = new CapturedSegment();
    expect(segment.load(syn6, 0, syn6.length)).toBe(SegmentLoad.TCP);
    expect(segment).toMatchObject({ ipv6: true, srcPort: 40001, dstPort: 80, seq: 1000, flags: TcpFlag.SYN, hasTimestamps: true, tsVal: 100, sackPermitted: true, windowScale: 7, snapped: false });
    expect([segment.srcAddr, segment.dstAddr]).toEqual([1, 2]);
    expect([0, 1, 2, 3].map((i) => segment.peers6.word(segment.dstAddr, i))).toEqual([...SERVER6]);
    // The same address is the same key, in the same table.
    expect(segment.load(ack6, 0, ack6.length)).toBe(SegmentLoad.TCP);
    expect([segment.srcAddr, segment.dstAddr]).toEqual([1, 2]);
  });

  it('the rewrite puts the new ACK and TSecr in place with the TCP checksum over the IPv6 pseudo-header', () => {
    const bytes = Uint8Array.from(ack6);
    const segment = new CapturedSegment();
    segment.load(bytes, 0, bytes.length);
    const length = segment.rewrite(0xdeadbeef, 0x01020304, true);
    expect(length).toBe(ack6.length);
    const reread = new CapturedSegment();
    reread.load(bytes, 0, length);
    expect([reread.ack >>> 0, reread.tsEcr]).toEqual([0xdeadbeef, 0x01020304]);
    // RFC 8200 §8.1, summed independently: addresses, upper-layer length, next header 6, and the segment.
    const tcpLength = length - 40;
    const pseudo = refSum(bytes, 8, 40) + tcpLength + 6;
    expect(refFold(refSum(bytes, 40, length, pseudo))).toBe(0);
    expect(bytes.subarray(0, 40)).toEqual(ack6.subarray(0, 40));
  });

  it('without --out the rewrite leaves the TCP checksum as captured (the offline host does not sum it), ACK and TSecr still in place', () => {
    const bytes = Uint8Array.from(ack6);
    const segment = new CapturedSegment();
    segment.load(bytes, 0, bytes.length);
    const length = segment.rewrite(0xdeadbeef, 0x01020304, false);
    const reread = new CapturedSegment();
    reread.load(bytes, 0, length);
    expect([reread.ack >>> 0, reread.tsEcr]).toEqual([0xdeadbeef, 0x01020304]);
    expect(bytes.subarray(40 + 16, 40 + 18)).toEqual(ack6.subarray(40 + 16, 40 + 18));
  });

  it('an extension header before TCP is its own count; a fragment header counts as a fragment; ICMPv6 is not TCP', () => {
    const segment = new CapturedSegment();
    for (const [types, code] of [[[0], SegmentLoad.IPV6_EXTENSIONS], [[60], SegmentLoad.IPV6_EXTENSIONS], [[43, 60], SegmentLoad.IPV6_EXTENSIONS], [[44], SegmentLoad.FRAGMENT]] as const) {
      const frame = withExtensions(syn6, [...types]);
      expect(segment.load(frame, 0, frame.length)).toBe(code);
    }
    const icmp = Uint8Array.from(syn6);
    icmp[6] = 58;
    expect(segment.load(icmp, 0, icmp.length)).toBe(SegmentLoad.NOT_TCP);
  });
});

describe('--server [ADDR]:PORT', () => {
  it('parses an IPv6 endpoint in brackets and prints it back the same way (RFC 5952 §6); IPv4 stays ADDR:PORT', () => {
    expect(parseServerEndpoint('[FD77:0::2]:443')).toEqual({ address: 0, port: 443, address6: [...SERVER6] });
    expect(endpointToString(parseServerEndpoint('[fd77::2]:443'))).toBe('[fd77::2]:443');
    expect(endpointToString(parseServerEndpoint('10.77.0.2:80'))).toBe('10.77.0.2:80');
    expect(() => parseServerEndpoint('fd77::2:80')).toThrow(/\[IPv6ADDR\]:PORT/);
    expect(() => parseServerEndpoint('[fd77::g]:80')).toThrow(/\[IPv6ADDR\]:PORT/);
  });
});

// The accept-overflow story of replay.test.ts, recorded over IPv6: backlog 2 → the accept queue
// holds 3, the application never accepts, 6 clients 10 ms apart.
const story = { backlog: 2, acceptRate: 0, clients: 6, spacingMs: 10, untilMs: 2500, ipv6: true };
const capture6x = join(dir, 'overflow6-6x.pcap');
const captureEthernet = join(dir, 'overflow6-6x-eth.pcap');
const real6x = recordConversation(capture6x, { kernel: '6.x', ...story });
recordConversation(captureEthernet, { kernel: '6.x', ...story, ethernet: true });

function replay(capturePath: string, kernel: string, extra: Partial<ReplayOptions> = {}) {
  return runReplay(conversationReplay(capturePath, kernel, { server: SERVER6_ENDPOINT, ...extra }));
}

const clientText = (i: number) => `[fd77:1::2]:${firstClientPort + i}`;

describe('replay of an IPv6 capture', () => {
  it('the server is detected among the IPv6 SYNs: [fd77::2]:80', () => {
    expect(detectServer(capture6x)).toEqual(SERVER6_ENDPOINT);
    expect(CLIENT6).toEqual(Uint32Array.from([0xfd770001, 0, 0, 2]));
  });

  it('6.x capture, 6.x profile: clients 1–3 established, 4–6 dropped, nothing diverged, the counters the recording server counted (spec §1.2 D2)', () => {
    for (const capture of [capture6x, captureEthernet]) {
      const result = replay(capture, '6.x');
      expect(result.connections.map((c) => c.client)).toEqual([0, 1, 2, 3, 4, 5].map(clientText));
      expect(result.connections.map((c) => c.real)).toEqual(['established', 'established', 'established', 'dropped', 'dropped', 'dropped']);
      expect(result.connections.map((c) => c.emulated)).toEqual(result.connections.map((c) => c.real));
      expect(result.summary.diverged).toBe(0);
      expect(result.counters.TcpExtListenOverflows).toBe(6);
      expect(result.input).toMatchObject({ ipv4: 0, clientSegments: 12, midstream: 0, malformed: 0, ipv6Skipped: 0 });
    }
    expect(real6x.listenDeltas()).toMatchObject({ ListenOverflows: 6, ListenDrops: 6 });
  });

  it('--json and the text name IPv6 endpoints as [ADDR]:PORT', () => {
    const result = replay(capture6x, '6.x');
    const json = replayJson(result) as { server: string; connections: Array<{ client: string }> };
    expect(json.server).toBe(`[${SERVER6_TEXT}]:80`);
    expect(json.connections[0]).toEqual({ client: clientText(0), real: 'established', emulated: 'established', diverged: false });
    expect(renderReplay(result, 50)).toContain(clientText(5));
  });

  it('explain names the listener as ss shows an IPv6 socket, [::]:80, not 0.0.0.0:80', () => {
    const result = replay(capture6x, '6.x');
    expect(result.findings.length).toBeGreaterThan(0);
    const text = JSON.stringify(result.findings);
    expect(text).toContain('[::]:80');
    expect(text).not.toContain('0.0.0.0');
    expect(renderReplay(result, 50)).toContain('[::]:80');
  });

  it('--report: the recording names the IPv6 server and its port', () => {
    const result = replay(capture6x, '6.x', { record: true });
    expect(result.recording!.settings).toMatchObject({ server: `[${SERVER6_TEXT}]:80`, port: '80' });
  });

  it('--kernels on worker threads: the IPv6 server crosses to each worker, the results are the serial run\'s', async () => {
    const cells = ['3.10', '6.x'].map((kernel) => conversationReplay(capture6x, kernel, { server: SERVER6_ENDPOINT }));
    const threaded = await replayGrid(cells, 2);
    expect(threaded.map((r) => r.connections)).toEqual(cells.map((cell) => runReplay(cell).connections));
    expect(threaded.map((r) => r.server)).toEqual([`[${SERVER6_TEXT}]:80`, `[${SERVER6_TEXT}]:80`]);
  });

  it('6.x capture through 3.10, open loop: the young rule answers clients 4 and 5 (half-open) and drops client 6 (spec §1.1 C3)', () => {
    const result = replay(capture6x, '3.10');
    expect(result.connections.slice(3, 5).map((c) => [c.emulated, c.diverged, c.emulatedVerdicts[0]])).toEqual([
      ['half-open', true, 'SYN_QUEUED'],
      ['half-open', true, 'SYN_QUEUED'],
    ]);
    expect(result.connections[5]!.emulatedVerdicts[0]).toBe('DROP_ACCEPTQ_FULL_YOUNG');
  });

  it('--complete-handshakes through 3.10: the synthesized IPv6 ACKs make clients 4 and 5 ghosts (spec §1.1 C3, §3.2)', () => {
    const result = replay(capture6x, '3.10', { completeHandshakes: true });
    expect(result.connections.slice(0, 5).map((c) => [c.real, c.emulated])).toEqual([
      ['established', 'established'],
      ['established', 'established'],
      ['established', 'established'],
      ['dropped', 'ghost'],
      ['dropped', 'ghost'],
    ]);
    for (const ghost of result.connections.slice(3, 5)) expect(ghost.emulatedVerdicts.slice(0, 2)).toEqual(['SYN_QUEUED', 'REQ_ACCEPTQ_OVERFLOW']);
    // One ACK for each emulated SYN-ACK: the first and the answer to the SYN retransmit. Over
    // IPv4 client 4 also gets 3.10's 1 s timer retransmit; here the prune walk, which visits
    // the SYN table by a keyed hash of the peer (spec §4.2), has not reached it by then.
    expect(result.connections.map((c) => c.synthesized)).toEqual([0, 0, 0, 2, 2, 0]);
    expect(result.input.synthesized).toBe(4);
  });

  it('--out writes the IPv6 client segments and the emulated IPv6 replies from the server\'s address, synthesized ACKs included', () => {
    const out = join(dir, 'replay6-out.pcapng');
    const result = replay(capture6x, '3.10', { completeHandshakes: true, outPath: out });
    const reader = CaptureReader.open(out);
    const segment = new CapturedSegment();
    const server = segment.peers6.internWords(SERVER6);
    let fromServer = 0;
    let toServer = 0;
    while (reader.next()) {
      expect(segment.load(reader.buf, reader.ipOffset, reader.ipLength)).toBe(SegmentLoad.TCP);
      expect(segment.ipv6).toBe(true);
      if (segment.srcAddr === server && segment.srcPort === 80) fromServer++;
      if (segment.dstAddr === server && segment.dstPort === 80) toServer++;
    }
    reader.close();
    expect(reader.stats).toMatchObject({ ipv4: 0, linkTypes: [LinkType.RAW] });
    expect(toServer).toBe(result.input.clientSegments + result.input.synthesized!);
    expect(fromServer).toBeGreaterThan(0);
    expect(reader.stats.ipv6).toBe(toServer + fromServer);
    expect(readFileSync(out).toString('latin1').split('synthesized client ACK (--complete-handshakes)').length - 1).toBe(result.input.synthesized);
  });

  it('IPv6 packets with an extension header before TCP are counted and skipped; the rest of the capture replays', () => {
    const reader = CaptureReader.open(capture6x);
    const captured: CapturedFrame[] = [];
    while (reader.next()) captured.push({ timeMicros: reader.timeMicros, bytes: reader.buf.slice(reader.ipOffset, reader.ipOffset + reader.ipLength) });
    reader.close();
    // A hop-by-hop header on client 6's first SYN, a fragment header on client 5's, and a truncated packet.
    const sixthSyn = captured.findIndex((f) => f.bytes[40 + 1] === ((firstClientPort + 5) & 0xff));
    captured[sixthSyn] = { ...captured[sixthSyn]!, bytes: withExtensions(captured[sixthSyn]!.bytes, [0]) };
    const fifthSyn = captured.findIndex((f) => f.bytes[40 + 1] === ((firstClientPort + 4) & 0xff));
    captured[fifthSyn] = { ...captured[fifthSyn]!, bytes: withExtensions(captured[fifthSyn]!.bytes, [44]) };
    captured.push({ timeMicros: captured.at(-1)!.timeMicros + 1, bytes: syn6.subarray(0, 30) });
    const edited = write('overflow6-edited.pcap', pcapFile('le', LinkType.RAW, captured));
    const result = replay(edited, '6.x');
    expect(result.input).toMatchObject({ ipv6Skipped: 1, fragments: 1, malformed: 1 });
    expect(result.connections).toHaveLength(6);
    expect(result.connections.map((c) => c.emulated)).toEqual(result.connections.map((c) => c.real));
  });
});

describe('a spoofed IPv6 flood, followed a few hundred connections at a time', () => {
  // 3 000 SYNs, each from its own source in 2001:db8::/64, never answered: the replay's IPv6
  // table frees the keys of concluded sources and gives them to new ones as it goes.
  const FLOOD_SYNS = 3000;
  const builder = new StackHarness('6.x');
  const floodFrames: CapturedFrame[] = [];
  for (let i = 0; i < FLOOD_SYNS; i++) {
    const bytes = asIpv6(builder.frame({ srcPort: 1024 + i, seq: (i * 2654435761) >>> 0, mss: null, windowScale: null, sack: false, tsVal: null, window: 512 }));
    bytes[8 + 15] = (i + 1) & 0xff; // the source's last two bytes: 2001:db8::<i + 1>
    bytes[8 + 14] = (i + 1) >> 8;
    bytes.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
    floodFrames.push({ timeMicros: T0 + i * 100, bytes });
  }
  const flood = write('flood6.pcap', pcapFile('le', LinkType.RAW, floodFrames));

  it('every row names its own source though keys were freed and reused, and the rows are those of following every source at once', () => {
    const bounded = replay(flood, '6.x', { backlog: 128, liveLimit: 200, detailLimit: FLOOD_SYNS });
    expect(bounded.connections.map((c) => c.client)).toEqual(Array.from({ length: FLOOD_SYNS }, (_, i) => `[2001:db8::${(i + 1).toString(16)}]:${1024 + i}`));
    expect(bounded.detail.concludedEarly).toBe(FLOOD_SYNS - 200);
    const all = replay(flood, '6.x', { backlog: 128, detailLimit: FLOOD_SYNS });
    expect(bounded.connections).toEqual(all.connections);
    expect(bounded.counters).toEqual(all.counters);
  });

  it('--complete-handshakes over the same flood: the RTT pass and the synthesized ACKs keep their clients\' keys through the sweeps', () => {
    // Followed for 100 ms each (1 000 at a time, a SYN every 100 µs): long enough for the default 50 ms RTT's ACK.
    const result = replay(flood, '6.x', { backlog: 128, liveLimit: 1000, detailLimit: FLOOD_SYNS, completeHandshakes: true });
    expect(result.connections.map((c) => c.client)).toEqual(Array.from({ length: FLOOD_SYNS }, (_, i) => `[2001:db8::${(i + 1).toString(16)}]:${1024 + i}`));
    expect(result.input.synthesized).toBeGreaterThan(0);
    expect(result.input.synthesized).toBe(result.connections.reduce((n, c) => n + c.synthesized, 0));
  });
});

describe('a capture holding both families', () => {
  it('the server is the busiest SYN destination across IPv4 and IPv6; the other family\'s segments are other TCP', () => {
    const v4 = harness.frame({ srcPort: 50000 });
    const mixed = write('mixed.pcap', pcapFile('le', LinkType.RAW, [
      { timeMicros: T0, bytes: v4 },
      { timeMicros: T0 + 1, bytes: syn6 },
      { timeMicros: T0 + 2, bytes: asIpv6(harness.frame({ srcPort: 40002 })) },
    ]));
    expect(detectServer(mixed)).toEqual(SERVER6_ENDPOINT);
    const result = replay(mixed, '6.x');
    expect(result.connections.map((c) => [c.client, c.emulated])).toEqual([
      ['[fd77:1::2]:40001', 'half-open'],
      ['[fd77:1::2]:40002', 'half-open'],
    ]);
    expect(result.input).toMatchObject({ ipv4: 1, ipv6: 2, otherTcp: 1, clientSegments: 2 });
  });
});

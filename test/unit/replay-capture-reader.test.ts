import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/observe/pcapng.js';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { LinkType } from '../../src/replay/link-layer.js';
import { arpBody, ethernet, ipv6Packet, linuxCooked, linuxCookedV2, pcapFile, pcapngFile, type CapturedFrame } from '../helpers/capture-files.js';
import { StackHarness, TcpFlag } from '../helpers/stack-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'syndrop-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const harness = new StackHarness('6.x');
const syn = harness.frame({ srcPort: 40001 });
const ack = harness.frame({ srcPort: 40001, flags: TcpFlag.ACK, seq: 1001, ack: 7 });
const T0 = 1_700_000_000_123_456;

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

interface Read {
  packets: Array<{ bytes: number[]; timeMicros: number; wireLength: number }>;
  reader: CaptureReader;
}

function readAll(path: string): Read {
  const reader = CaptureReader.open(path);
  const packets: Read['packets'] = [];
  while (reader.next()) {
    packets.push({
      bytes: [...reader.buf.subarray(reader.ipOffset, reader.ipOffset + reader.ipLength)],
      timeMicros: reader.timeMicros,
      wireLength: reader.ipWireLength,
    });
  }
  reader.close();
  return { packets, reader };
}

const frames = (wrap: (ip: Uint8Array) => Uint8Array): CapturedFrame[] => [
  { timeMicros: T0, bytes: wrap(syn) },
  { timeMicros: T0 + 1500, bytes: wrap(ack) },
];

describe('pcap (pcap-savefile(5))', () => {
  it('little-endian µs Ethernet: IPv4 and IPv6 bytes and times come out as written; ARP is counted, not returned', () => {
    const path = write('eth-le.pcap', pcapFile('le', LinkType.ETHERNET, [
      { timeMicros: T0, bytes: ethernet(syn) },
      { timeMicros: T0 + 10, bytes: ethernet(arpBody(), 0x0806) },
      { timeMicros: T0 + 20, bytes: ethernet(ipv6Packet(), 0x86dd) },
      { timeMicros: T0 + 1500, bytes: ethernet(ack, 0x0800, true) },
    ]));
    const { packets, reader } = readAll(path);
    expect(packets.map((p) => p.bytes)).toEqual([[...syn], [...ipv6Packet()], [...ack]]);
    expect(packets.map((p) => p.timeMicros)).toEqual([T0, T0 + 20, T0 + 1500]);
    expect(reader.stats).toMatchObject({ format: 'pcap', packets: 4, ipv4: 2, ipv6: 1, otherSkipped: 1, malformed: 0, linkTypes: [1], stoppedAt: null });
  });

  it('big-endian nanosecond Linux cooked (SLL): ns timestamps become µs', () => {
    const path = write('sll-be-ns.pcap', pcapFile('be', LinkType.LINUX_SLL, frames(linuxCooked), true));
    const { packets, reader } = readAll(path);
    expect(packets.map((p) => p.bytes)).toEqual([[...syn], [...ack]]);
    expect(packets.map((p) => p.timeMicros)).toEqual([T0, T0 + 1500]);
    expect(reader.stats.linkTypes).toEqual([113]);
  });

  it('raw IPv4 (101) with a snap length: the original length is reported beside the captured bytes', () => {
    const cut = syn.subarray(0, 40);
    const path = write('raw.pcap', pcapFile('le', LinkType.RAW, [{ timeMicros: T0, bytes: cut, wireLength: syn.length }]));
    const { packets } = readAll(path);
    expect(packets).toEqual([{ bytes: [...cut], timeMicros: T0, wireLength: syn.length }]);
  });

  it('a file cut inside a record: the records before it are read, then it says where it stopped', () => {
    const whole = pcapFile('le', LinkType.RAW, frames((ip) => ip));
    const path = write('cut.pcap', whole.subarray(0, whole.length - 10));
    const { packets, reader } = readAll(path);
    expect(packets).toHaveLength(1);
    expect(reader.stats.stoppedAt).toBe(24 + 16 + syn.length); // global header + first record
    expect(reader.stats.stopReason).toMatch(/^truncated pcap record/);
  });

  it('a record length no capture holds ends the read as malformed (there is nothing to resynchronise on)', () => {
    const whole = pcapFile('le', LinkType.RAW, frames((ip) => ip));
    const second = 24 + 16 + syn.length;
    whole.writeUInt32LE(0x7fffffff, second + 8);
    const { packets, reader } = readAll(write('huge.pcap', whole));
    expect(packets).toHaveLength(1);
    expect(reader.stats).toMatchObject({ stoppedAt: second, stopReason: 'malformed pcap record: captured length 2147483647' });
  });
});

describe('pcapng (draft-ietf-opsawg-pcapng)', () => {
  it('big-endian section, SLL2, if_tsresol=9 (ns): bytes and µs times', () => {
    const path = write('sll2-be.pcapng', pcapngFile([{ order: 'be', interfaces: [{ linkType: LinkType.LINUX_SLL2, tsresol: 9 }], frames: frames(linuxCookedV2) }]));
    const { packets, reader } = readAll(path);
    expect(packets.map((p) => p.bytes)).toEqual([[...syn], [...ack]]);
    expect(packets.map((p) => p.timeMicros)).toEqual([T0, T0 + 1500]);
    expect(reader.stats).toMatchObject({ format: 'pcapng', ipv4: 2, linkTypes: [276] });
  });

  it('two sections of opposite byte order and two interfaces (Ethernet, raw): every packet read', () => {
    const path = write('sections.pcapng', pcapngFile([
      { order: 'le', interfaces: [{ linkType: LinkType.ETHERNET }, { linkType: LinkType.RAW }], frames: [
        { timeMicros: T0, bytes: ethernet(syn) },
        { timeMicros: T0 + 5, bytes: ack, iface: 1 },
      ] },
      { order: 'be', interfaces: [{ linkType: LinkType.IPV4 }], frames: [{ timeMicros: T0 + 9, bytes: syn }] },
    ]));
    const { packets, reader } = readAll(path);
    expect(packets.map((p) => p.timeMicros)).toEqual([T0, T0 + 5, T0 + 9]);
    expect(packets[2]!.bytes).toEqual([...syn]);
    expect(reader.stats.linkTypes).toEqual([1, 101, 228]);
  });

  it('Simple Packet Blocks carry no time: the packet keeps the previous one', () => {
    const path = write('spb.pcapng', pcapngFile([{ order: 'le', interfaces: [{ linkType: LinkType.RAW }], frames: frames((ip) => ip), simple: true }]));
    const { packets } = readAll(path);
    expect(packets.map((p) => p.bytes)).toEqual([[...syn], [...ack]]);
  });

  it("syndrop's own writer (run --pcap, replay --out) reads back packet for packet", () => {
    const path = join(dir, 'own.pcapng');
    const writer = new PcapngWriter(path, { flushIntervalMs: 0, ifName: 'sd0' });
    writer.writePacket(syn, 0, syn.length, T0, 'in');
    writer.writePacket(ack, 0, ack.length, T0 + 7, 'out', 'a comment');
    writer.close();
    const { packets } = readAll(path);
    expect(packets.map((p) => [p.bytes, p.timeMicros])).toEqual([[[...syn], T0], [[...ack], T0 + 7]]);
  });

  it('a packet block naming an interface that was never described is counted malformed and skipped', () => {
    const file = pcapngFile([{ order: 'le', interfaces: [{ linkType: LinkType.RAW }], frames: [
      { timeMicros: T0, bytes: syn, iface: 3 },
      { timeMicros: T0 + 1, bytes: ack },
    ] }]);
    const { packets, reader } = readAll(write('iface.pcapng', file));
    expect(packets.map((p) => p.bytes)).toEqual([[...ack]]);
    expect(reader.stats).toMatchObject({ packets: 2, malformed: 1, stoppedAt: null });
  });

  it('a block whose trailing length disagrees stops the read there, keeping what came before', () => {
    const file = pcapngFile([{ order: 'le', interfaces: [{ linkType: LinkType.RAW }], frames: frames((ip) => ip) }]);
    const lastBlockLength = file.readUInt32LE(file.length - 4);
    const lastBlockStart = file.length - lastBlockLength;
    file.writeUInt32LE(lastBlockLength + 4, file.length - 4);
    const { packets, reader } = readAll(write('trailer.pcapng', file));
    expect(packets).toHaveLength(1);
    expect(reader.stats).toMatchObject({ stoppedAt: lastBlockStart, stopReason: 'malformed pcapng block: trailing length differs' });
  });

  it('a file cut in the middle of a block: truncated, with the offset of that block', () => {
    const file = pcapngFile([{ order: 'be', interfaces: [{ linkType: LinkType.RAW }], frames: frames((ip) => ip) }]);
    const lastBlockStart = file.length - file.readUInt32BE(file.length - 4);
    const { packets, reader } = readAll(write('cut.pcapng', file.subarray(0, file.length - 3)));
    expect(packets).toHaveLength(1);
    expect(reader.stats.stoppedAt).toBe(lastBlockStart);
    expect(reader.stats.stopReason).toMatch(/^truncated pcapng block/);
  });
});

describe('what is not a capture', () => {
  it('a text file, an empty file and a missing file each give one clear error', () => {
    expect(() => CaptureReader.open(write('notes.txt', Buffer.from('hello world\n')))).toThrow(/notes\.txt: not a pcap or pcapng file \(magic 0x68656c6c\)/);
    expect(() => CaptureReader.open(write('empty.pcap', Buffer.alloc(0)))).toThrow(/not a pcap or pcapng file \(shorter than a header\)/);
    expect(() => CaptureReader.open(join(dir, 'missing.pcap'))).toThrow(/cannot open .*missing\.pcap: ENOENT/);
  });

  it('a pcap header cut short is refused', () => {
    expect(() => CaptureReader.open(write('short.pcap', pcapFile('le', 1, []).subarray(0, 10)))).toThrow(/truncated pcap header/);
  });
});

describe('memory', () => {
  it('a capture far larger than the read window streams through the same window', () => {
    const many: CapturedFrame[] = [];
    for (let i = 0; i < 60_000; i++) many.push({ timeMicros: T0 + i, bytes: syn });
    const path = write('big.pcap', pcapFile('le', LinkType.RAW, many)); // ~6 MB, six times the window
    const reader = CaptureReader.open(path);
    const windowBytes = reader.buf.length;
    let count = 0;
    while (reader.next()) count++;
    reader.close();
    expect(count).toBe(60_000);
    expect(reader.buf.length).toBe(windowBytes);
    expect(windowBytes).toBeLessThan(2 << 20);
  });
});

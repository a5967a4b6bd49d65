import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/observe/pcapng.js';

// --- frames built by hand: IPv4 (RFC 791) + TCP (RFC 793), real checksums -------------

function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length & 1) sum += buf[buf.length - 1]! << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function ip4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

function tcpFrame(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack = 0, id = 1): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(64240, 14);
  const pseudo = Buffer.concat([ip4(src), ip4(dst), Buffer.from([0, 6, 0, 20])]);
  tcp.writeUInt16BE(checksum(Buffer.concat([pseudo, tcp])), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(40, 2);
  ip.writeUInt16BE(id, 4);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  ip4(src).copy(ip, 12);
  ip4(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return Buffer.concat([ip, tcp]);
}

function tsharkReason(): string | null {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'tshark is not installed (apt-get install tshark)';
  }
}

const missing = tsharkReason();
if (missing && process.env.CI) throw new Error(`observe-pcapng: ${missing}; CI must verify captures with tshark`);
if (missing) console.warn(`observe-pcapng: tshark tests skipped: ${missing}`);

function tshark(file: string, fields: string[], filter?: string): string[][] {
  const args = ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|'];
  for (const f of fields) args.push('-e', f);
  if (filter) args.push('-Y', filter);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

const dir = mkdtempSync(join(tmpdir(), 'syndrop-pcapng-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000_000n; // µs

function writeStory(path: string): void {
  const w = new PcapngWriter(path, { ifName: 'syndrop0', appName: 'syndrop test (linux-3.10)', flushIntervalMs: 0 });
  const syn1 = tcpFrame('10.77.1.1', '10.77.0.2', 40000, 80, SYN, 1000);
  // a frame inside a bigger buffer: offset/length select it
  const slab = Buffer.concat([Buffer.alloc(7, 0xee), syn1, Buffer.alloc(5, 0xee)]);
  w.writePacket(slab, 7, syn1.length, T0, 'in', 'DROP TCP_REQQFULLDROP tcp_conn_request (spec §1.3)');
  const synack = tcpFrame('10.77.0.2', '10.77.1.2', 80, 40001, SYN | ACK, 5000, 2001, 2);
  w.writePacket(synack, 0, synack.length, T0 + 1_234n, 'out');
  const syn3 = tcpFrame('10.77.1.3', '10.77.0.2', 40002, 80, SYN, 3000, 0, 3);
  w.writePacket(syn3, 0, syn3.length, Number(T0 + 2_000_001n), 'in', 'DROP LISTENOVERFLOWS tcp_conn_request — accept queue full, ünïcode');
  const rst = tcpFrame('10.77.0.2', '10.77.1.4', 80, 40003, RST | ACK, 0, 1, 4);
  w.writePacket(rst, 0, rst.length, T0 + 3_000_000n, 'out', 'x'); // 1-byte comment: padding
  const fin = tcpFrame('10.77.0.2', '10.77.1.5', 80, 40004, FIN | ACK, 9, 9, 5);
  w.writePacket(fin, 0, fin.length, T0 + 4_000_000n, 'out', 'abcd'); // 4-byte comment: no padding
  w.close();
}

describe.skipIf(missing !== null)('PcapngWriter read back by tshark', () => {
  const file = join(dir, 'story.pcapng');
  writeStory(file);

  it('decodes every frame as IPv4/TCP with good checksums, comments, direction and µs timestamps', () => {
    const rows = tshark(file, [
      'frame.number',
      'frame.comment',
      'ip.src',
      'tcp.flags',
      'frame.packet_flags_direction',
      'frame.time_epoch',
      'ip.checksum.status',
      'tcp.checksum.status',
    ]);
    // direction: epb_flags bits 0-1 (1 inbound, 2 outbound); checksum status 1 = Good
    const inbound = '0x00000001';
    const outbound = '0x00000002';
    expect(rows).toEqual([
      ['1', 'DROP TCP_REQQFULLDROP tcp_conn_request (spec §1.3)', '10.77.1.1', '0x0002', inbound, '1700000000.000000000', '1', '1'],
      ['2', '', '10.77.0.2', '0x0012', outbound, '1700000000.001234000', '1', '1'],
      ['3', 'DROP LISTENOVERFLOWS tcp_conn_request — accept queue full, ünïcode', '10.77.1.3', '0x0002', inbound, '1700000002.000001000', '1', '1'],
      ['4', 'x', '10.77.0.2', '0x0014', outbound, '1700000003.000000000', '1', '1'],
      ['5', 'abcd', '10.77.0.2', '0x0011', outbound, '1700000004.000000000', '1', '1'],
    ]);
  });

  it('display filter frame.comment contains "TCP_REQQFULLDROP" selects the dropped SYN only', () => {
    expect(tshark(file, ['frame.number', 'ip.src'], 'frame.comment contains "TCP_REQQFULLDROP"')).toEqual([['1', '10.77.1.1']]);
  });

  it('SHB and IDB carry the application, interface name, raw-IP link type and µs resolution', () => {
    const info = execFileSync('tshark', ['-r', file, '-c', '1', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.encap_type'], { encoding: 'utf8' });
    expect(info.trim().split('\t')[0]).toBe('syndrop0');
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(bytes.readUInt32LE(8)).toBe(0x1a2b3c4d);
    expect(bytes.includes(Buffer.from('syndrop test (linux-3.10)'))).toBe(true);
    const shbLen = bytes.readUInt32LE(4);
    expect(bytes.readUInt32LE(shbLen - 4)).toBe(shbLen); // block length repeated
    expect(bytes.readUInt32LE(shbLen)).toBe(1); // IDB
    expect(bytes.readUInt16LE(shbLen + 8)).toBe(101); // LINKTYPE_RAW
  });
});

describe('PcapngWriter buffering', () => {
  it('writes nothing per packet: data reaches the file on flush/close', () => {
    const path = join(dir, 'buffered.pcapng');
    const w = new PcapngWriter(path, { flushIntervalMs: 0 });
    const f = tcpFrame('10.77.1.1', '10.77.0.2', 40000, 80, SYN, 1);
    for (let i = 0; i < 100; i++) w.writePacket(f, 0, f.length, T0 + BigInt(i), 'in');
    expect(statSync(path).size).toBe(0);
    w.close();
    expect(statSync(path).size).toBeGreaterThan(100 * 40);
    w.close(); // idempotent
    expect(() => w.writePacket(f, 0, f.length, T0, 'in')).toThrow(/after close/);
  });

  it('flushes on its timer', async () => {
    const path = join(dir, 'timer.pcapng');
    const w = new PcapngWriter(path, { flushIntervalMs: 20 });
    const f = tcpFrame('10.77.1.1', '10.77.0.2', 40000, 80, SYN, 1);
    w.writePacket(f, 0, f.length, T0, 'in');
    await new Promise((r) => setTimeout(r, 80));
    expect(statSync(path).size).toBeGreaterThan(0);
    w.close();
  });

  it('flushes when the buffer fills and handles a packet larger than the buffer', () => {
    const path = join(dir, 'small-buffer.pcapng');
    const w = new PcapngWriter(path, { bufferBytes: 1, flushIntervalMs: 0 }); // clamped to a sane minimum
    const big = Buffer.alloc(20_000, 0x45);
    w.writePacket(big, 0, big.length, T0, 'in', 'big');
    const f = tcpFrame('10.77.1.1', '10.77.0.2', 40000, 80, SYN, 1);
    for (let i = 0; i < 200; i++) w.writePacket(f, 0, f.length, T0, 'out');
    w.close();
    if (!missing) expect(tshark(path, ['frame.number'])).toHaveLength(201);
  });
});

describe('PcapngWriter rotation (tcpdump -C/-W, logrotate names)', () => {
  it('rotates at maxBytes, keeps maxFiles files, each a valid capture starting with SHB+IDB', () => {
    const path = join(dir, 'rot.pcapng');
    const frame = (i: number) => tcpFrame(`10.77.1.${i}`, '10.77.0.2', 40000 + i, 80, SYN, i, 0, i);
    // header ≈ 80 bytes, one packet block = 32 + 40 + 8 (flags) + 4 (end) + comment 12 = 96
    const w = new PcapngWriter(path, { maxBytes: 300, maxFiles: 3, flushIntervalMs: 0, ifName: 'syndrop0' });
    for (let i = 1; i <= 10; i++) w.writePacket(frame(i), 0, 40, T0 + BigInt(i), 'in', `packet ${String(i).padStart(3, '0')}`);
    w.close();
    expect(existsSync(path)).toBe(true);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    for (const f of [path, `${path}.1`, `${path}.2`]) {
      expect(statSync(f).size).toBeLessThanOrEqual(300);
      const bytes = readFileSync(f);
      expect(bytes.readUInt32LE(0)).toBe(0x0a0d0d0a);
    }
    if (missing) return;
    // two packets per file: newest in the live file, older ones shifted to .1, .2
    const sources = (f: string) => tshark(f, ['ip.src']).map((r) => r[0]);
    expect(sources(path)).toEqual(['10.77.1.9', '10.77.1.10']);
    expect(sources(`${path}.1`)).toEqual(['10.77.1.7', '10.77.1.8']);
    expect(sources(`${path}.2`)).toEqual(['10.77.1.5', '10.77.1.6']);
  });

  it('maxFiles 1 keeps only the live file', () => {
    const path = join(dir, 'one.pcapng');
    const w = new PcapngWriter(path, { maxBytes: 200, maxFiles: 1, flushIntervalMs: 0 });
    const f = tcpFrame('10.77.1.1', '10.77.0.2', 40000, 80, SYN, 1);
    for (let i = 0; i < 6; i++) w.writePacket(f, 0, f.length, T0, 'in');
    w.close();
    expect(existsSync(`${path}.1`)).toBe(false);
    expect(w.packetsInFile).toBeGreaterThan(0);
  });
});

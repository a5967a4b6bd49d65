// pcapng capture of what crossed the TUN device, with syndrop's verdict for each packet
// as a packet comment (Wireshark/tshark: `frame.comment contains "TCP_REQQFULLDROP"`).
// Format: draft-ietf-opsawg-pcapng (Section Header Block, Interface Description Block,
// Enhanced Packet Block), little-endian as written by this host.
//
// Link type: 101 LINKTYPE_RAW. A TUN device without packet information delivers bare IP
// packets; LINKTYPE_RAW ("raw IP", version read from the first nibble) is what libpcap
// itself reports for such devices (DLT_RAW), and every reader of the last two decades
// decodes it — tcpdump, tshark, old Wireshark — while 228 LINKTYPE_IPV4 is newer and
// IPv4-only. Checked: tshark 4.0 and tcpdump 4.99 dissect both identically (IPv4, TCP,
// checksums), so the wider-supported 101 wins.
//
// Writes are buffered: blocks are built in place in one preallocated buffer, which is
// written out when it fills, when `flushIntervalMs` passes after the first unflushed
// packet, and on close(). Nothing is allocated per packet on the hot path except the
// comment's UTF-8 bytes, which are encoded straight into the buffer.
//
// Rotation (tcpdump -C/-W in spirit, logrotate in naming): with `maxBytes`, before a block
// would make the live file exceed maxBytes (and the file already holds a packet), the file
// is closed and shifted: `file.pcapng` → `file.pcapng.1` → `file.pcapng.2` …; files beyond
// `maxFiles` in total are deleted. The live capture therefore always has the name the user
// gave, `.1` is the newest finished file, the highest number the oldest. Every file starts
// with its own SHB + IDB, so each one opens alone. (tcpdump instead keeps writing new
// names file1, file2… and, with -W, overwrites the oldest in place.)

import { closeSync, existsSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

export const LINKTYPE_RAW = 101;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;

/** epb_flags bits 0-1: direction. */
const DIRECTION_INBOUND = 1;
const DIRECTION_OUTBOUND = 2;

/** EPB fixed part: type, length, interface id, ts high, ts low, caplen, origlen; + trailing length. */
const EPB_FIXED = 28 + 4;
const MAX_OPTION_BYTES = 0xffff;

export interface PcapngWriterOptions {
  /** Rotate when the live file would exceed this many bytes (unset: never). */
  maxBytes?: number;
  /** Keep at most this many files including the live one (unset: keep all). */
  maxFiles?: number;
  /** if_name of the interface, e.g. the TUN device name. */
  ifName?: string;
  /** shb_userappl, e.g. "syndrop 0.1.0 (linux-3.10)". */
  appName?: string;
  /** Write buffer size; a larger packet is written on its own. Default 256 KiB. */
  bufferBytes?: number;
  /** Flush at most this long after the first unflushed packet. Default 1000 ms; 0 = only when full/closed. */
  flushIntervalMs?: number;
}

function truncateUtf8(text: string, maxBytes: number): string {
  let cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  while (Buffer.byteLength(cut, 'utf8') > maxBytes) cut = cut.slice(0, -1); // a trailing U+FFFD
  return cut;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function optionSize(valueBytes: number): number {
  return 4 + pad4(valueBytes);
}

export class PcapngWriter {
  readonly #path: string;
  readonly #maxBytes: number;
  readonly #maxFiles: number;
  readonly #flushIntervalMs: number;
  readonly #header: Buffer;
  #buffer: Buffer;
  #used = 0;
  #fd: number;
  /** Bytes in the live file, written or buffered. */
  #fileBytes = 0;
  #packetsInFile = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(path: string, opts: PcapngWriterOptions = {}) {
    this.#path = path;
    this.#maxBytes = opts.maxBytes && opts.maxBytes > 0 ? opts.maxBytes : Infinity;
    this.#maxFiles = opts.maxFiles && opts.maxFiles > 0 ? Math.trunc(opts.maxFiles) : Infinity;
    this.#flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.#header = buildHeader(opts.appName ?? 'syndrop', opts.ifName);
    this.#buffer = Buffer.allocUnsafe(Math.max(opts.bufferBytes ?? 256 * 1024, this.#header.length + 4096));
    this.#fd = openSync(path, 'w', 0o644);
    this.#startFile();
  }

  /** Packets in the live file (for tests and status lines). */
  get packetsInFile(): number {
    return this.#packetsInFile;
  }

  /**
   * Append one IP packet, `data[offset, offset+length)`, captured at `timestampMicros`
   * (µs since the epoch; if_tsresol = 6) travelling `direction` across the TUN device,
   * with `comment` (the verdict, e.g. "DROP TCP_REQQFULLDROP tcp_conn_request") if any.
   */
  writePacket(
    data: Uint8Array,
    offset: number,
    length: number,
    timestampMicros: bigint | number,
    direction: 'in' | 'out',
    comment?: string,
  ): void {
    if (this.#closed) throw new Error('PcapngWriter: write after close');
    let commentBytes = comment ? Buffer.byteLength(comment, 'utf8') : 0;
    if (commentBytes > MAX_OPTION_BYTES) {
      // an option length is 16 bits: cut on a character boundary (rare, so allocation is fine)
      comment = truncateUtf8(comment!, MAX_OPTION_BYTES);
      commentBytes = Buffer.byteLength(comment, 'utf8');
    }
    const optionsBytes = (commentBytes ? optionSize(commentBytes) : 0) + optionSize(4) + 4;
    const total = EPB_FIXED + pad4(length) + optionsBytes;

    if (this.#packetsInFile > 0 && this.#fileBytes + total > this.#maxBytes) this.#rotate();
    if (this.#used + total > this.#buffer.length) this.#flush();
    if (total > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(pad4(total * 2));

    const buf = this.#buffer;
    let p = this.#used;
    const ts = BigInt(timestampMicros);
    buf.writeUInt32LE(BLOCK_EPB, p);
    buf.writeUInt32LE(total, p + 4);
    buf.writeUInt32LE(0, p + 8); // interface id
    buf.writeUInt32LE(Number((ts >> 32n) & 0xffffffffn), p + 12);
    buf.writeUInt32LE(Number(ts & 0xffffffffn), p + 16);
    buf.writeUInt32LE(length, p + 20); // captured length
    buf.writeUInt32LE(length, p + 24); // original length
    p += 28;
    buf.set(data.subarray(offset, offset + length), p);
    p += length;
    while (p & 3) buf[p++] = 0;
    if (commentBytes) {
      buf.writeUInt16LE(OPT_COMMENT, p);
      buf.writeUInt16LE(commentBytes, p + 2);
      p += 4 + buf.write(comment!, p + 4, commentBytes, 'utf8');
      while (p & 3) buf[p++] = 0;
    }
    buf.writeUInt16LE(EPB_FLAGS, p);
    buf.writeUInt16LE(4, p + 2);
    buf.writeUInt32LE(direction === 'in' ? DIRECTION_INBOUND : DIRECTION_OUTBOUND, p + 4);
    p += 8;
    buf.writeUInt32LE(OPT_ENDOFOPT, p);
    p += 4;
    buf.writeUInt32LE(total, p);
    p += 4;

    this.#used = p;
    this.#fileBytes += total;
    this.#packetsInFile++;
    if (this.#timer === null && this.#flushIntervalMs > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (!this.#closed) this.#flush();
      }, this.#flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Write out everything buffered. */
  flush(): void {
    if (!this.#closed) this.#flush();
  }

  close(): void {
    if (this.#closed) return;
    this.#flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    closeSync(this.#fd);
    this.#closed = true;
  }

  #flush(): void {
    let off = 0;
    while (off < this.#used) off += writeSync(this.#fd, this.#buffer, off, this.#used - off);
    this.#used = 0;
  }

  #startFile(): void {
    this.#header.copy(this.#buffer, this.#used);
    this.#used += this.#header.length;
    this.#fileBytes = this.#header.length;
    this.#packetsInFile = 0;
  }

  #rotate(): void {
    this.#flush();
    closeSync(this.#fd);
    // Shift path.(k) → path.(k+1) from the oldest down; drop what falls past maxFiles.
    let highest = 0;
    while (existsSync(`${this.#path}.${highest + 1}`)) highest++;
    for (let k = highest; k >= 1; k--) {
      const from = `${this.#path}.${k}`;
      if (k + 1 >= this.#maxFiles) unlinkSync(from);
      else renameSync(from, `${this.#path}.${k + 1}`);
    }
    if (this.#maxFiles > 1) renameSync(this.#path, `${this.#path}.1`);
    this.#fd = openSync(this.#path, 'w', 0o644);
    this.#startFile();
  }
}

/** SHB + IDB, the start of every file. */
function buildHeader(appName: string, ifName: string | undefined): Buffer {
  const app = Buffer.from(appName, 'utf8').subarray(0, MAX_OPTION_BYTES);
  const shbLen = 24 + optionSize(app.length) + 4 + 4;
  const ifn = ifName ? Buffer.from(ifName, 'utf8').subarray(0, MAX_OPTION_BYTES) : null;
  const idbLen = 16 + (ifn ? optionSize(ifn.length) : 0) + optionSize(1) + 4 + 4;
  const buf = Buffer.alloc(shbLen + idbLen);
  let p = 0;
  buf.writeUInt32LE(BLOCK_SHB, p);
  buf.writeUInt32LE(shbLen, p + 4);
  buf.writeUInt32LE(BYTE_ORDER_MAGIC, p + 8);
  buf.writeUInt16LE(1, p + 12); // major
  buf.writeUInt16LE(0, p + 14); // minor
  buf.writeBigInt64LE(-1n, p + 16); // section length: unknown
  p += 24;
  p = writeOption(buf, p, SHB_USERAPPL, app);
  buf.writeUInt32LE(OPT_ENDOFOPT, p);
  p += 4;
  buf.writeUInt32LE(shbLen, p);
  p += 4;

  buf.writeUInt32LE(BLOCK_IDB, p);
  buf.writeUInt32LE(idbLen, p + 4);
  buf.writeUInt16LE(LINKTYPE_RAW, p + 8);
  buf.writeUInt16LE(0, p + 10); // reserved
  buf.writeUInt32LE(0, p + 12); // snaplen: no limit
  p += 16;
  if (ifn) p = writeOption(buf, p, IF_NAME, ifn);
  p = writeOption(buf, p, IF_TSRESOL, Buffer.from([6])); // 10^-6 s
  buf.writeUInt32LE(OPT_ENDOFOPT, p);
  p += 4;
  buf.writeUInt32LE(idbLen, p);
  return buf;
}

function writeOption(buf: Buffer, p: number, code: number, value: Buffer): number {
  buf.writeUInt16LE(code, p);
  buf.writeUInt16LE(value.length, p + 2);
  value.copy(buf, p + 4);
  return p + optionSize(value.length); // padding bytes are already zero (Buffer.alloc)
}

// A streaming reader of pcap (libpcap: µs or ns, either byte order) and pcapng
// (draft-ietf-opsawg-pcapng: SHB/IDB/EPB/SPB/obsolete PB, any section byte order,
// if_tsresol, if_tsoffset) files. One fixed window over the file, refilled as records are
// consumed: memory stays constant for any file size. Each `next()` positions the reader
// on the next IP packet (IPv4 or IPv6); everything else is counted, never thrown: other
// link payloads, malformed records. A record that breaks the
// framing (bad block length, a file cut in the middle of a record) ends the read; `stats`
// says where and why, and what was read before stays valid (issue 17: "truncated:
// process what was read, then say where it stopped").

import { closeSync, openSync, readSync } from 'node:fs';
import { SyndropError } from '../errors.js';
import { LINK_OTHER, LINK_TRUNCATED, LINK_UNSUPPORTED, linkPayload } from './link-layer.js';

const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const PCAP_LINKTYPE_MASK = 0x0fffffff; // the top bits carry FCS information

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB_OBSOLETE = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** The window: large enough for any sane record; a bigger one is malformed framing. */
const WINDOW_BYTES = 1 << 20;
const MAX_RECORD_BYTES = 64 << 20;

export interface CaptureStats {
  format: 'pcap' | 'pcapng';
  /** Packet records read (any link payload). */
  packets: number;
  /** IP packets handed on, by the version nibble (what is inside them is the replay's to judge). */
  ipv4: number;
  /** IPv6 packets skipped: an extension header before TCP (the replay counts them here, as it does malformed segments). */
  ipv6Skipped: number;
  ipv6: number;
  /** Link payloads that are not IP (ARP, LLDP…), and frames of link types this reader does not know. */
  otherSkipped: number;
  /** Records whose framing held but whose contents did not (skipped). */
  malformed: number;
  /** Link types seen (numbers, tcpdump.org registry). */
  linkTypes: number[];
  /** Byte offset where reading stopped early, and why; null when the file was read to its end. */
  stoppedAt: number | null;
  stopReason: string | null;
}

interface Interface {
  linkType: number;
  /** Divide a raw timestamp by this to get µs. */
  unitsPerMicro: number;
  offsetMicros: number;
}

export class CaptureReader {
  readonly stats: CaptureStats;
  /** The current IP packet: `buf[ipOffset, ipOffset + ipLength)`, valid until the next `next()`. */
  buf: Uint8Array;
  ipOffset = 0;
  ipLength = 0;
  /** Length of the frame on the wire (the record's original length) minus the link header. */
  ipWireLength = 0;
  /** Capture time, µs since the epoch. */
  timeMicros = 0;

  readonly #fd: number;
  #view: DataView;
  /** Valid bytes are buf[start, end); buf[0] is file offset `base`. */
  #start = 0;
  #end = 0;
  #base = 0;
  #eof = false;
  #done = false;
  #little = true;
  #interfaces: Interface[] = [];
  #pcapInterface: Interface | null = null;

  private constructor(fd: number, format: 'pcap' | 'pcapng') {
    this.#fd = fd;
    this.buf = new Uint8Array(WINDOW_BYTES);
    this.#view = new DataView(this.buf.buffer);
    this.stats = { format, packets: 0, ipv4: 0, ipv6Skipped: 0, ipv6: 0, otherSkipped: 0, malformed: 0, linkTypes: [], stoppedAt: null, stopReason: null };
  }

  /** Opens `path`; throws one clear SyndropError when it is not a capture this reader knows. */
  static open(path: string): CaptureReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw new SyndropError('SYNDROP_ERR_BAD_CAPTURE', `cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const head = new Uint8Array(4);
    const got = readSync(fd, head, 0, 4, 0);
    const magic = got === 4 ? new DataView(head.buffer).getUint32(0, false) : -1;
    const format = magic === BLOCK_SHB ? 'pcapng' : [PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS].includes(magic) || [PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS].includes(swap32(magic)) ? 'pcap' : null;
    if (format === null) {
      closeSync(fd);
      throw new SyndropError('SYNDROP_ERR_BAD_CAPTURE', `${path}: not a pcap or pcapng file (${got < 4 ? 'shorter than a header' : `magic 0x${(magic >>> 0).toString(16).padStart(8, '0')}`})`);
    }
    const reader = new CaptureReader(fd, format);
    if (format === 'pcap') reader.#readPcapHeader(path);
    return reader;
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Advances to the next IP packet; false when the file (or its readable part) is done. */
  next(): boolean {
    while (!this.#done) {
      const found = this.stats.format === 'pcap' ? this.#nextPcapRecord() : this.#nextPcapngBlock();
      if (found) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ window

  /** Makes `n` bytes available from `start`; false at end of file (then `#eof`). */
  #ensure(n: number): boolean {
    if (this.#end - this.#start >= n) return true;
    if (n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
      bigger.set(this.buf.subarray(this.#start, this.#end));
      this.#base += this.#start;
      this.#end -= this.#start;
      this.#start = 0;
      this.buf = bigger;
      this.#view = new DataView(bigger.buffer);
    } else if (this.#start > 0) {
      this.buf.copyWithin(0, this.#start, this.#end);
      this.#base += this.#start;
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < n && !this.#eof) {
      const got = readSync(this.#fd, this.buf, this.#end, this.buf.length - this.#end, this.#base + this.#end);
      if (got === 0) this.#eof = true;
      this.#end += got;
    }
    return this.#end - this.#start >= n;
  }

  #u32(at: number): number {
    return this.#view.getUint32(at, this.#little);
  }

  #u16(at: number): number {
    return this.#view.getUint16(at, this.#little);
  }

  #stop(reason: string): false {
    this.#done = true;
    if (reason !== '') {
      this.stats.stoppedAt = this.#base + this.#start;
      this.stats.stopReason = reason;
    }
    return false;
  }

  /** End of data at a record boundary is the normal end; anywhere else the file was cut. */
  #endOrTruncated(what: string): false {
    return this.#stop(this.#end === this.#start ? '' : `truncated ${what} (${this.#end - this.#start} bytes left)`);
  }

  #noteLinkType(linkType: number): void {
    if (!this.stats.linkTypes.includes(linkType)) this.stats.linkTypes.push(linkType);
  }

  /** Classifies a frame at buf[off, off + caplen); true when it holds an IP packet (the reader's current packet). */
  #frame(linkType: number, off: number, caplen: number, wireLength: number, timeMicros: number): boolean {
    this.stats.packets++;
    const ip = linkPayload(linkType, this.buf, off, caplen);
    if (ip >= 0) {
      if (this.buf[ip]! >> 4 === 6) this.stats.ipv6++;
      else this.stats.ipv4++;
      this.ipOffset = ip;
      this.ipLength = off + caplen - ip;
      this.ipWireLength = wireLength - (ip - off);
      this.timeMicros = timeMicros;
      return true;
    }
    if (ip === LINK_OTHER || ip === LINK_UNSUPPORTED) this.stats.otherSkipped++;
    else if (ip === LINK_TRUNCATED) this.stats.malformed++;
    return false;
  }

  // ------------------------------------------------------------------ pcap

  #readPcapHeader(path: string): void {
    if (!this.#ensure(PCAP_HEADER)) {
      this.close();
      throw new SyndropError('SYNDROP_ERR_BAD_CAPTURE', `${path}: truncated pcap header`);
    }
    const magicBig = this.#view.getUint32(0, false);
    this.#little = magicBig !== PCAP_MAGIC_MICROS && magicBig !== PCAP_MAGIC_NANOS;
    const nanos = this.#u32(0) === PCAP_MAGIC_NANOS;
    const linkType = this.#u32(20) & PCAP_LINKTYPE_MASK;
    this.#noteLinkType(linkType);
    this.#pcapInterface = { linkType, unitsPerMicro: nanos ? 1000 : 1, offsetMicros: 0 };
    this.#start = PCAP_HEADER;
  }

  #nextPcapRecord(): boolean {
    if (!this.#ensure(PCAP_RECORD_HEADER)) return this.#endOrTruncated('pcap record header');
    const at = this.#start;
    const seconds = this.#u32(at);
    const fraction = this.#u32(at + 4);
    const caplen = this.#u32(at + 8);
    const wireLength = this.#u32(at + 12);
    // No length field to resynchronise on: a record this large is garbage, the rest unreadable.
    if (caplen > MAX_RECORD_BYTES) return this.#stop(`malformed pcap record: captured length ${caplen}`);
    if (!this.#ensure(PCAP_RECORD_HEADER + caplen)) return this.#endOrTruncated(`pcap record (${caplen} bytes expected)`);
    const iface = this.#pcapInterface!;
    const off = this.#start + PCAP_RECORD_HEADER;
    this.#start = off + caplen;
    return this.#frame(iface.linkType, off, caplen, Math.max(wireLength, caplen), seconds * 1e6 + fraction / iface.unitsPerMicro);
  }

  // ------------------------------------------------------------------ pcapng

  #nextPcapngBlock(): boolean {
    if (!this.#ensure(12)) return this.#endOrTruncated('pcapng block header');
    const at = this.#start;
    const type = this.#view.getUint32(at, this.#little);
    if (type === BLOCK_SHB) {
      // A new section may switch byte order: read it from the byte-order magic first.
      const magicLittle = this.#view.getUint32(at + 8, true);
      if (magicLittle === BYTE_ORDER_MAGIC) this.#little = true;
      else if (swap32(magicLittle) === BYTE_ORDER_MAGIC) this.#little = false;
      else return this.#stop('malformed pcapng section header: bad byte-order magic');
      this.#interfaces = [];
    }
    const length = this.#u32(at + 4);
    if (length < 12 || length % 4 !== 0 || length > MAX_RECORD_BYTES) return this.#stop(`malformed pcapng block: length ${length}`);
    if (!this.#ensure(length)) return this.#endOrTruncated(`pcapng block (${length} bytes expected)`);
    const block = this.#start;
    if (this.#u32(block + length - 4) !== length) return this.#stop('malformed pcapng block: trailing length differs');
    this.#start = block + length;
    switch (type) {
      case BLOCK_IDB:
        this.#interfaceDescription(block, length);
        return false;
      case BLOCK_EPB:
      case BLOCK_PB_OBSOLETE:
        return this.#packetBlock(type, block, length);
      case BLOCK_SPB:
        return this.#simplePacket(block, length);
      default:
        return false; // SHB, name resolution, statistics, custom, DSB: nothing to replay
    }
  }

  #interfaceDescription(block: number, length: number): void {
    if (length < 20) {
      this.stats.malformed++;
      this.#interfaces.push({ linkType: -1, unitsPerMicro: 1, offsetMicros: 0 });
      return;
    }
    const linkType = this.#u16(block + 8);
    const iface: Interface = { linkType, unitsPerMicro: 1, offsetMicros: 0 };
    let p = block + 16;
    const end = block + length - 4;
    while (p + 4 <= end) {
      const code = this.#u16(p);
      const size = this.#u16(p + 2);
      if (code === 0 || p + 4 + size > end) break;
      if (code === OPT_IF_TSRESOL && size >= 1) {
        const value = this.buf[p + 4]!;
        const unitsPerSecond = value & 0x80 ? 2 ** (value & 0x7f) : 10 ** value;
        iface.unitsPerMicro = unitsPerSecond / 1e6;
      } else if (code === OPT_IF_TSOFFSET && size >= 8) {
        iface.offsetMicros = Number(this.#view.getBigInt64(p + 4, this.#little)) * 1e6;
      }
      p += 4 + ((size + 3) & ~3);
    }
    this.#noteLinkType(linkType);
    this.#interfaces.push(iface);
  }

  #packetBlock(type: number, block: number, length: number): boolean {
    const obsolete = type === BLOCK_PB_OBSOLETE;
    const ifaceId = obsolete ? this.#u16(block + 8) : this.#u32(block + 8);
    const caplen = this.#u32(block + 20);
    const wireLength = this.#u32(block + 24);
    const iface = this.#interfaces[ifaceId];
    if (length < 32 || iface === undefined || iface.linkType < 0 || 28 + caplen > length - 4) {
      this.stats.packets++;
      this.stats.malformed++;
      return false;
    }
    const units = this.#u32(block + 12) * 4294967296 + this.#u32(block + 16);
    return this.#frame(iface.linkType, block + 28, caplen, Math.max(wireLength, caplen), iface.offsetMicros + units / iface.unitsPerMicro);
  }

  /** SPB: no timestamp (the previous packet's time is kept), interface 0, caplen from the block. */
  #simplePacket(block: number, length: number): boolean {
    const iface = this.#interfaces[0];
    if (length < 16 || iface === undefined || iface.linkType < 0) {
      this.stats.packets++;
      this.stats.malformed++;
      return false;
    }
    const wireLength = this.#u32(block + 8);
    const caplen = Math.min(wireLength, length - 16);
    return this.#frame(iface.linkType, block + 12, caplen, wireLength, this.timeMicros);
  }
}

function swap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | ((value >>> 24) & 0xff)) >>> 0;
}

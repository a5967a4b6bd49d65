// Writes pcap and pcapng files byte by byte from the format documents (libpcap's
// pcap-savefile(5), draft-ietf-opsawg-pcapng), independently of src/: either byte order,
// µs or ns pcap, several pcapng sections and interfaces, SPB and EPB, link headers for
// Ethernet (optionally VLAN-tagged), Linux cooked v1/v2 and raw IP.

export type ByteOrder = 'le' | 'be';

export interface CapturedFrame {
  /** µs since the epoch. */
  timeMicros: number;
  bytes: Uint8Array;
  /** Original length on the wire (default: bytes.length). */
  wireLength?: number;
  /** pcapng interface index (default 0). */
  iface?: number;
}

class Bytes {
  readonly parts: Buffer[] = [];
  constructor(readonly order: ByteOrder) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.order === 'le') b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.order === 'le') b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  raw(bytes: Uint8Array): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  pad4(): this {
    const length = this.length;
    if (length % 4 !== 0) this.parts.push(Buffer.alloc(4 - (length % 4)));
    return this;
  }
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function pcapFile(order: ByteOrder, linkType: number, frames: CapturedFrame[], nanos = false): Buffer {
  const out = new Bytes(order);
  out.u32(nanos ? 0xa1b23c4d : 0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(262144).u32(linkType);
  for (const frame of frames) {
    const seconds = Math.floor(frame.timeMicros / 1e6);
    const micros = frame.timeMicros - seconds * 1e6;
    out.u32(seconds).u32(nanos ? Math.round(micros * 1000) : micros).u32(frame.bytes.length).u32(frame.wireLength ?? frame.bytes.length);
    out.raw(frame.bytes);
  }
  return out.build();
}

function block(order: ByteOrder, type: number, body: Buffer): Buffer {
  const padded = new Bytes(order).raw(body).pad4().build();
  const total = padded.length + 12;
  return new Bytes(order).u32(type).u32(total).raw(padded).u32(total).build();
}

function options(order: ByteOrder, list: Array<[number, Buffer]>): Buffer {
  const out = new Bytes(order);
  for (const [code, value] of list) out.u16(code).u16(value.length).raw(value).pad4();
  if (list.length > 0) out.u16(0).u16(0);
  return out.build();
}

export interface PcapngInterface {
  linkType: number;
  /** if_tsresol byte (default: none → µs). */
  tsresol?: number;
}

export interface PcapngSection {
  order: ByteOrder;
  interfaces: PcapngInterface[];
  frames: CapturedFrame[];
  /** Write packets as Simple Packet Blocks (no timestamp, interface 0). */
  simple?: boolean;
}

export function pcapngFile(sections: PcapngSection[]): Buffer {
  const blocks: Buffer[] = [];
  for (const section of sections) {
    const o = section.order;
    blocks.push(block(o, 0x0a0d0d0a, new Bytes(o).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).build()));
    for (const iface of section.interfaces) {
      const opts = iface.tsresol === undefined ? Buffer.alloc(0) : options(o, [[9, Buffer.from([iface.tsresol])]]);
      blocks.push(block(o, 1, new Bytes(o).u16(iface.linkType).u16(0).u32(0).raw(opts).build()));
    }
    for (const frame of section.frames) {
      if (section.simple) {
        blocks.push(block(o, 3, new Bytes(o).u32(frame.wireLength ?? frame.bytes.length).raw(frame.bytes).build()));
        continue;
      }
      const iface = section.interfaces[frame.iface ?? 0] ?? {};
      const resolution = iface.tsresol === undefined ? 1e6 : 10 ** iface.tsresol;
      const units = BigInt(Math.round((frame.timeMicros * resolution) / 1e6));
      const body = new Bytes(o)
        .u32(frame.iface ?? 0)
        .u32(Number(units >> 32n))
        .u32(Number(units & 0xffffffffn))
        .u32(frame.bytes.length)
        .u32(frame.wireLength ?? frame.bytes.length)
        .raw(frame.bytes)
        .build();
      blocks.push(block(o, 6, body));
    }
  }
  return Buffer.concat(blocks);
}

// --- link-layer headers around an IP packet -------------------------------------------

export function ethernet(ip: Uint8Array, ethertype = 0x0800, vlan = false): Uint8Array {
  const macs = Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  const tag = vlan ? Buffer.from([0x81, 0x00, 0x00, 0x05]) : Buffer.alloc(0);
  return Buffer.concat([macs, tag, Buffer.from([ethertype >> 8, ethertype & 0xff]), ip]);
}

export function linuxCooked(ip: Uint8Array, protocol = 0x0800): Uint8Array {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0, 0); // to us
  header.writeUInt16BE(1, 2); // ARPHRD_ETHER
  header.writeUInt16BE(6, 4);
  header.writeUInt16BE(protocol, 14);
  return Buffer.concat([header, ip]);
}

export function linuxCookedV2(ip: Uint8Array, protocol = 0x0800): Uint8Array {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(protocol, 0);
  header.writeUInt32BE(3, 4); // ifindex
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header[10] = 0; // to us
  header[11] = 6;
  return Buffer.concat([header, ip]);
}

/** A minimal IPv6 header (version 6, next header TCP, no payload). */
export function ipv6Packet(): Uint8Array {
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip[6] = 6;
  ip[7] = 64;
  return ip;
}

/** An ARP request body (what Ethernet carries with ethertype 0x0806). */
export function arpBody(): Uint8Array {
  return Buffer.alloc(28, 1);
}

// IPv4 addresses travel as unsigned 32-bit numbers on the hot path; strings only at the edges.

export function ipv4ToString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Parses dotted-quad; returns -1 for anything else. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) return -1;
  let addr = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return -1;
    const octet = Number(part);
    if (octet > 255) return -1;
    addr = addr * 256 + octet;
  }
  return addr >>> 0;
}

/** 224.0.0.0/4 multicast, 255.255.255.255 limited broadcast (spec §1.1 C1). */
export function isMulticastOrBroadcast(addr: number): boolean {
  return addr >>> 28 === 0xe || addr === 0xffffffff;
}

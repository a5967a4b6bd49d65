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

// IPv6 addresses travel as four big-endian 32-bit words (the pools' columns, SegmentSpec's
// srcAddr6/dstAddr6); text only at the edges, in RFC 5952's canonical form as `ss` prints it.

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function ipv6ToString(words: ArrayLike<number>): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) groups.push(words[i]! >>> 16, words[i]! & 0xffff);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Parses RFC 4291 §2.2 text forms 1 and 2 (no embedded IPv4); null for anything else. */
export function parseIpv6(text: string): Uint32Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return words;
}

/** ff00::/8 (RFC 4291 §2.7): a SYN to it is dropped like one to an IPv4 multicast address. */
export function isIpv6Multicast(firstWord: number): boolean {
  return firstWord >>> 24 === 0xff;
}

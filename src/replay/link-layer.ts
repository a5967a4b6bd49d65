// Where the IP packet starts inside a captured frame, per link type (tcpdump.org
// "LINK-LAYER HEADER TYPES"). Pure byte arithmetic on the captured bytes: the reader
// hands each frame here and feeds the IPv4 and IPv6 packets on; what is inside them is
// captured-segment.ts's to judge.

export const LinkType = {
  NULL: 0, // BSD loopback: 4-byte address family in the writer's byte order
  ETHERNET: 1,
  RAW_BSD: 12, // DLT_RAW on OpenBSD/BSD/OS: the same bare IP packet as LINKTYPE_RAW
  RAW: 101,
  LOOP: 108, // OpenBSD loopback: address family in network byte order
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** linkPayload's answers besides an offset ≥ 0 (an IPv4 or IPv6 packet starts there). */
export const LINK_OTHER = -2;
export const LINK_TRUNCATED = -3;
export const LINK_UNSUPPORTED = -4;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
/** cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol (last 2 bytes). */
const SLL_HEADER = 16;
const SLL_PROTOCOL = 14;
/** cooked v2: protocol first, then reserved, ifindex, ARPHRD, packet type, address. */
const SLL2_HEADER = 20;
const SLL2_PROTOCOL = 0;
const NULL_HEADER = 4;
/** AF_INET is 2 everywhere; AF_INET6 differs per OS (10 Linux, 24/28/30 BSDs). */
const AF_INET = 2;
const AF_INET6_VALUES = [10, 24, 28, 30];

/** Is `linkType` one this reader can take IP packets from? */
export function isSupportedLinkType(linkType: number): boolean {
  return Object.values(LinkType).includes(linkType as never);
}

function byEthertype(ethertype: number, offset: number, end: number): number {
  if (ethertype === ETHERTYPE_IPV4 || ethertype === ETHERTYPE_IPV6) return offset < end ? offset : LINK_TRUNCATED;
  return LINK_OTHER;
}

function byVersionNibble(buf: Uint8Array, offset: number, end: number): number {
  if (offset >= end) return LINK_TRUNCATED;
  const version = buf[offset]! >> 4;
  return version === 4 || version === 6 ? offset : LINK_OTHER;
}

const u16 = (buf: Uint8Array, at: number): number => (buf[at]! << 8) | buf[at + 1]!;

/**
 * The offset of the IP packet (either family) in `buf[off, off + caplen)`, or LINK_OTHER
 * (ARP, LLDP…) / LINK_TRUNCATED (the link header itself is cut) / LINK_UNSUPPORTED.
 */
export function linkPayload(linkType: number, buf: Uint8Array, off: number, caplen: number): number {
  const end = off + caplen;
  switch (linkType) {
    case LinkType.ETHERNET: {
      let at = off + ETHERNET_HEADER - 2;
      if (at + 2 > end) return LINK_TRUNCATED;
      let ethertype = u16(buf, at);
      // 802.1Q / 802.1ad tags (a trunk port capture): skip each 4-byte tag.
      while (ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ) {
        at += VLAN_TAG;
        if (at + 2 > end) return LINK_TRUNCATED;
        ethertype = u16(buf, at);
      }
      return byEthertype(ethertype, at + 2, end);
    }
    case LinkType.LINUX_SLL:
      if (off + SLL_HEADER > end) return LINK_TRUNCATED;
      return byEthertype(u16(buf, off + SLL_PROTOCOL), off + SLL_HEADER, end);
    case LinkType.LINUX_SLL2:
      if (off + SLL2_HEADER > end) return LINK_TRUNCATED;
      return byEthertype(u16(buf, off + SLL2_PROTOCOL), off + SLL2_HEADER, end);
    case LinkType.RAW:
    case LinkType.RAW_BSD:
      return byVersionNibble(buf, off, end);
    case LinkType.IPV4:
    case LinkType.IPV6:
      return off < end ? off : LINK_TRUNCATED;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (off + NULL_HEADER > end) return LINK_TRUNCATED;
      // Either byte order: the family is a small number in one end of the word.
      const family = buf[off]! | buf[off + 3]!;
      if (family === AF_INET || AF_INET6_VALUES.includes(family)) return byVersionNibble(buf, off + NULL_HEADER, end);
      return LINK_OTHER;
    }
    default:
      return LINK_UNSUPPORTED;
  }
}

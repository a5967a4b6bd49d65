/**
 * Why a frame was rejected by a checked view (smoltcp's `Error::Truncated`, `Error::Malformed`,
 * split finer). A number, not an exception: rejection is a normal outcome on the wire.
 */
export const WireError = {
  Ok: 0,
  Truncated: 1,
  BadVersion: 2,
  BadIhl: 3,
  BadTotalLength: 4,
  BadIpChecksum: 5,
  Fragment: 6,
  BadDataOffset: 7,
  BadTcpChecksum: 8,
  BadIcmp: 9,
  /** IPv6 payload length beyond the frame (ipv6_rcv: Ip6InTruncatedPkts). */
  BadPayloadLength: 10,
} as const;

export type WireErrorCode = (typeof WireError)[keyof typeof WireError];

export const WIRE_ERROR_NAMES: readonly string[] = [
  'ok',
  'truncated',
  'bad-version',
  'bad-ihl',
  'bad-total-length',
  'bad-ip-checksum',
  'fragment',
  'bad-data-offset',
  'bad-tcp-checksum',
  'bad-icmp',
  'bad-payload-length',
];


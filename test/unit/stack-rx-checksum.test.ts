// A host whose device verified TCP checksums (KernelConfig.rxChecksumUnnecessary, the offline
// engines' hosts) skips the TCP sum, as tcp_v4_rcv / tcp_v6_rcv do for CHECKSUM_UNNECESSARY,
// and still checks the IPv4 header checksum (ip_rcv_core). A TUN host checks both.

import { describe, expect, it } from 'vitest';
import { AcceptLoop } from '../../src/app/accept-loop.js';
import { resolveProfile } from '../../src/profiles/resolve.js';
import { Sysctls } from '../../src/profiles/sysctl.js';
import { Host } from '../../src/stack/host.js';
import { Counter } from '../../src/stack/mib.js';
import { VERDICTS } from '../../src/stack/verdict.js';
import { parseIpv4, parseIpv6 } from '../../src/wire/addr.js';
import * as cap from '../fixtures/captures.js';
import * as cap6 from '../fixtures/captures6.js';

function host(rxChecksumUnnecessary: boolean, address: string, address6: string | null = null, port = 8080): Host {
  const profile = resolveProfile('6.x');
  const h = new Host({
    profile,
    sysctls: new Sysctls(profile),
    address: parseIpv4(address),
    address6: address6 === null ? null : parseIpv6(address6),
    seed: 3,
    rxChecksumUnnecessary,
  });
  new AcceptLoop(h).listen(port, 128, { handler: null });
  return h;
}

function receive(h: Host, frame: Uint8Array): { verdict: string; replies: number } {
  const verdict = VERDICTS[h.receive(frame, 0, frame.length, 0)]!.name;
  const replies = h.tx.count;
  h.tx.clear();
  return { verdict, replies };
}

/** The SYN with one bit of its TCP checksum flipped (IPv4: IHL 5, checksum at 20 + 16). */
function badTcpChecksum(hex: string, tcpChecksumAt: number): Uint8Array {
  const frame = cap.hexBytes(hex);
  frame[tcpChecksumAt + 1]! ^= 0x01;
  return frame;
}

describe('receive checksum offload (CHECKSUM_UNNECESSARY)', () => {
  it('IPv4: a SYN with a wrong TCP checksum is dropped by a TUN host (InCsumErrors 1) and queued by an offline one', () => {
    const tun = host(false, '10.201.0.1');
    expect(receive(tun, badTcpChecksum(cap.SYN_TS, 36))).toEqual({ verdict: 'MALFORMED', replies: 0 });
    expect(tun.counters[Counter.InCsumErrors]).toBe(1);
    expect(tun.counters[Counter.InErrs]).toBe(1);
    const offline = host(true, '10.201.0.1');
    expect(receive(offline, badTcpChecksum(cap.SYN_TS, 36))).toEqual({ verdict: 'SYN_QUEUED', replies: 1 });
    expect(offline.counters[Counter.InCsumErrors]).toBe(0);
    expect(offline.counters[Counter.InSegs]).toBe(1);
  });

  it('IPv4: the header checksum is still checked (IpInHdrErrors), offload or not', () => {
    for (const offload of [false, true]) {
      const h = host(offload, '10.201.0.1');
      const frame = cap.hexBytes(cap.SYN_TS);
      frame[11]! ^= 0x01;
      expect(receive(h, frame)).toEqual({ verdict: 'MALFORMED', replies: 0 });
      expect(h.counters[Counter.IpInHdrErrors]).toBe(1);
      expect(h.counters[Counter.InSegs]).toBe(0);
    }
  });

  it('IPv4: a header cut short is still malformed under offload (only the sum is skipped)', () => {
    const h = host(true, '10.201.0.1');
    const frame = cap.hexBytes(cap.SYN_TS);
    frame[32] = 0x40 | (frame[32]! & 0x0f); // data offset 4 words: under the minimum
    expect(receive(h, frame)).toEqual({ verdict: 'MALFORMED', replies: 0 });
    expect(h.counters[Counter.InErrs]).toBe(1);
  });

  it('IPv6: a SYN with a wrong TCP checksum is dropped by a TUN host and queued by an offline one', () => {
    // IPv6 header 40 bytes: the TCP checksum at 40 + 16.
    const tun = host(false, '10.201.0.1', 'fd78::1');
    expect(receive(tun, badTcpChecksum(cap6.SYN6_TS, 56))).toEqual({ verdict: 'MALFORMED', replies: 0 });
    expect(tun.counters[Counter.InCsumErrors]).toBe(1);
    const offline = host(true, '10.201.0.1', 'fd78::1');
    expect(receive(offline, badTcpChecksum(cap6.SYN6_TS, 56))).toEqual({ verdict: 'SYN_QUEUED', replies: 1 });
    expect(offline.counters[Counter.InCsumErrors]).toBe(0);
  });
});

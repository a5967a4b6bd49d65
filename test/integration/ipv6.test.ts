// IPv6 end to end (issue 20): real curl -6 from the lab clients to the emulated host fd77::2,
// direct (c3) and through NAT66 (c1 appears as fd77:9::254); a syncookie connection over IPv6
// whose MSS comes from the IPv6 cookie table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, curlFrom, integrationPrerequisites, ns, runInNetns, startSyndrop, testLabDown, testLabUp, type RunningSyndrop } from '../helpers/lab-fixture.js';

const URL6 = 'http://[fd77::2]/';
const skip = await integrationPrerequisites(['ip', 'iptables', 'ip6tables', 'curl']);

interface EventLine {
  verdict: string;
  src: string;
  dst: string;
  aux: number;
}

async function events(): Promise<EventLine[]> {
  const result = await cli(['events', '--json', '--last', '1000']);
  expect(result.code).toBe(0);
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as EventLine);
}

describe.skipIf(skip !== undefined)('IPv6 over the lab TUN (issue 20)', () => {
  let syndrop: RunningSyndrop | null = null;

  beforeAll(async () => {
    await testLabUp();
  }, 120_000);

  afterAll(async () => {
    await syndrop?.stop();
    await runInNetns(ns('c3'), ['ip', '-6', 'route', 'replace', 'default', 'via', 'fd77:3::1', 'dev', 'eth0'], { allowFailure: true });
    await testLabDown();
  }, 120_000);

  it('200 sequential curl -6 http://[fd77::2]/ from c3 all get 200; Ip6 counters move, TCP counters are shared', async () => {
    syndrop = await startSyndrop(['--kernel', '6.x', '--quiet']);
    const before = await syndrop.stats();
    for (let i = 0; i < 200; i++) {
      const { httpCode } = await curlFrom('c3', URL6, ['-6', '-m', '3']);
      expect(httpCode, `request ${i}`).toBe('200');
    }
    const after = await syndrop.stats();
    expect(after.TcpPassiveOpens! - before.TcpPassiveOpens!).toBe(200);
    expect(after.Ip6InReceives! - before.Ip6InReceives!).toBeGreaterThanOrEqual(200 * 5);
    expect(after.Ip6OutRequests! - before.Ip6OutRequests!).toBeGreaterThanOrEqual(200 * 3);
    // ss shows the IPv6 TIME-WAIT sockets the way ss writes them.
    const ss = await cli(['ss', '-tan']);
    expect(ss.stdout).toMatch(/\[fd77::2\]:80\s+\[fd77:3::2\]:\d+/);
  }, 180_000);

  it('through NAT66: c1 reaches fd77::2 and is seen as fd77:9::254', async () => {
    const { httpCode } = await curlFrom('c1', URL6, ['-6', '-m', '3']);
    expect(httpCode).toBe('200');
    const seen = (await events()).filter((e) => e.verdict === 'SYN_QUEUED').map((e) => e.src.replace(/:\d+$/, ''));
    expect(seen).toContain('[fd77:9::254]');
  }, 60_000);

  it('a syncookie connection over IPv6 with real curl: MSS 1400 from the client → 1220 from the IPv6 table (IPv4 would give 1300)', async () => {
    await syndrop?.stop();
    syndrop = await startSyndrop(['--kernel', '6.x', '--quiet', '--sysctl', 'net.ipv4.tcp_syncookies=2']);
    // advmss 1400 on c3's IPv6 route: curl's SYN offers MSS 1400.
    await runInNetns(ns('c3'), ['ip', '-6', 'route', 'replace', 'default', 'via', 'fd77:3::1', 'dev', 'eth0', 'advmss', '1400']);
    const before = await syndrop.stats();
    const { httpCode } = await curlFrom('c3', URL6, ['-6', '-m', '3']);
    expect(httpCode).toBe('200');
    const after = await syndrop.stats();
    expect(after.TcpExtSyncookiesSent! - before.TcpExtSyncookiesSent!).toBe(1);
    expect(after.TcpExtSyncookiesRecv! - before.TcpExtSyncookiesRecv!).toBe(1);
    const accepted = (await events()).filter((e) => e.verdict === 'COOKIE_ACCEPTED');
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.src).toMatch(/^\[fd77:3::2\]:\d+$/);
    expect(accepted[0]!.dst).toBe('[fd77::2]:80');
    // aux = the cookie's MSS index: 0 = 1220 in {1220, 1420, 1440, 8940}.
    expect(accepted[0]!.aux).toBe(0);
  }, 60_000);
});

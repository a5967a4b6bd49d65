// syndrop doctor's findings from hand-made bundles: each bundle is the files a support engineer
// would get from a customer's box (written here with that kernel's counter names, netstat -s
// phrases and log wording), read with readBundle and judged with diagnose — the same path as
// `syndrop doctor --bundle DIR`. One bundle per cause.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../src/doctor/bundle.js';
import { diagnose, hasDropFinding, type DoctorReport } from '../../src/doctor/diagnose.js';
import { renderDoctor } from '../../src/doctor/render.js';

const root = mkdtempSync(join(tmpdir(), 'sdd-bundles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let bundleCount = 0;
async function diagnoseBundle(files: Record<string, string>): Promise<DoctorReport> {
  const dir = join(root, `b${bundleCount++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return diagnose(await readBundle(dir));
}

const UBUNTU_2404 = 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n';
const CENTOS_7 = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n';

/** nstat -az as iproute2 prints it. */
function nstat(values: Record<string, number>): string {
  return `#kernel\n${Object.entries(values).map(([name, value]) => `${name.padEnd(32)}${String(value).padEnd(19)}0.0`).join('\n')}\n`;
}

function sysctl(values: Record<string, number>): string {
  return Object.entries(values).map(([name, value]) => `${name} = ${value}`).join('\n') + '\n';
}

const ssHeader = 'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n';
const findingIds = (report: DoctorReport): string[] => report.findings.map((f) => f.id);

describe('6.8 (Ubuntu 24.04) bundles', () => {
  it('accept queue overflow names the full listener, with the counter deltas and rate (spec §1.5, §5.5)', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'os-release': UBUNTU_2404,
      'nstat-az.txt': nstat({ TcpExtListenOverflows: 100, TcpExtListenDrops: 100 }),
      'nstat-az.later.txt': nstat({ TcpExtListenOverflows: 130, TcpExtListenDrops: 130 }),
      'interval.txt': '5\n',
      'ss-ltn.txt': `${ssHeader}LISTEN 0      128          0.0.0.0:22        0.0.0.0:*\nLISTEN 512    511       10.0.0.5:8080      0.0.0.0:*\n`,
      'sysctl-a.txt': sysctl({ 'net.core.somaxconn': 4096, 'net.ipv4.tcp_syncookies': 1 }),
    });
    expect(report.profile).toBe('6.8');
    expect(findingIds(report)).toEqual(['accept-queue-overflow']);
    const overflow = report.findings[0]!;
    expect(overflow).toMatchObject({ listener: '10.0.0.5:8080', severity: 'drop', count: 30, rate: 'TcpExtListenOverflows 6.0/s over 5 s' });
    expect(overflow.evidence).toContain('10.0.0.5:8080: ss -lnt: Recv-Q 512 / Send-Q 511 (accept queue holds Send-Q + 1)');
    expect(overflow.evidence[0]).toBe('TcpExtListenOverflows +30 in 5 s (6.0/s), 130 in all, TcpExtListenDrops +30 in 5 s (6.0/s), 130 in all');
    expect(overflow.rule).toMatch(/every SYN is dropped \(4\.10\+/);
    expect(hasDropFinding(report)).toBe(true);
  });

  it('drops that did not move during the interval are reported as info, not as a current drop', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'nstat-az.txt': nstat({ TcpExtListenOverflows: 7, TcpExtListenDrops: 7 }),
      'nstat-az.later.txt': nstat({ TcpExtListenOverflows: 7, TcpExtListenDrops: 7 }),
      'interval.txt': '5\n',
    });
    expect(report.findings.map((f) => [f.id, f.severity, f.count])).toEqual([['accept-queue-overflow', 'info', 7]]);
    expect(hasDropFinding(report)).toBe(false);
  });

  it('SYN queue full without cookies: the flood line names the listener (spec §1.3, §1.4)', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'netstat-s.txt': 'Tcp:\n    40 passive connection openings\nTcpExt:\n    250 SYNs to LISTEN sockets dropped\n    TCPReqQFullDrop: 250\n',
      'ss-ltn.txt': `${ssHeader}LISTEN 0      128        10.0.0.5:443       0.0.0.0:*\n`,
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_syncookies': 0, 'net.core.somaxconn': 4096 }),
      'dmesg.txt': '[ 9911.120000] TCP: request_sock_TCP: Possible SYN flooding on port 10.0.0.5:443. Dropping request.\n',
    });
    expect(findingIds(report)).toEqual(['syn-queue-full', 'syn-flood-logged']);
    const full = report.findings[0]!;
    expect(full).toMatchObject({ listener: '10.0.0.5:443', severity: 'drop', count: 250 });
    expect(full.rule).toBe('SYN queue full (qlen >= backlog) and tcp_syncookies=0 → tcp_syn_flood_action drops the SYN');
    expect(full.evidence).toContain('net.ipv4.tcp_syncookies = 0');
    expect(full.fix[0]).toMatch(/tcp_syncookies=1/);
    expect(report.findings[1]).toMatchObject({ listener: '10.0.0.5:443', severity: 'drop', since: '[ 9911.120000]' });
  });

  it('cookies in use: their cost without timestamps (spec §1.7), the listener from the log', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'nstat-az.txt': nstat({ TcpExtSyncookiesSent: 900, TcpExtSyncookiesRecv: 850, TcpExtTCPReqQFullDoCookies: 900 }),
      'ss-ltn.txt': `${ssHeader}LISTEN 0      4096       0.0.0.0:80        0.0.0.0:*\n`,
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_syncookies': 1, 'net.ipv4.tcp_timestamps': 0, 'net.core.somaxconn': 4096 }),
      'dmesg.txt': '[  12.5] TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies.\n',
    });
    const cookies = report.findings.find((f) => f.id === 'syncookies')!;
    expect(cookies).toMatchObject({ listener: '0.0.0.0:80', severity: 'warning', count: 900 });
    expect(cookies.evidence).toContain('TcpExtSyncookiesSent 900, Recv 850, Failed 0');
    expect(cookies.evidence.join('\n')).toMatch(/tcp_timestamps = 0: every cookie connection runs without window scaling and SACK/);
    expect(hasDropFinding(report)).toBe(false);
  });

  it('unproven peers: ListenDrops no other counter explains, cookies off (spec §1.1 C8b, §1.8)', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'nstat-az.txt': nstat({ TcpExtListenDrops: 12, TcpExtListenOverflows: 2, TcpExtTCPReqQFullDrop: 0 }),
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_syncookies': 0, 'net.ipv4.tcp_max_syn_backlog': 16 }),
    });
    const unproven = report.findings.find((f) => f.id === 'unproven-peer')!;
    expect(unproven).toMatchObject({ severity: 'drop', count: 10 });
    expect(unproven.evidence).toContain('net.ipv4.tcp_max_syn_backlog = 16');
    expect(unproven.evidence.join('\n')).toMatch(/proven and passes/); // 4.14+: an RTT metric proves the peer
  });

  it('listen backlog clamped by somaxconn: Send-Q equals net.core.somaxconn (spec §5.1)', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'ss-ltn.txt': `${ssHeader}LISTEN 129    128          0.0.0.0:80        0.0.0.0:*\nLISTEN 0      5            0.0.0.0:25        0.0.0.0:*\n`,
      'sysctl-a.txt': sysctl({ 'net.core.somaxconn': 128 }),
    });
    expect(report.findings.map((f) => [f.id, f.listener, f.severity])).toEqual([['backlog-clamped', '0.0.0.0:80', 'warning']]);
    expect(report.findings[0]!.evidence[0]).toBe('0.0.0.0:80: ss -ltn Send-Q 128 = net.core.somaxconn 128: listen() asked for 128 or more and got 128');
    expect(report.notes).toContain('no counters read: drop findings need /proc/net/netstat, nstat -az or netstat -s');
  });

  it('a quiet host: no findings, nothing to fail on', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'nstat-az.txt': nstat({ TcpExtListenOverflows: 0, TcpExtListenDrops: 0, TcpPassiveOpens: 12 }),
      'ss-ltn.txt': `${ssHeader}LISTEN 0      511          0.0.0.0:80        0.0.0.0:*\n`,
      'sysctl-a.txt': sysctl({ 'net.core.somaxconn': 4096, 'net.ipv4.tcp_syncookies': 1 }),
    });
    expect(report.findings).toEqual([]);
    expect(renderDoctor(report)).toMatch(/^syndrop doctor \(kernel 6\.8\.0-45-generic, profile 6\.8\): no listen-path problem found$/m);
  });
});

describe('3.10 and 4.x bundles apply their own rules', () => {
  const centos7Netstat = [
    'Tcp:',
    '    1200 active connections openings',
    '    9876 passive connection openings',
    'TcpExt:',
    '    41 passive connections rejected because of time stamp',
    '    41 SYNs to LISTEN sockets dropped',
    '    3 TCP sockets finished time wait in fast timer',
    '    TWRecycled: 0',
    '',
  ].join('\n');

  it('CentOS 7: PAWS rejections with tcp_tw_recycle=1 and remembered TSvals (spec §2.3)', async () => {
    const report = await diagnoseBundle({
      'uname.txt': 'Linux web1 3.10.0-1160.el7.x86_64 #1 SMP Mon Oct 19 16:18:59 UTC 2020 x86_64 x86_64 x86_64 GNU/Linux\n',
      'os-release': CENTOS_7,
      'netstat-s.txt': centos7Netstat,
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_tw_recycle': 1, 'net.ipv4.tcp_timestamps': 1, 'net.ipv4.tcp_syncookies': 1, 'net.core.somaxconn': 128 }),
      'tcp_metrics.txt': '203.0.113.7 age 4.120sec tw_ts 3923771/3sec ago rtt 41000us rttvar 20000us cwnd 10\n198.51.100.2 age 80.1sec rtt 9000us\n',
    });
    expect(report.profile).toBe('centos7');
    expect(report.profileReason).toMatch(/RHEL\/CentOS 7 kernel/);
    expect(findingIds(report)).toEqual(['paws-nat']);
    const paws = report.findings[0]!;
    expect(paws).toMatchObject({ severity: 'drop', count: 41 });
    expect(paws.evidence).toContain('net.ipv4.tcp_tw_recycle = 1, net.ipv4.tcp_timestamps = 1');
    expect(paws.evidence.join('\n')).toMatch(/remembers a TSval for 1 peer\(s\): 203\.0\.113\.7 tw_ts 3923771\/3sec ago/);
    expect(paws.fix[0]).toBe('sysctl -w net.ipv4.tcp_tw_recycle=0');
  });

  it('4.4 (Ubuntu 16.04): tw_recycle on without rejections yet is a warning, not a drop', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '4.4.0-210-generic\n',
      'nstat-az.txt': nstat({ TcpExtPAWSPassive: 0, TcpExtListenDrops: 0 }),
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_tw_recycle': 1, 'net.ipv4.tcp_syncookies': 1 }),
    });
    expect(report.profile).toBe('4.4');
    expect(report.findings.map((f) => [f.id, f.severity])).toEqual([['paws-nat', 'warning']]);
  });

  it('3.10: the young rule, cookie SYN-ACKs counted in ListenDrops, and the 3.10 flood line by port (spec §1.1 C3, C10, §1.3)', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '3.10.108\n',
      'proc-net-netstat': 'TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows ListenDrops TCPReqQFullDoCookies TCPReqQFullDrop\nTcpExt: 20 0 3 5 25 20 0\n',
      'ss-ltn.txt': `${ssHeader}LISTEN 3      2                *:80                *:*\n`,
      'sysctl-a.txt': sysctl({ 'net.ipv4.tcp_syncookies': 0, 'net.core.somaxconn': 128 }),
      'dmesg.txt': '[  301.000100] TCP: TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.\n',
    });
    expect(report.profile).toBe('3.10');
    const overflow = report.findings.find((f) => f.id === 'accept-queue-overflow')!;
    expect(overflow.listener).toBe('*:80');
    expect(overflow.rule).toMatch(/more than one young request/);
    // 25 ListenDrops = 5 overflows + 20 cookie SYN-ACKs (3.10 counts both): no unproven peers.
    expect(findingIds(report)).not.toContain('unproven-peer');
    const flood = report.findings.find((f) => f.id === 'syn-flood-logged')!;
    expect(flood).toMatchObject({ listener: '*:80', since: '[  301.000100]' });
    expect(report.findings.find((f) => f.id === 'syncookies')!.evidence.join('\n')).toMatch(/on 3\.10 each cookie SYN-ACK also counts TcpExtListenDrops/);
  });
});

describe('malformed and partial bundles', () => {
  it('one clear note per bad file, the diagnosis from the rest', async () => {
    const report = await diagnoseBundle({
      'uname-r.txt': '6.8.0-45-generic\n',
      'core.dump': '\u0000\u0001binary junk that is no command output\n',
      'empty.txt': '',
      'proc-net-netstat': 'TcpExt: ListenOverflows ListenDrops\nTcpExt: 4 4\nTcpExt: SyncookiesSent\n',
      'sysctl-a.txt': 'net.core.somaxconn = 4096\nthis line is not a sysctl\n',
      'interval.txt': 'soon\n',
    });
    expect(report.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^core\.dump: not recognised \(expected uname -r, /),
        'empty.txt: empty',
        'proc-net-netstat: 1 malformed line(s) skipped',
        'sysctl-a.txt: 1 malformed line(s) skipped',
        'interval.txt: not a number of seconds',
      ]),
    );
    expect(report.findings.map((f) => [f.id, f.count])).toEqual([['accept-queue-overflow', 4]]);
  });

  it('a missing directory is a usage error', async () => {
    await expect(readBundle(join(root, 'nope'))).rejects.toMatchObject({ code: 'SYNDROP_ERR_USAGE', message: expect.stringMatching(/no such directory/) });
  });
});

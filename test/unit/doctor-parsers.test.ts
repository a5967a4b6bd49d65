// syndrop doctor's parsers on real command output: test/fixtures/doctor/host-6.18 was captured
// on this host's 6.18 kernel inside a throwaway namespace (sdd-fx-srv): a listener with backlog
// 2 that never accepts and 6 curl clients (3 overflows), a spoofed-SYN burst at a backlog-4
// listener with tcp_syncookies=0 (34 TCPReqQFullDrop) and one with tcp_syncookies=1 (35
// cookies), somaxconn 64 under a listen(512), then nstat -az, netstat -s, ss, sysctl -a,
// /proc/net/{netstat,snmp}, ip tcp_metrics and the kernel's flood lines.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { profileForHost, parseOsRelease } from '../../src/doctor/host-profile.js';
import { parseNetstatS, parseNstat, parseProcCounters } from '../../src/doctor/parse-counters.js';
import { parseFloodLines } from '../../src/doctor/parse-kernel-log.js';
import { parseSsListeners } from '../../src/doctor/parse-ss.js';
import { parseSysctl } from '../../src/doctor/parse-sysctl.js';
import { parseTcpMetrics } from '../../src/doctor/parse-tcp-metrics.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/doctor/${name}`, import.meta.url), 'utf8');
const host = (name: string): string => fixture(`host-6.18/${name}`);

const LISTEN_PATH = {
  TcpExtListenOverflows: 3,
  TcpExtListenDrops: 37,
  TcpExtTCPReqQFullDrop: 34,
  TcpExtTCPReqQFullDoCookies: 35,
  TcpExtSyncookiesSent: 35,
};

describe('counters: nstat -az, /proc/net/netstat + snmp, netstat -s of one namespace agree', () => {
  const nstat = parseNstat(host('nstat-az.txt'));
  const proc = parseProcCounters(host('proc-net-netstat') + host('proc-net-snmp'));
  const netstat = parseNetstatS(host('netstat-s.txt'));

  it('every reading has the listen-path counters the namespace moved (spec §6)', () => {
    for (const parsed of [nstat, proc, netstat]) {
      expect(parsed.malformed).toBe(0);
      expect(parsed.value).toMatchObject(LISTEN_PATH);
    }
  });

  it('/proc gives every Tcp/TcpExt counter nstat -az printed, with the same value', () => {
    const names = Object.keys(nstat.value).filter((n) => n.startsWith('Tcp'));
    expect(names.length).toBeGreaterThan(100);
    for (const name of names) expect(proc.value[name], name).toBe(nstat.value[name]);
  });

  it('netstat -s phrases read back into nstat names with the /proc values (TcpExt and Tcp)', () => {
    const names = Object.keys(netstat.value).filter((n) => n.startsWith('Tcp'));
    expect(names).toEqual(expect.arrayContaining(['TcpPassiveOpens', 'TcpRetransSegs', 'TcpCurrEstab', 'TcpExtListenOverflows', 'TcpExtTCPReqQFullDrop', 'TcpExtTW']));
    for (const name of names) expect(netstat.value[name], name).toBe(proc.value[name]);
  });

  it('older net-tools phrases (spec §6): "ignored" is ListenDrops, "packetes rejected" is PAWSEstab', () => {
    const old = parseNetstatS('TcpExt:\n    7 SYNs to LISTEN sockets ignored\n    2 packetes rejected in established connections because of timestamp\n');
    expect(old.value).toEqual({ TcpExtListenDrops: 7, TcpExtPAWSEstab: 2 });
  });

  it('a truncated /proc file is counted as malformed, the rest still read', () => {
    const text = host('proc-net-netstat').split('\n').slice(0, 3).join('\n');
    const parsed = parseProcCounters(text);
    expect(parsed.malformed).toBe(1);
    expect(parsed.value.TcpExtListenOverflows).toBe(3);
  });
});

describe('ss', () => {
  it('ss -ltn: Recv-Q is the accept queue, Send-Q min(backlog, somaxconn) (spec §5.5)', () => {
    const { value, malformed } = parseSsListeners(host('ss-ltn.txt'));
    expect(malformed).toBe(0);
    expect(value).toEqual([
      { address: '10.199.0.1', port: 7070, recvQ: 0, sendQ: 4, synRecv: null },
      { address: '10.199.0.1', port: 8080, recvQ: 3, sendQ: 2, synRecv: null },
      { address: '0.0.0.0', port: 9090, recvQ: 0, sendQ: 64, synRecv: null },
      { address: '0.0.0.0', port: 7171, recvQ: 0, sendQ: 4, synRecv: null },
    ]);
  });

  it('ss -ltnH (no header) reads the same rows', () => {
    expect(parseSsListeners(fixture('ss-ltnH.txt')).value.map((l) => [l.port, l.recvQ, l.sendQ])).toEqual([
      [8080, 3, 2],
      [9090, 0, 64],
    ]);
  });

  it('ss -tan: SYN-RECV sockets counted per listening port', () => {
    const listeners = parseSsListeners(fixture('ss-tan.txt')).value;
    expect(listeners.find((l) => l.port === 9090)?.synRecv).toBe(4);
    expect(listeners.find((l) => l.port === 8080)?.synRecv).toBe(0);
  });

  it('IPv6 and interface-scoped addresses', () => {
    const text = 'State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*\nLISTEN 129 128 [::]:80 [::]:*\n';
    expect(parseSsListeners(text).value.map((l) => `${l.address}:${l.port} ${l.recvQ}/${l.sendQ}`)).toEqual(['127.0.0.53%lo:53 0/4096', '[::]:80 129/128']);
  });
});

describe('sysctl -a', () => {
  it('reads the listen-path sysctls of the namespace', () => {
    const { value, malformed } = parseSysctl(host('sysctl-a.txt'));
    expect(malformed).toBe(0);
    expect(value).toMatchObject({ 'net.core.somaxconn': 64, 'net.ipv4.tcp_syncookies': 1, 'net.ipv4.tcp_max_syn_backlog': 2048, 'net.ipv4.tcp_tw_reuse': 2 });
    expect(value['net.ipv4.tcp_tw_recycle']).toBeUndefined(); // gone since 4.12 (spec §2.5)
    expect(value['net.ipv4.tcp_rmem']).toBeUndefined(); // a triple, not one integer
  });
});

describe('kernel log flood lines (spec §1.3)', () => {
  it('6.2+ form names the listener address:port; other dmesg lines are skipped', () => {
    expect(parseFloodLines(host('dmesg.txt')).map(({ address, port, sendingCookies, form, when }) => ({ address, port, sendingCookies, form, when }))).toEqual([
      { address: '10.199.0.1', port: 7070, sendingCookies: false, form: 'v6.2', when: '[74798.009247]' },
      { address: '0.0.0.0', port: 7171, sendingCookies: true, form: 'v6.2', when: '[74801.147730]' },
    ]);
  });

  it('3.10 and 4.4 – 6.1 forms name only the port (lines quoted from the spec, §1.3, §8a)', () => {
    const lines = [
      '[  123.456789] TCP: TCP: Possible SYN flooding on port 8080. Dropping request.  Check SNMP counters.',
      'Dec 03 10:00:01 guest kernel: TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.  Check SNMP counters.',
      '[ 99.1] TCP: request_sock_TCPv6: Possible SYN flooding on port [::1]:443. Sending cookies.',
      '[  7.5] TCP: TCPv6: Possible SYN flooding on port 443. Dropping request.  Check SNMP counters.',
    ].join('\n');
    expect(parseFloodLines(lines).map((f) => [f.address, f.port, f.sendingCookies, f.form, f.when])).toEqual([
      [null, 8080, false, 'v3.10', '[  123.456789]'],
      [null, 8080, true, 'v4.4', 'Dec 03 10:00:01 guest'],
      ['::1', 443, true, 'v6.2', '[ 99.1]'],
      [null, 443, false, 'v3.10', '[  7.5]'],
    ]);
  });
});

describe('ip tcp_metrics', () => {
  it('6.18: RTT per peer, no remembered timestamp (tw_recycle is gone)', () => {
    expect(parseTcpMetrics(host('ip-tcp_metrics.txt')).value).toEqual([{ address: '10.199.0.2', ageSeconds: 7.232, twTsval: null, twTsAgeSeconds: null, rttUs: 43, source: '10.199.0.1' }]);
  });

  it('≤ 4.11: tw_ts TSVAL/AGEsec ago is the per-host PAWS state (iproute2 tcp_metrics.c format, spec §2.1)', () => {
    const entry = parseTcpMetrics('10.0.0.9 age 3.021sec tw_ts 123456/2sec ago rtt 1000us rttvar 500us cwnd 10\n').value[0]!;
    expect(entry).toMatchObject({ address: '10.0.0.9', twTsval: 123456, twTsAgeSeconds: 2, rttUs: 1000 });
  });
});

describe('profile from the kernel release (the --kernel names, spec §0)', () => {
  const cases: Array<[string, string, string | null]> = [
    ['6.18.44-fc-v1147', '6.x', 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'],
    ['6.1.0-27-amd64', '6.1', 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"'],
    ['6.1.170', '6.1-late', null],
    ['6.8.0-45-generic', '6.8', 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"'],
    ['5.15.0-100-generic', '5.15', 'ID=ubuntu\nVERSION_ID="20.04"\nPRETTY_NAME="Ubuntu 20.04.6 LTS"'],
    ['4.19.0-26-amd64', '4.19', null],
    ['4.9.337', '4.9-late', null],
    ['4.4.0-210-generic', '4.4', null],
    ['4.11.12', '4.10', null],
    ['3.10.0-1160.el7.x86_64', 'centos7', 'ID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"'],
    ['3.10.108', '3.10', null],
  ];
  it.each(cases)('%s → %s', (release, expected, os) => {
    expect(profileForHost(release, os === null ? null : parseOsRelease(os)).profile.name).toBe(expected);
  });

  it('says why: an HWE kernel on an older distro follows the running kernel', () => {
    const { reason } = profileForHost('5.15.0-100-generic', parseOsRelease('ID=ubuntu\nVERSION_ID="20.04"\nPRETTY_NAME="Ubuntu 20.04.6 LTS"'));
    expect(reason).toMatch(/ubuntu20\.04's stock kernel is 5\.4; .*the running kernel decides/);
  });
});

// `simulate`'s client model against the real thing: this machine's kernel as a client whose
// SYNs nobody answers (the server namespace drops them), with TCP_SYNCNT 1, 2 and 3. The SYN
// times on the wire and the moment connect() fails must be synSchedule(host release, retries)
// (workload.ts: the retransmit timer and tcp_write_timeout, spec §1.10), SYN for SYN.
//
// Tolerance (test/helpers/syn-schedule.ts): the kernel's timers fire a little late, and each RTO
// starts from the late fire, so lateness adds up: 6.18 here ran 19.37 s for a 19 s give-up.
// Each time may be late by up to 50 ms + 4 % of its model time (never early by more than
// 20 ms); the count is exact.

import { mkdtempSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from '../../src/assets.js';
import { runInNetns } from '../../src/lab/exec.js';
import { synSchedule } from '../../src/simulate/workload.js';
import { CaptureLab, stop } from '../helpers/capture-lab.js';
import { integrationPrerequisites } from '../helpers/lab-fixture.js';
import { expectSchedule, synTimesBySourcePort } from '../helpers/syn-schedule.js';

const lab = new CaptureLab(process.env.SYNDROP_TEST_SYNRETRY_PREFIX ?? 'sdk', '10.97.0');
const PORT = 9;
const RETRIES = [1, 2, 3];
const FIRST_SOURCE_PORT = 40_000;

const skip = await integrationPrerequisites(['ip', 'iptables', 'tcpdump', PYTHON]);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-syn-schedule-'));
const capture = join(dir, 'syns.pcap');

/** One connect() per retry count, in parallel, each from its own source port; prints "retries seconds". */
const CLIENTS = `
import socket, threading, time
def connect(retries):
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, retries)
    s.bind(('${lab.clientAddr}', ${FIRST_SOURCE_PORT} + retries))
    start = time.monotonic()
    try:
        s.connect(('${lab.serverAddr}', ${PORT}))
        print(retries, 'connected', flush=True)
    except OSError:
        print(retries, round(time.monotonic() - start, 3), flush=True)
threads = [threading.Thread(target=connect, args=(r,)) for r in (${RETRIES.join(', ')})]
for t in threads: t.start()
for t in threads: t.join()
`;

const gaveUpAfterMs = new Map<number, number>();
const synTimesMs = new Map<number, number[]>();

beforeAll(async () => {
  if (skip) return;
  await lab.up();
  await runInNetns(lab.serverNs, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'DROP']);
  const tcpdump = await lab.capture(capture, ['tcp', 'dst', 'port', String(PORT)]);
  const clients = await runInNetns(lab.clientNs, [PYTHON, '-c', CLIENTS], { timeoutMs: 60_000 });
  await stop(tcpdump);
  for (const line of clients.stdout.trim().split('\n')) {
    const [retries, seconds] = line.split(' ');
    gaveUpAfterMs.set(Number(retries), Number(seconds) * 1000);
  }
  for (const [client, times] of synTimesBySourcePort(capture, FIRST_SOURCE_PORT)) synTimesMs.set(client, times);
}, 90_000);

afterAll(async () => {
  if (!skip) await lab.down();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip)(`a ${release()} client whose SYNs are dropped, as simulate --client-kernel ${release()} models it`, () => {
  for (const retries of RETRIES) {
    it(`TCP_SYNCNT ${retries}: the same SYNs at the same times, and connect() fails when the model gives up`, () => {
      expectSchedule(synTimesMs.get(retries) ?? [], gaveUpAfterMs.get(retries)!, synSchedule(release(), retries));
    });
  }
});

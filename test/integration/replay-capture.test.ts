// Replay agrees with reality: a real host-kernel listener (backlog 2, never accepts) in a
// namespace of this test's own, six real clients, tcpdump on the server's interface. The
// capture is then replayed through kernel profiles and the emulated decisions are compared
// with what the real kernel (this machine's, 6.x) did, connection by connection
// (test/helpers/overflow-story.ts; replay-capture-ipv6.test.ts is the same over IPv6).

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { detectServer } from '../../src/replay/server-endpoint.js';
import { parseIpv4 } from '../../src/wire/addr.js';
import { CaptureLab } from '../helpers/capture-lab.js';
import { integrationPrerequisites } from '../helpers/lab-fixture.js';
import { recordOverflowStory, storyReplayTests, type StoryRecording } from '../helpers/overflow-story.js';

const lab = new CaptureLab(process.env.SYNDROP_TEST_OFFLINE_PREFIX ?? 'sdo', '10.99.0');
const SERVER_ADDR = lab.serverAddr;
const PORT = 8080;

const skip = await integrationPrerequisites(['ip', 'tcpdump']);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay-real-'));
const capture = join(dir, 'overflow.pcap');

let recording: StoryRecording = { clientResults: [], realCounters: {} };

beforeAll(async () => {
  if (skip) return;
  recording = await recordOverflowStory(lab, capture, SERVER_ADDR, PORT, 4);
}, 60_000);

afterAll(async () => {
  if (!skip) await lab.down();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)('replay of a real accept-overflow capture (host kernel listener, backlog 2, never accepts)', () => {
  it('tcpdump wrote Ethernet frames the reader takes; the server is detected from the SYNs', () => {
    expect(existsSync(capture) && statSync(capture).size > 0).toBe(true);
    const reader = CaptureReader.open(capture);
    while (reader.next());
    reader.close();
    expect(reader.stats).toMatchObject({ format: 'pcap', linkTypes: [1], malformed: 0, stoppedAt: null });
    expect(detectServer(capture)).toEqual({ address: parseIpv4(SERVER_ADDR), port: PORT });
  });

  storyReplayTests(capture, () => recording);
});

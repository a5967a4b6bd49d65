// Replay agrees with reality over IPv6: replay-capture.test.ts's story (a real host-kernel
// listener, backlog 2, never accepts, six real clients, tcpdump on the server's interface;
// test/helpers/overflow-story.ts) in namespaces of this test's own, every connection over
// IPv6. The capture is replayed through kernel profiles and the emulated decisions are
// compared with what the real kernel (this machine's, 6.x) did, connection by connection.

import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/replay/capture-reader.js';
import { replayJson } from '../../src/replay/replay-result.js';
import { detectServer, endpointToString } from '../../src/replay/server-endpoint.js';
import { CaptureLab } from '../helpers/capture-lab.js';
import { integrationPrerequisites } from '../helpers/lab-fixture.js';
import { recordOverflowStory, replayStory, storyReplayTests, type StoryRecording } from '../helpers/overflow-story.js';

const lab = new CaptureLab(process.env.SYNDROP_TEST_OFFLINE6_PREFIX ?? 'sdr6', '10.96.0', 'fd96:6::');
const SERVER_ADDR = lab.serverAddr6!;
const CLIENT_ADDR = lab.clientAddr6!;
const PORT = 8080;

const skip = await integrationPrerequisites(['ip', 'tcpdump']);
const dir = mkdtempSync(join(tmpdir(), 'syndrop-replay6-real-'));
const capture = join(dir, 'overflow6.pcap');

let recording: StoryRecording = { clientResults: [], realCounters: {} };

beforeAll(async () => {
  if (skip) return;
  recording = await recordOverflowStory(lab, capture, SERVER_ADDR, PORT, 6);
}, 60_000);

afterAll(async () => {
  if (!skip) await lab.down();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)('replay of a real IPv6 accept-overflow capture (host kernel listener, backlog 2, never accepts)', () => {
  it('tcpdump wrote Ethernet frames of IPv6 only; the server is detected as [server]:8080, the clients print as [client]:port', () => {
    expect(existsSync(capture) && statSync(capture).size > 0).toBe(true);
    const reader = CaptureReader.open(capture);
    while (reader.next());
    reader.close();
    expect(reader.stats).toMatchObject({ format: 'pcap', linkTypes: [1], ipv4: 0, malformed: 0, stoppedAt: null });
    expect(reader.stats.ipv6).toBeGreaterThan(0);
    expect(endpointToString(detectServer(capture))).toBe(`[${SERVER_ADDR}]:${PORT}`);
    const result = replayStory(capture, '6.x');
    for (const c of result.connections) expect(c.client).toMatch(new RegExp(`^\\[${CLIENT_ADDR}\\]:\\d+$`));
    expect(result.input).toMatchObject({ ipv6Skipped: 0, fragments: 0 });
    expect((replayJson(result) as { server: string }).server).toBe(`[${SERVER_ADDR}]:${PORT}`);
  });

  storyReplayTests(capture, () => recording);
});

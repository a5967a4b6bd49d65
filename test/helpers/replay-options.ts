// The replay of a capture recorded by recorded-conversation.ts: its server (the harness host,
// port 80) under the accept-overflow story's listener (backlog 2, never accepts). Tests name
// only what they change.

import type { ReplayOptions } from '../../src/replay/replay.js';
import { SERVER } from './stack-harness.js';

export function conversationReplay(capturePath: string, kernel: string, overrides: Partial<ReplayOptions> = {}): ReplayOptions {
  return {
    capturePath,
    server: { address: SERVER, port: 80 },
    kernel,
    sysctls: [],
    backlog: 2,
    acceptRate: 0,
    app: null,
    seed: 7,
    outPath: null,
    bucketMs: 1000,
    ...overrides,
  };
}

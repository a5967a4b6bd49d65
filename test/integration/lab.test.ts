// The lab against the real kernel: namespaces, veths, NAT. Runs under its own prefix so it never
// touches a user's `sd` lab. Needs root and iproute2 + iptables (or nft).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { SyndropError } from '../../src/errors.js';
import { haveTool, run, runInNetns } from '../../src/lab/exec.js';
import { labDown, labExec, labStatus, labUp, listNetns } from '../../src/lab/lab.js';
import { LAB_NODE_NAMES, labTopology } from '../../src/lab/topology.js';

const PREFIX = 'sdt';
process.env.SYNDROP_LAB_PREFIX = PREFIX;
const LAB_NAMESPACES = LAB_NODE_NAMES.map((node) => `${PREFIX}-${node}`);

async function whyCannotRun(): Promise<string | undefined> {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) return 'not root';
  if (!(await haveTool('ip'))) return "'ip' (iproute2) not installed";
  if (!(await haveTool('iptables')) && !(await haveTool('nft'))) return 'neither iptables nor nft installed';
  if (!(await haveTool('sysctl'))) return "'sysctl' (procps) not installed";
  return undefined;
}

const skipReason = await whyCannotRun();
if (skipReason && process.env.CI) {
  throw new Error(`lab integration test cannot run in CI: ${skipReason}`);
}
if (skipReason) console.warn(`skipping lab integration tests: ${skipReason}`);

async function rootSnapshot(): Promise<string> {
  const parts = await Promise.all([run(['ip', '-o', 'addr']), run(['ip', 'route']), run(['ip', '-o', 'link'])]);
  return parts.map((p) => p.stdout).join('\n---\n');
}

async function labNamespacesPresent(): Promise<string[]> {
  const all = await listNetns();
  return LAB_NAMESPACES.filter((ns) => all.includes(ns));
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SyndropError);
  expect((error as SyndropError).code).toBe(code);
}

/** Ask a peer-echo server for the address it sees us as. */
async function seenAs(ns: string): Promise<string> {
  const script =
    "const s=require('node:net').connect(8080,'10.77.9.1');let d='';" +
    "s.on('data',c=>d+=c);s.on('end',()=>{process.stdout.write(d.trim())});" +
    "s.on('error',e=>{console.error(e.message);process.exit(3)});setTimeout(()=>process.exit(4),5000).unref()";
  const { stdout } = await runInNetns(ns, [process.execPath, '-e', script], { timeoutMs: 8000 });
  return stdout.trim();
}

describe.skipIf(skipReason !== undefined)('lab (real namespaces, prefix sdt)', () => {
  let before = '';

  beforeAll(async () => {
    before = await rootSnapshot();
    await labDown();
  });

  afterAll(async () => {
    await labDown();
    expect(await labNamespacesPresent()).toEqual([]);
    // Nothing in the root namespace moved: no address, route or link was added or changed.
    expect(await rootSnapshot()).toBe(before);
  });

  it('labUp is idempotent: a second run succeeds and changes nothing', async () => {
    const first = await labUp();
    expect(first.problems).toEqual([]);
    expect(first.up).toBe(true);
    const snapshot = await run(['ip', '-n', `${PREFIX}-nat`, '-o', 'addr']);
    const rules = await runInNetns(`${PREFIX}-nat`, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'], { allowFailure: true });
    const second = await labUp();
    expect(second.up).toBe(true);
    expect((await run(['ip', '-n', `${PREFIX}-nat`, '-o', 'addr'])).stdout).toBe(snapshot.stdout);
    const rulesAgain = await runInNetns(`${PREFIX}-nat`, ['iptables', '-t', 'nat', '-S', 'POSTROUTING'], { allowFailure: true });
    expect(rulesAgain.stdout).toBe(rules.stdout);
  });

  it('status reports every namespace, interface and address; sd0 has no reader yet', async () => {
    const status = await labStatus();
    const topology = labTopology(PREFIX);
    expect(status.prefix).toBe(PREFIX);
    expect(status.namespaces.map((ns) => ns.netns).sort()).toEqual([...LAB_NAMESPACES].sort());
    for (const ns of status.namespaces) {
      expect(ns.exists).toBe(true);
      for (const iface of ns.interfaces) {
        expect(iface.exists).toBe(true);
        expect(iface.addresses).toContain(iface.expectedAddress);
      }
    }
    expect(status.tun).toMatchObject({ netns: `${PREFIX}-srv`, name: 'sd0', exists: true, carrier: false });
    // The emulated host is on no interface anywhere in the lab.
    const allAddresses = status.namespaces.flatMap((ns) => ns.interfaces.flatMap((i) => i.addresses));
    expect(allAddresses.some((a) => a.startsWith(`${topology.emulatedHost}/`))).toBe(false);
  });

  it('routes: emulated prefix into sd0, spoofed sources back into c3, clients via their gateway', async () => {
    const srv = `${PREFIX}-srv`;
    const viaTun = await run(['ip', '-n', srv, 'route', 'get', '10.77.0.2']);
    expect(viaTun.stdout).toMatch(/dev sd0/);
    const spoofed = await run(['ip', '-n', srv, 'route', 'get', '10.77.200.7']);
    expect(spoofed.stdout).toMatch(/via 10\.77\.3\.2 dev c3/);
    const fromNat = await run(['ip', '-n', `${PREFIX}-nat`, 'route', 'get', '10.77.0.2']);
    expect(fromNat.stdout).toMatch(/via 10\.77\.9\.1 dev wan0/);
    const forward = await runInNetns(`${PREFIX}-c3`, ['sysctl', '-n', 'net.ipv4.ip_forward']);
    expect(forward.stdout.trim()).toBe('0');
    const liberal = await runInNetns(`${PREFIX}-nat`, ['sysctl', '-n', 'net.netfilter.nf_conntrack_tcp_be_liberal']);
    expect(liberal.stdout.trim()).toBe('1');
  });

  it('NAT: c1 and c2 reach the server as 10.77.9.254, c3 as itself (10.77.3.2)', async () => {
    const serverScript =
      "const srv=require('node:net').createServer(s=>s.end(s.remoteAddress+'\\n'));" +
      "srv.listen(8080,'10.77.9.1',()=>console.log('ready'));setTimeout(()=>process.exit(0),30000)";
    const server: ChildProcess = spawn('ip', ['netns', 'exec', `${PREFIX}-srv`, process.execPath, '-e', serverScript], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [ready] = (await once(server.stdout!, 'data')) as [Buffer];
      expect(ready.toString()).toMatch(/ready/);
      expect(await seenAs(`${PREFIX}-c1`)).toBe('10.77.9.254');
      expect(await seenAs(`${PREFIX}-c2`)).toBe('10.77.9.254');
      expect(await seenAs(`${PREFIX}-c3`)).toBe('10.77.3.2');
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('labExec propagates the exit code and refuses unknown names and empty commands', async () => {
    expect(await labExec('c3', ['sh', '-c', 'exit 7'])).toBe(7);
    expect(await labExec('srv', ['true'])).toBe(0);
    expect(await labExec('c1', ['sh', '-c', 'kill -TERM $$'])).toBe(128 + 15);
    await expectCode(labExec('c9', ['true']), 'SYNDROP_ERR_USAGE');
    await expectCode(labExec('c1', []), 'SYNDROP_ERR_USAGE');
  });

  it('labDown stops processes inside the lab, removes every namespace, and is idempotent', async () => {
    const sleeper = spawn('ip', ['netns', 'exec', `${PREFIX}-c2`, 'sleep', '60'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = once(sleeper, 'exit');
    const result = await labDown();
    expect(result.removed.sort()).toEqual([...LAB_NAMESPACES].sort());
    expect(result.killed).toContain(sleeper.pid);
    await exited;
    expect(await labNamespacesPresent()).toEqual([]);
    expect((await labDown()).removed).toEqual([]);
    const status = await labStatus();
    expect(status.up).toBe(false);
    expect(status.namespaces.every((ns) => !ns.exists)).toBe(true);
  });

  it('labExec without a lab → SYNDROP_ERR_NO_LAB', async () => {
    await expectCode(labExec('c1', ['true']), 'SYNDROP_ERR_NO_LAB');
  });

  it('a partial lab (one namespace deleted by hand) is reported, repaired by up, removed by down', async () => {
    await labUp();
    await run(['ip', 'netns', 'del', `${PREFIX}-nat`]);
    const partial = await labStatus();
    expect(partial.up).toBe(false);
    expect(partial.problems).toContain(`namespace ${PREFIX}-nat missing`);
    // (The peers of its veths vanish too, but asynchronously: the kernel tears a namespace down
    // in a workqueue, so the repair below may still meet them.)

    const repaired = await labUp();
    expect(repaired.problems).toEqual([]);

    await run(['ip', 'netns', 'del', `${PREFIX}-srv`]);
    const result = await labDown();
    expect(result.removed.sort()).toEqual(LAB_NAMESPACES.filter((ns) => ns !== `${PREFIX}-srv`).sort());
    expect(await labNamespacesPresent()).toEqual([]);
  });
});

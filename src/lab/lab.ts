// Building, inspecting and removing the lab described in topology.ts.
//
// Idempotent by construction: every step is create-if-missing, `addr replace`, `route replace`,
// `iptables -C || -A`, so `labUp` repairs a partial lab and a second run changes nothing. `labDown`
// finds its objects by name only (the five namespaces); deleting a namespace takes its veths, TUN,
// routes, NAT rules and conntrack state with it, so it also cleans up after a crash.

import { renderTable } from '../observe/table.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyndropError, usageError } from '../errors.js';
import { run, runInherited, runInNetns, haveTool, missingToolError } from './exec.js';
import { ensureMasquerade6 } from './nat66.js';
import {
  LAB_NODE_NAMES,
  isLabNodeName,
  labTopology,
  type LabNode,
  type LabNodeName,
  type LabSysctl,
  type LabTopology,
} from './topology.js';

export interface LabOptions {
  /** Lab prefix; default from SYNDROP_LAB_PREFIX, else `sd`. */
  prefix?: string;
}

export interface InterfaceStatus {
  name: string;
  exists: boolean;
  /** operstate as `ip` reports it (UP, DOWN, UNKNOWN …); undefined when missing. */
  state?: string;
  /** Lower layer up. For the TUN this means a process is attached (TUNSETIFF) and reading. */
  carrier: boolean;
  expectedAddress: string;
  /** IPv4 addresses present, CIDR form. */
  addresses: string[];
}

export interface NamespaceStatus {
  node: LabNodeName;
  netns: string;
  role: string;
  exists: boolean;
  interfaces: InterfaceStatus[];
}

export interface LabStatus {
  prefix: string;
  /** Every namespace and interface exists with its address. */
  up: boolean;
  emulatedHost: string;
  namespaces: NamespaceStatus[];
  tun: { netns: string; name: string; exists: boolean; carrier: boolean; address: string };
  /** Human-readable list of what is missing; empty when `up`. */
  problems: string[];
}

export interface LabDownResult {
  prefix: string;
  /** Namespaces that existed and were deleted. */
  removed: string[];
  /** Pids that were still running inside the lab and were terminated. */
  killed: number[];
}

/** Throws SYNDROP_ERR_NOT_ROOT unless running as root. */
export function requireRoot(): void {
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new SyndropError('SYNDROP_ERR_NOT_ROOT', 'needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): run as root');
  }
}

/** Names of all network namespaces (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list']);
  if (stdout.trim() === '') return [];
  const parsed = JSON.parse(stdout) as Array<{ name: string }>;
  return parsed.map((entry) => entry.name);
}

async function ipIn(ns: string, args: readonly string[], allowFailure = false): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(['ip', '-n', ns, ...args], { allowFailure });
}

async function linkExists(ns: string, iface: string): Promise<boolean> {
  const { code } = await ipIn(ns, ['link', 'show', 'dev', iface], true);
  return code === 0;
}

async function applySysctls(node: LabNode, stage: LabSysctl['stage']): Promise<void> {
  const assignments = node.sysctls.filter((s) => s.stage === stage).map((s) => `${s.key}=${s.value}`);
  if (assignments.length === 0) return;
  await runInNetns(node.netns, ['sysctl', '-q', '-w', ...assignments]);
}

async function ensureNetns(node: LabNode, existing: ReadonlySet<string>): Promise<void> {
  if (!existing.has(node.netns)) await run(['ip', 'netns', 'add', node.netns]);
  await ipIn(node.netns, ['link', 'set', 'dev', 'lo', 'up']);
}

async function ensureVeth(topology: LabTopology, link: LabTopology['links'][number]): Promise<void> {
  const a = { ns: topology.nodes[link.a.node].netns, iface: link.a.iface };
  const b = { ns: topology.nodes[link.b.node].netns, iface: link.b.iface };
  const [haveA, haveB] = await Promise.all([linkExists(a.ns, a.iface), linkExists(b.ns, b.iface)]);
  if (haveA && haveB) return;
  // Half a pair cannot be repaired (the peer is gone or foreign): remove what is left, recreate.
  if (haveA) await ipIn(a.ns, ['link', 'del', 'dev', a.iface], true);
  if (haveB) await ipIn(b.ns, ['link', 'del', 'dev', b.iface], true);
  // Both ends are born inside their namespaces: no device ever appears in the root namespace.
  const argv = ['ip', 'link', 'add', a.iface, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.iface, 'netns', b.ns];
  // A namespace deleted a moment ago takes its veth peers down asynchronously (netns cleanup runs
  // in a kernel workqueue): the old name may linger for a few ms, so retry "File exists" briefly.
  for (let attempt = 0; ; attempt++) {
    const result = await run(argv, { allowFailure: true });
    if (result.code === 0) return;
    if (attempt >= 20 || !/exists/i.test(result.stderr)) {
      throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `${argv.join(' ')}: ${result.stderr.trim() || `exit code ${result.code}`}`);
    }
    await sleep(50);
    if (haveB) await ipIn(b.ns, ['link', 'del', 'dev', b.iface], true);
    if (haveA) await ipIn(a.ns, ['link', 'del', 'dev', a.iface], true);
  }
}

async function ensureTun(topology: LabTopology): Promise<void> {
  const { netns, name, mtu } = topology.tun;
  // Persistent device: it survives emulator restarts; no reader attached means NO-CARRIER and
  // packets routed to it are dropped (research pitfall 1).
  if (!(await linkExists(netns, name))) await ipIn(netns, ['tuntap', 'add', 'dev', name, 'mode', 'tun']);
  await ipIn(netns, ['link', 'set', 'dev', name, 'mtu', String(mtu)]);
}

async function disableOffloads(node: LabNode, ethtoolPresent: boolean): Promise<void> {
  if (!ethtoolPresent) return;
  await Promise.all(
    node.interfaces
      .filter((i) => i.kind === 'veth')
      .map((i) =>
        runInNetns(node.netns, ['ethtool', '-K', i.name, 'tx', 'off', 'rx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'], {
          allowFailure: true,
        }).catch(() => undefined),
      ),
  );
}

async function ensureMasquerade(node: LabNode): Promise<void> {
  const masquerade = node.masquerade;
  if (!masquerade) return;
  if (await haveTool('iptables')) {
    for (const source of masquerade.sources) {
      const rule = ['-t', 'nat', '-s', source, '-o', masquerade.outInterface, '-j', 'MASQUERADE'];
      const check = await runInNetns(node.netns, ['iptables', '-w', '5', '-C', 'POSTROUTING', ...rule], { allowFailure: true });
      if (check.code !== 0) await runInNetns(node.netns, ['iptables', '-w', '5', '-A', 'POSTROUTING', ...rule]);
    }
    return;
  }
  if (await haveTool('nft')) {
    // A table of our own, rebuilt from scratch each time: idempotent without parsing rules.
    const table = ['ip', 'syndrop'];
    await runInNetns(node.netns, ['nft', 'add', 'table', ...table]);
    await runInNetns(node.netns, [
      'nft', 'add', 'chain', ...table, 'postrouting',
      '{', 'type', 'nat', 'hook', 'postrouting', 'priority', '100', ';', 'policy', 'accept', ';', '}',
    ]);
    await runInNetns(node.netns, ['nft', 'flush', 'chain', ...table, 'postrouting']);
    for (const source of masquerade.sources) {
      await runInNetns(node.netns, [
        'nft', 'add', 'rule', ...table, 'postrouting', 'ip', 'saddr', source, 'oifname', masquerade.outInterface, 'masquerade',
      ]);
    }
    return;
  }
  throw missingToolError('iptables');
}

async function requireTools(): Promise<void> {
  for (const tool of ['ip', 'sysctl']) {
    if (!(await haveTool(tool))) throw missingToolError(tool);
  }
}

/** Build (or repair) the lab. Returns its status afterwards. */
export async function labUp(options: LabOptions = {}): Promise<LabStatus> {
  requireRoot();
  await requireTools();
  const topology = labTopology(options.prefix);
  const nodes = LAB_NODE_NAMES.map((name) => topology.nodes[name]);
  const existing = new Set(await listNetns());

  for (const node of nodes) await ensureNetns(node, existing);
  await Promise.all(nodes.map((node) => applySysctls(node, 'netns')));

  for (const link of topology.links) await ensureVeth(topology, link);
  await ensureTun(topology);

  const ethtoolPresent = await haveTool('ethtool');
  await Promise.all(
    nodes.map(async (node) => {
      for (const iface of node.interfaces) {
        await ipIn(node.netns, ['addr', 'replace', iface.address, 'dev', iface.name]);
        await ipIn(node.netns, ['link', 'set', 'dev', iface.name, 'up']);
      }
      await applySysctls(node, 'links');
      // IPv6 addresses after the per-interface sysctls: the TUN's IPv6 is configured there.
      for (const iface of node.interfaces) await ipIn(node.netns, ['-6', 'addr', 'replace', iface.address6, 'dev', iface.name, 'nodad']);
      await disableOffloads(node, ethtoolPresent);
    }),
  );

  // Routes after every link is up: a gateway must be reachable on an up interface.
  await Promise.all(
    nodes.map(async (node) => {
      for (const route of node.routes) {
        await ipIn(node.netns, [...(route.ipv6 ? ['-6'] : []), 'route', 'replace', route.destination, 'via', route.via, 'dev', route.dev]);
      }
    }),
  );

  for (const node of nodes) {
    await ensureMasquerade(node);
    await ensureMasquerade6(node);
    await applySysctls(node, 'nat');
  }

  return labStatus({ prefix: topology.prefix });
}

async function netnsPids(ns: string): Promise<number[]> {
  const { code, stdout } = await run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  if (code !== 0) return [];
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM every process inside ns, wait briefly, SIGKILL what is left. Returns the pids found. */
async function killNetnsProcesses(ns: string, graceMs = 1000): Promise<number[]> {
  const pids = await netnsPids(ns);
  if (pids.length === 0) return [];
  for (const pid of pids) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if ((await netnsPids(ns)).length === 0) return pids;
  }
  // Whatever is still inside (including children started meanwhile) gets no second chance.
  for (const pid of await netnsPids(ns)) signalPid(pid, 'SIGKILL');
  return pids;
}

/** Remove the lab: works on a complete, partial or crashed lab, and when there is none. */
export async function labDown(options: LabOptions = {}): Promise<LabDownResult> {
  requireRoot();
  if (!(await haveTool('ip'))) throw missingToolError('ip');
  const topology = labTopology(options.prefix);
  const existing = new Set(await listNetns());
  const present = LAB_NODE_NAMES.map((name) => topology.nodes[name].netns).filter((ns) => existing.has(ns));
  const killed = (await Promise.all(present.map((ns) => killNetnsProcesses(ns)))).flat();
  const removed: string[] = [];
  for (const ns of present) {
    const { code, stderr } = await run(['ip', 'netns', 'del', ns], { allowFailure: true });
    if (code === 0) {
      removed.push(ns);
    } else if ((await listNetns()).includes(ns)) {
      throw new SyndropError('SYNDROP_ERR_COMMAND_FAILED', `ip netns del ${ns}: ${stderr.trim() || `exit code ${code}`}`);
    }
  }
  return { prefix: topology.prefix, removed, killed };
}

interface IpLinkJson {
  ifname: string;
  flags?: string[];
  operstate?: string;
}

interface IpAddrJson extends IpLinkJson {
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

async function namespaceStatus(node: LabNode, exists: boolean): Promise<NamespaceStatus> {
  const status: NamespaceStatus = { node: node.name, netns: node.netns, role: node.role, exists, interfaces: [] };
  let links: IpAddrJson[] = [];
  if (exists) {
    const { code, stdout } = await ipIn(node.netns, ['-j', 'addr', 'show'], true);
    if (code === 0 && stdout.trim() !== '') links = JSON.parse(stdout) as IpAddrJson[];
  }
  for (const iface of node.interfaces) {
    const link = links.find((l) => l.ifname === iface.name);
    status.interfaces.push({
      name: iface.name,
      exists: link !== undefined,
      state: link?.operstate,
      carrier: link?.flags?.includes('LOWER_UP') ?? false,
      expectedAddress: iface.address,
      addresses: (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    });
  }
  return status;
}

/** What exists of the lab right now. Never throws because the lab is missing. */
export async function labStatus(options: LabOptions = {}): Promise<LabStatus> {
  requireRoot();
  if (!(await haveTool('ip'))) throw missingToolError('ip');
  const topology = labTopology(options.prefix);
  const existing = new Set(await listNetns());
  const namespaces = await Promise.all(
    LAB_NODE_NAMES.map((name) => namespaceStatus(topology.nodes[name], existing.has(topology.nodes[name].netns))),
  );
  const problems: string[] = [];
  for (const ns of namespaces) {
    if (!ns.exists) {
      problems.push(`namespace ${ns.netns} missing`);
      continue;
    }
    for (const iface of ns.interfaces) {
      if (!iface.exists) problems.push(`${ns.netns}: ${iface.name} missing`);
      else if (!iface.addresses.includes(iface.expectedAddress)) problems.push(`${ns.netns}: ${iface.name} lacks ${iface.expectedAddress}`);
    }
  }
  const srv = namespaces.find((ns) => ns.node === topology.tun.node);
  const tunIface = srv?.interfaces.find((i) => i.name === topology.tun.name);
  return {
    prefix: topology.prefix,
    up: problems.length === 0,
    emulatedHost: topology.emulatedHost,
    namespaces,
    tun: {
      netns: topology.tun.netns,
      name: topology.tun.name,
      exists: tunIface?.exists ?? false,
      carrier: tunIface?.carrier ?? false,
      address: topology.tun.address,
    },
    problems,
  };
}

/** Throws SYNDROP_ERR_NO_LAB unless every namespace of the lab exists. */
export async function requireLab(options: LabOptions = {}): Promise<LabTopology> {
  const topology = labTopology(options.prefix);
  const existing = new Set(await listNetns());
  if (!LAB_NODE_NAMES.every((name) => existing.has(topology.nodes[name].netns))) {
    throw new SyndropError('SYNDROP_ERR_NO_LAB', "the lab is not up: run 'syndrop lab up'");
  }
  return topology;
}

/**
 * Run argv inside one lab namespace with inherited stdio; resolves to its exit code
 * (128 + signal number when it was killed by a signal).
 */
export async function labExec(node: string, argv: readonly string[], options: LabOptions = {}): Promise<number> {
  if (!isLabNodeName(node)) {
    throw usageError(`unknown lab namespace '${node}': use one of ${LAB_NODE_NAMES.join(', ')}`);
  }
  if (argv.length === 0) throw usageError('nothing to run: syndrop lab exec <name> -- <command...>');
  requireRoot();
  const topology = await requireLab(options);
  return runInherited(['ip', 'netns', 'exec', topology.nodes[node].netns, ...argv]);
}

/** The address table printed after `lab up`: namespace, role, address. */
export function formatLabAddresses(topology: LabTopology = labTopology()): string {
  const rows: string[][] = [['NAMESPACE', 'ROLE', 'ADDRESS']];
  for (const name of LAB_NODE_NAMES) {
    const node = topology.nodes[name];
    const addresses = node.interfaces.map((i) => `${i.name} ${i.address}`).join(', ');
    rows.push([node.netns, node.role, addresses]);
  }
  rows.push(['(none)', 'emulated host: syndrop run answers here', topology.emulatedHost]);
  return renderTable(rows);
}

/** `lab status` for people. */
export function formatLabStatus(status: LabStatus): string {
  const lines: string[] = [];
  const present = status.namespaces.filter((ns) => ns.exists).length;
  lines.push(
    `lab '${status.prefix}': ${status.up ? 'up' : present === 0 ? 'down' : 'incomplete'}` +
      ` (${present}/${status.namespaces.length} namespaces)`,
  );
  if (present > 0) {
    const rows: string[][] = [['NAMESPACE', 'INTERFACE', 'STATE', 'ADDRESS']];
    for (const ns of status.namespaces) {
      if (!ns.exists) {
        rows.push([ns.netns, '-', 'missing', '-']);
        continue;
      }
      for (const iface of ns.interfaces) {
        rows.push([ns.netns, iface.name, iface.exists ? (iface.state ?? '?') : 'missing', iface.addresses.join(',') || '-']);
      }
    }
    lines.push(renderTable(rows));
    const tun = status.tun;
    if (tun.exists) {
      lines.push(
        tun.carrier
          ? `${tun.name} in ${tun.netns}: a reader is attached (carrier); emulated host ${status.emulatedHost}`
          : `${tun.name} in ${tun.netns}: no reader attached (NO-CARRIER): start 'syndrop run' to answer for ${status.emulatedHost}`,
      );
    }
  }
  for (const problem of status.problems) if (present > 0) lines.push(`problem: ${problem}`);
  if (!status.up) lines.push(present === 0 ? "run 'syndrop lab up' to build it" : "run 'syndrop lab up' to repair it");
  return lines.join('\n');
}

// The lab as data: namespaces, links, addresses, routes, sysctls and NAT. lab.ts turns this into
// `ip`/`sysctl`/`iptables` calls; nothing here runs a command.
//
//   sd-c1 eth0 10.77.1.2 ── lan1 10.77.1.1 ┐
//                                          ├ sd-nat (MASQUERADE → 10.77.9.254) wan0 ── nat0 10.77.9.1 ┐
//   sd-c2 eth0 10.77.2.2 ── lan2 10.77.2.1 ┘                                                         ├ sd-srv ── sd0 (TUN) 10.77.0.1/24
//   sd-c3 eth0 10.77.3.2 ──────────────────────────────────────────────────────────── c3 10.77.3.1 ┘   emulated host 10.77.0.2
//
// Every address and route lives inside the lab's namespaces; the root namespace is never touched,
// which is also why several labs (distinct prefixes) can run side by side with the same addresses.

import { usageError } from '../errors.js';

export type LabNodeName = 'srv' | 'nat' | 'c1' | 'c2' | 'c3';

/** Teardown order: leaves first, the server (holding the TUN) last. */
export const LAB_NODE_NAMES: readonly LabNodeName[] = ['c1', 'c2', 'c3', 'nat', 'srv'];

export const DEFAULT_LAB_PREFIX = 'sd';

/** The address the emulator answers for. Deliberately not assigned to any interface: if it were
 *  local to the server namespace, that kernel would answer (or RST) instead of the emulator. */
export const EMULATED_HOST = '10.77.0.2';

/** Source prefix for spoofed-source floods. The server routes it back into the direct client's
 *  namespace, whose ip_forward=0 drops the SYN-ACKs silently (counted as IpInAddrErrors there). */
export const SPOOFED_PREFIX = '10.77.128.0/17';

/** The address c1 and c2 share behind the NAT, as seen by the server. */
export const NAT_PUBLIC_ADDRESS = '10.77.9.254';

// IPv6 mirrors the IPv4 plan (issue 20): network 10.77.N.0/24 ↔ fd77:N::/64, the same host
// numbers, the emulated host fd77::2 on the TUN's fd77::/64, and NAT66 (masquerade) making
// c1 and c2 appear as fd77:9::254.
/** The emulated host's IPv6 address (not on any interface, like EMULATED_HOST). */
export const EMULATED_HOST6 = 'fd77::2';
export const NAT_PUBLIC_ADDRESS6 = 'fd77:9::254';
/** IPv6 source prefix for spoofed-source floods, routed back into c3 like SPOOFED_PREFIX (the
 *  upper half of fd77::/16, as 10.77.128.0/17 is of 10.77.0.0/16); c3 does not forward IPv6. */
export const SPOOFED_PREFIX6 = 'fd77:8000::/17';

export interface LabInterface {
  name: string;
  /** CIDR, e.g. 10.77.3.2/24. */
  address: string;
  /** IPv6 CIDR, e.g. fd77:3::2/64. */
  address6: string;
  kind: 'veth' | 'tun';
}

export interface LabLink {
  /** Both ends of a veth pair, created in their namespaces directly. */
  a: { node: LabNodeName; iface: string };
  b: { node: LabNodeName; iface: string };
}

export interface LabRoute {
  destination: string;
  via: string;
  dev: string;
  /** An IPv6 route (`ip -6 route`). */
  ipv6?: boolean;
}

/**
 * A sysctl and when it can be written: `netns` right after the namespace exists, `links` once the
 * interfaces exist (per-interface keys), `nat` once conntrack is loaded (nf_conntrack_* keys appear
 * in a namespace only after the first NAT rule pulls the module in).
 */
export interface LabSysctl {
  key: string;
  value: string;
  stage: 'netns' | 'links' | 'nat';
}

export interface LabMasquerade {
  sources: readonly string[];
  /** The same clients' IPv6 prefixes (ip6tables MASQUERADE: NAT66). */
  sources6: readonly string[];
  outInterface: string;
}

export interface LabNode {
  name: LabNodeName;
  netns: string;
  role: string;
  interfaces: readonly LabInterface[];
  routes: readonly LabRoute[];
  sysctls: readonly LabSysctl[];
  masquerade?: LabMasquerade;
}

export interface LabTun {
  node: LabNodeName;
  netns: string;
  name: string;
  address: string;
  address6: string;
  mtu: number;
}

export interface LabTopology {
  prefix: string;
  emulatedHost: string;
  spoofedPrefix: string;
  natPublicAddress: string;
  tun: LabTun;
  nodes: Readonly<Record<LabNodeName, LabNode>>;
  links: readonly LabLink[];
}

const PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Lab prefix from SYNDROP_LAB_PREFIX (for a parallel lab), else `sd`. */
export function labPrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = env.SYNDROP_LAB_PREFIX ?? DEFAULT_LAB_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw usageError(
      `SYNDROP_LAB_PREFIX='${prefix}' is not a valid lab prefix: use up to 20 lowercase letters, digits or '-', starting with a letter`,
    );
  }
  return prefix;
}

export function isLabNodeName(name: string): name is LabNodeName {
  return (LAB_NODE_NAMES as readonly string[]).includes(name);
}

const rpFilterOff = (iface: string): LabSysctl => ({
  key: `net.ipv4.conf.${iface}.rp_filter`,
  value: '0',
  stage: 'links',
});

export function labTopology(prefix: string = labPrefix()): LabTopology {
  if (!PREFIX_PATTERN.test(prefix)) throw usageError(`'${prefix}' is not a valid lab prefix`);
  const netns = (node: LabNodeName): string => `${prefix}-${node}`;
  const routerSysctls: LabSysctl[] = [
    { key: 'net.ipv4.ip_forward', value: '1', stage: 'netns' },
    { key: 'net.ipv4.conf.all.rp_filter', value: '0', stage: 'netns' },
    { key: 'net.ipv4.conf.default.rp_filter', value: '0', stage: 'netns' },
    { key: 'net.ipv6.conf.all.forwarding', value: '1', stage: 'netns' },
    // No duplicate address detection: addresses are usable at once, and nothing can collide.
    { key: 'net.ipv6.conf.default.accept_dad', value: '0', stage: 'netns' },
  ];
  // Clients never forward: that is what silently swallows SYN-ACKs sent to spoofed sources.
  const clientSysctls: LabSysctl[] = [
    { key: 'net.ipv4.ip_forward', value: '0', stage: 'netns' },
    { key: 'net.ipv6.conf.default.accept_dad', value: '0', stage: 'netns' },
  ];

  /** c1 and c2: the same client on its own LAN 10.77.N.0/24 behind the NAT router's lanN. */
  const natClient = (name: 'c1' | 'c2', lan: 1 | 2): LabNode => ({
    name,
    netns: netns(name),
    role: `client behind NAT (seen as ${NAT_PUBLIC_ADDRESS})`,
    interfaces: [{ name: 'eth0', address: `10.77.${lan}.2/24`, address6: `fd77:${lan}::2/64`, kind: 'veth' }],
    routes: [
      { destination: 'default', via: `10.77.${lan}.1`, dev: 'eth0' },
      { destination: 'default', via: `fd77:${lan}::1`, dev: 'eth0', ipv6: true },
    ],
    sysctls: clientSysctls,
  });

  const tun: LabTun = { node: 'srv', netns: netns('srv'), name: 'sd0', address: '10.77.0.1/24', address6: 'fd77::1/64', mtu: 1500 };

  const nodes: Record<LabNodeName, LabNode> = {
    srv: {
      name: 'srv',
      netns: netns('srv'),
      role: `server: TUN ${tun.name}, emulated host ${EMULATED_HOST}`,
      interfaces: [
        { name: tun.name, address: tun.address, address6: tun.address6, kind: 'tun' },
        { name: 'nat0', address: '10.77.9.1/24', address6: 'fd77:9::1/64', kind: 'veth' },
        { name: 'c3', address: '10.77.3.1/24', address6: 'fd77:3::1/64', kind: 'veth' },
      ],
      routes: [
        { destination: SPOOFED_PREFIX, via: '10.77.3.2', dev: 'c3' },
        { destination: SPOOFED_PREFIX6, via: 'fd77:3::2', dev: 'c3', ipv6: true },
      ],
      sysctls: [
        ...routerSysctls,
        rpFilterOff(tun.name),
        rpFilterOff('nat0'),
        rpFilterOff('c3'),
        // IPv6 on the TUN for fd77::/64, without autoconf (no link-local address, router
        // solicitations or RAs to feed the emulator), and kept while no emulator is attached
        // (a TUN without a reader has no carrier).
        { key: `net.ipv6.conf.${tun.name}.disable_ipv6`, value: '0', stage: 'links' },
        { key: `net.ipv6.conf.${tun.name}.addr_gen_mode`, value: '1', stage: 'links' },
        { key: `net.ipv6.conf.${tun.name}.accept_ra`, value: '0', stage: 'links' },
        { key: `net.ipv6.conf.${tun.name}.router_solicitations`, value: '0', stage: 'links' },
        { key: `net.ipv6.conf.${tun.name}.keep_addr_on_down`, value: '1', stage: 'links' },
      ],
    },
    nat: {
      name: 'nat',
      netns: netns('nat'),
      role: `NAT router: c1, c2 appear as ${NAT_PUBLIC_ADDRESS}`,
      interfaces: [
        { name: 'wan0', address: '10.77.9.254/24', address6: `${NAT_PUBLIC_ADDRESS6}/64`, kind: 'veth' },
        { name: 'lan1', address: '10.77.1.1/24', address6: 'fd77:1::1/64', kind: 'veth' },
        { name: 'lan2', address: '10.77.2.1/24', address6: 'fd77:2::1/64', kind: 'veth' },
      ],
      routes: [
        { destination: '10.77.0.0/24', via: '10.77.9.1', dev: 'wan0' },
        { destination: 'fd77::/64', via: 'fd77:9::1', dev: 'wan0', ipv6: true },
      ],
      sysctls: [
        ...routerSysctls,
        rpFilterOff('wan0'),
        rpFilterOff('lan1'),
        rpFilterOff('lan2'),
        // A segment conntrack deems INVALID is not de-NATed and lands on the router's own stack,
        // which RSTs it (research pitfall 3); be liberal so deliberate oddities reach the client.
        { key: 'net.netfilter.nf_conntrack_tcp_be_liberal', value: '1', stage: 'nat' },
      ],
      masquerade: { sources: ['10.77.1.0/24', '10.77.2.0/24'], sources6: ['fd77:1::/64', 'fd77:2::/64'], outInterface: 'wan0' },
    },
    c1: natClient('c1', 1),
    c2: natClient('c2', 2),
    c3: {
      name: 'c3',
      netns: netns('c3'),
      role: `direct client (no NAT); spoofed sources ${SPOOFED_PREFIX} route here`,
      interfaces: [{ name: 'eth0', address: '10.77.3.2/24', address6: 'fd77:3::2/64', kind: 'veth' }],
      routes: [
        { destination: 'default', via: '10.77.3.1', dev: 'eth0' },
        { destination: 'default', via: 'fd77:3::1', dev: 'eth0', ipv6: true },
      ],
      sysctls: clientSysctls,
    },
  };

  const links: LabLink[] = [
    { a: { node: 'srv', iface: 'nat0' }, b: { node: 'nat', iface: 'wan0' } },
    { a: { node: 'srv', iface: 'c3' }, b: { node: 'c3', iface: 'eth0' } },
    { a: { node: 'nat', iface: 'lan1' }, b: { node: 'c1', iface: 'eth0' } },
    { a: { node: 'nat', iface: 'lan2' }, b: { node: 'c2', iface: 'eth0' } },
  ];

  return {
    prefix,
    emulatedHost: EMULATED_HOST,
    spoofedPrefix: SPOOFED_PREFIX,
    natPublicAddress: NAT_PUBLIC_ADDRESS,
    tun,
    nodes,
    links,
  };
}

/** The address of a node's first interface without its prefix length, e.g. c3 → 10.77.3.2. */
export function nodeAddress(topology: LabTopology, node: LabNodeName): string {
  const iface = topology.nodes[node].interfaces.find((i) => i.kind === 'veth') ?? topology.nodes[node].interfaces[0];
  return iface.address.split('/')[0];
}

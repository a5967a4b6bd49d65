// Prometheus text exposition format 0.0.4 for `syndrop stats --prom` and /metrics.
// Pure: values in, text out.
//
// Naming rule (one rule, mechanical, reversible by eye):
//   syndrop_ + <group> + _ + snake(<rest>) + (_total for counters)
// where <group> is the nstat group lowercased (ip, icmp, tcp, tcpext) and syndrop's own
// Syndrop* counters take no group (syndrop_rx_bad_ihl_total, not syndrop_syndrop_…).
// snake() splits CamelCase words and keeps acronyms together: a capital run ends where a
// capital is followed by a lowercase letter; a leading `TCP` (the kernel's prefix for
// LINUX_MIB_TCP* names) is always a word of its own, so TCPACK… splits as tcp_ack_…. So
//   TcpExtListenOverflows      → syndrop_tcpext_listen_overflows_total
//   TcpExtTCPReqQFullDrop      → syndrop_tcpext_tcp_req_q_full_drop_total
//   TcpExtPAWSPassive          → syndrop_tcpext_paws_passive_total
//   TcpExtTCPACKSkippedSynRecv → syndrop_tcpext_tcp_ack_skipped_syn_recv_total
//   TcpCurrEstab (gauge)       → syndrop_tcp_curr_estab
// The kernel's TCP prefix inside TcpExt names is kept: it is part of the name users grep.

import { COUNTERS, type CounterInfo } from '../stack/mib.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PromLabels {
  /** e.g. "linux-3.10" */
  readonly profile: string;
  /** e.g. "10.77.0.2:80"; labels the queue gauges only (counters are host-wide). */
  readonly listener?: string;
}

export interface PromQueueGauges {
  readonly acceptQueueLength: number;
  readonly acceptQueueMax: number;
  readonly synQueueLength: number;
  readonly synQueueMax: number;
}

const byName: ReadonlyMap<string, CounterInfo> = new Map(COUNTERS.map((c) => [c.name, c]));
const GROUPS = ['TcpExt', 'IpExt', 'IcmpMsg', 'Icmp', 'Tcp', 'Udp', 'Ip'];

/** CamelCase → snake_case with acronyms kept whole (TCPReqQFullDrop → tcp_req_q_full_drop). */
export function snakeCase(name: string): string {
  return name
    .replace(/^TCP(?=[A-Z])/, 'TCP_') // the kernel's leading TCP is a word of its own: TCPACKSkipped
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase();
}

/** The metric name of an nstat counter, without the `_total` suffix. */
export function promBaseName(nstatName: string): string {
  if (nstatName.startsWith('Syndrop')) return 'syndrop_' + snakeCase(nstatName.slice('Syndrop'.length));
  for (const group of GROUPS) {
    if (nstatName.startsWith(group) && /^[A-Z]/.test(nstatName.slice(group.length))) {
      return `syndrop_${group.toLowerCase()}_${snakeCase(nstatName.slice(group.length))}`;
    }
  }
  return 'syndrop_' + snakeCase(nstatName);
}

/** The full metric name: `_total` for counters, bare for gauges (mib `gauge`). */
export function promMetricName(nstatName: string): string {
  return byName.get(nstatName)?.gauge ? promBaseName(nstatName) : promBaseName(nstatName) + '_total';
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelSet(labels: readonly (readonly [string, string])[]): string {
  return labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function family(name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): string {
  let out = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
  for (const [labels, value] of samples) out += `${name}${labels} ${formatValue(value)}\n`;
  return out;
}

/**
 * One scrape: every counter of `values` (in its order), then the listener's queue gauges,
 * then `syndrop_drops_total{reason}`. Every series carries `profile`; the queue gauges
 * also carry `listener` when given. A metric family is emitted even with no drop reasons
 * yet, so dashboards can discover it before the first drop.
 */
export function renderPrometheus(
  values: Readonly<Record<string, number>>,
  labels: PromLabels,
  gauges?: PromQueueGauges,
  dropsByReason?: Readonly<Record<string, number>>,
): string {
  const base: [string, string][] = [['profile', labels.profile]];
  const hostLabels = labelSet(base);
  let out = '';
  for (const name of Object.keys(values)) {
    const info = byName.get(name);
    const help = info ? `${info.help} (nstat ${name})` : `nstat ${name}`;
    out += family(promMetricName(name), info?.gauge ? 'gauge' : 'counter', help, [[hostLabels, values[name]!]]);
  }
  if (gauges) {
    const listenerLabels = labelSet(labels.listener === undefined ? base : [...base, ['listener', labels.listener]]);
    const g: [string, string, number][] = [
      ['syndrop_accept_queue_length', 'children waiting in the accept queue (sk_ack_backlog; ss Recv-Q)', gauges.acceptQueueLength],
      ['syndrop_accept_queue_max', 'accept queue limit (sk_max_ack_backlog = min(backlog, somaxconn); ss Send-Q)', gauges.acceptQueueMax],
      ['syndrop_syn_queue_length', 'request socks in SYN_RECV (inet_csk_reqsk_queue_len)', gauges.synQueueLength],
      ['syndrop_syn_queue_max', 'SYN queue limit under the profile\'s rule', gauges.synQueueMax],
    ];
    for (const [name, help, value] of g) out += family(name, 'gauge', help, [[listenerLabels, value]]);
  }
  if (dropsByReason) {
    const samples: [string, number][] = Object.keys(dropsByReason).map((reason) => [
      labelSet([...base, ['reason', reason]]),
      dropsByReason[reason]!,
    ]);
    out += family('syndrop_drops_total', 'counter', 'packets dropped, by the kernel drop reason of the emulated version (SKB_DROP_REASON_*, or none)', samples);
  }
  return out;
}

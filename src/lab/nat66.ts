// NAT66 for the lab's NAT router (issue 20): c1 and c2 leave as fd77:9::254, so the emulated
// host sees two IPv6 clients behind one address — what makes the per-host PAWS story of
// tcp_tw_recycle apply to IPv6 as it does to IPv4.

import { haveTool, missingToolError, runInNetns } from './exec.js';
import type { LabNode } from './topology.js';

/** ip6tables MASQUERADE for each client prefix (create-if-missing, like the IPv4 rules). */
export async function ensureMasquerade6(node: LabNode): Promise<void> {
  const masquerade = node.masquerade;
  if (!masquerade || masquerade.sources6.length === 0) return;
  if (!(await haveTool('ip6tables'))) throw missingToolError('ip6tables');
  for (const source of masquerade.sources6) {
    const rule = ['-t', 'nat', '-s', source, '-o', masquerade.outInterface, '-j', 'MASQUERADE'];
    const check = await runInNetns(node.netns, ['ip6tables', '-w', '5', '-C', 'POSTROUTING', ...rule], { allowFailure: true });
    if (check.code !== 0) await runInNetns(node.netns, ['ip6tables', '-w', '5', '-A', 'POSTROUTING', ...rule]);
  }
}

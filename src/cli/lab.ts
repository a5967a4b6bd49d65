// `syndrop lab up|down|status|exec`: parsing and printing only; the work is in src/lab/.

import type { Command } from 'commander';
import { formatLabAddresses, formatLabStatus, labDown, labExec, labStatus, labUp } from '../lab/lab.js';
import { LAB_NODE_NAMES, labTopology } from '../lab/topology.js';
import { CONTROL_DIR } from '../control/paths.js';
import { removeStaleControlSockets } from '../control/socket-file.js';

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('build, inspect and remove the network-namespace lab (server with TUN, NAT router, clients)');

  lab
    .command('up')
    .description('create the lab (idempotent: repairs a partial lab) and print its addresses')
    .action(async () => {
      const status = await labUp();
      console.log(formatLabAddresses(labTopology(status.prefix)));
      if (!status.tun.carrier) {
        console.log(`\nnext: start 'syndrop run' so ${status.tun.name} has a reader; until then packets to ${status.emulatedHost} are dropped`);
      }
    });

  lab
    .command('down')
    .description('remove the lab: stop processes inside its namespaces, delete the namespaces')
    .action(async () => {
      const result = await labDown();
      // Sockets of runs that were killed (SIGKILL, OOM): nobody listens on them any more.
      for (const path of await removeStaleControlSockets(CONTROL_DIR)) console.log(`removed stale control socket ${path}`);
      if (result.removed.length === 0) {
        console.log(`lab '${result.prefix}': nothing to remove`);
        return;
      }
      const killed = result.killed.length > 0 ? `, stopped ${result.killed.length} process(es)` : '';
      console.log(`lab '${result.prefix}': removed ${result.removed.join(' ')}${killed}`);
    });

  lab
    .command('status')
    .description('show which namespaces and devices exist, their addresses, and whether the TUN has a reader')
    .option('--json', 'print the status as JSON')
    .action(async (options: { json?: boolean }) => {
      const status = await labStatus();
      console.log(options.json ? JSON.stringify(status, null, 2) : formatLabStatus(status));
    });

  lab
    .command('exec')
    .description(`run a command inside a lab namespace (${LAB_NODE_NAMES.join(', ')}); exits with its exit code`)
    .argument('<name>', `namespace: ${LAB_NODE_NAMES.join(', ')}`)
    .argument('<command...>', 'command and its arguments (put them after --)')
    .usage('<name> -- <command...>')
    .allowUnknownOption()
    .action(async (name: string, command: string[]) => {
      const code = await labExec(name, command);
      process.exitCode = code;
    });
}

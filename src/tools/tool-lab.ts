// The lab a reliability tool (soak, flood-memory) runs in: its prefix and control socket, brought
// up when it was down and taken down again only then — the lab is left as found.

import { controlSocketPath } from '../control/paths.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { labPrefix } from '../lab/topology.js';

export interface ToolLabOptions {
  prefix?: string;
  instance?: string;
  /** Bring the lab up (and down again) when it is not up; default true. */
  manageLab?: boolean;
}

export interface ToolLab {
  prefix: string;
  instance: string;
  /** Environment for `syndrop` children: the lab prefix and the instance name. */
  env: NodeJS.ProcessEnv;
  controlPath: string;
  /** Takes the lab down if this opened it. */
  close(): Promise<void>;
}

export async function openToolLab(options: ToolLabOptions, defaultInstance: string): Promise<ToolLab> {
  const prefix = options.prefix ?? labPrefix();
  const instance = options.instance ?? process.env.SYNDROP_INSTANCE ?? defaultInstance;
  const env = { ...process.env, SYNDROP_LAB_PREFIX: prefix, SYNDROP_INSTANCE: instance };
  const controlPath = controlSocketPath({ instance }, {});
  const opened = (options.manageLab ?? true) && !(await labStatus({ prefix })).up;
  if (opened) await labUp({ prefix });
  return {
    prefix,
    instance,
    env,
    controlPath,
    close: async () => {
      if (opened) await labDown({ prefix });
    },
  };
}

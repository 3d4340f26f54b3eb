import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Where per-command control groups can be created, or why they cannot. Version 1 keeps one
 * hierarchy per controller; version 2 one unified hierarchy.
 */
export type CgroupLayout =
  | { version: 1; memory: string | null; pids: string | null }
  | { version: 2; parent: string; memory: boolean; pids: boolean };

/** A control group holding exactly one sandboxed command and everything it starts. */
export interface CommandCgroup {
  /** `cgroup.procs` files; a process joins the group by writing its pid to each. */
  readonly procsFiles: readonly string[];
  /** What the kernel recorded about the limits; read after the command ended. */
  readOutcome(): Promise<{ oomKilled: boolean; forkRefused: boolean }>;
  /** SIGKILLs every process still in the group and waits until it is empty. */
  killAll(): Promise<void>;
  remove(): Promise<void>;
}

const groupFolder = 'gantry';

/** Our own cgroup path per v1 controller (and `''` for v2), from /proc/self/cgroup. */
function ownCgroupPaths(): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of (match[1] ?? '').split(',')) paths.set(controller, match[2] ?? '/');
  }
  return paths;
}

/**
 * Creates and removes a throwaway child to learn whether we may manage groups under `folder`
 * and whether they carry the controller (its `marker` file).
 */
function canCreateUnder(folder: string, marker: string): boolean {
  const probe = join(folder, `probe-${process.pid}-${Date.now()}`);
  try {
    mkdirSync(probe, { recursive: true });
    const usable = existsSync(join(probe, marker));
    rmdirSync(probe);
    return usable;
  } catch {
    return false;
  }
}

/**
 * Finds where this process may create per-command memory and pids groups. Groups nest under the
 * process's own group so that limits set on it by whoever started us keep applying.
 *
 * @example
 * const layout = detectCgroupLayout(); // { version: 1, memory: '/sys/fs/cgroup/memory/gantry', pids: ... }
 */
export function detectCgroupLayout(root = '/sys/fs/cgroup'): CgroupLayout | null {
  try {
    const own = ownCgroupPaths();
    if (existsSync(join(root, 'cgroup.controllers'))) return detectUnified(root, own.get('') ?? '/');
    const folderFor = (controller: string, marker: string): string | null => {
      const mount = join(root, controller);
      if (!existsSync(join(mount, 'cgroup.procs'))) return null;
      const nested = join(mount, own.get(controller) ?? '/', groupFolder);
      if (canCreateUnder(nested, marker)) return nested;
      const top = join(mount, groupFolder);
      return canCreateUnder(top, marker) ? top : null;
    };
    const memory = folderFor('memory', 'memory.limit_in_bytes');
    const pids = folderFor('pids', 'pids.max');
    return memory || pids ? { version: 1, memory, pids } : null;
  } catch {
    return null;
  }
}

/**
 * cgroup v2 forbids processes in a group whose controllers are delegated to children, so the
 * controllers are enabled on our own group's `gantry` child, which never holds a process itself.
 */
function detectUnified(root: string, ownPath: string): CgroupLayout | null {
  const own = join(root, ownPath);
  const parent = join(own, groupFolder);
  try {
    mkdirSync(parent, { recursive: true });
    const available = readFileSync(join(parent, 'cgroup.controllers'), 'utf8').split(/\s+/);
    const wanted = ['memory', 'pids'].filter((controller) => available.includes(controller));
    for (const controller of wanted) {
      try {
        writeFileSync(join(parent, 'cgroup.subtree_control'), `+${controller}`);
      } catch {
        // An unavailable controller only means that limit falls back to rlimits.
      }
    }
    const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    const memory = enabled.includes('memory');
    const pids = enabled.includes('pids');
    return memory || pids ? { version: 2, parent, memory, pids } : null;
  } catch {
    return null;
  }
}

/**
 * Creates the group for one command with its memory and process limits already set.
 *
 * @example
 * const group = await createCommandCgroup(layout, 'run-1', { memoryBytes: 2 ** 30, maxProcesses: 64 });
 */
export async function createCommandCgroup(
  layout: CgroupLayout,
  id: string,
  limits: { memoryBytes: number; maxProcesses: number },
): Promise<CommandCgroup> {
  const folders: string[] = [];
  const created: string[] = [];
  const make = async (folder: string): Promise<string> => {
    await mkdir(folder);
    created.push(folder);
    return folder;
  };
  try {
    if (layout.version === 1) {
      const memory = layout.memory ? await make(join(layout.memory, id)) : null;
      const pids = layout.pids ? await make(join(layout.pids, id)) : null;
      if (memory) {
        await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        // Without swap accounting the limit above would let the command page out instead of failing.
        const swap = join(memory, 'memory.memsw.limit_in_bytes');
        if (existsSync(swap)) await writeFile(swap, String(limits.memoryBytes)).catch(() => undefined);
        folders.push(memory);
      }
      if (pids) {
        await writeFile(join(pids, 'pids.max'), String(limits.maxProcesses));
        folders.push(pids);
      }
      return v1Group(memory, pids, folders);
    }
    const group = await make(join(layout.parent, id));
    if (layout.memory) {
      await writeFile(join(group, 'memory.max'), String(limits.memoryBytes));
      await writeFile(join(group, 'memory.swap.max'), '0').catch(() => undefined);
    }
    if (layout.pids) await writeFile(join(group, 'pids.max'), String(limits.maxProcesses));
    return v2Group(group);
  } catch (error) {
    for (const folder of created.reverse()) await rmdir(folder).catch(() => undefined);
    throw error;
  }
}

async function readCounter(file: string, key: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function pidsIn(folder: string): Promise<number[]> {
  const text = await readFile(join(folder, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

async function killUntilEmpty(folders: readonly string[], kill: () => Promise<void>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const remaining = (await Promise.all(folders.map(pidsIn))).flat();
    if (remaining.length === 0) return;
    await kill();
    await delay(10);
  }
}

async function removeFolders(folders: readonly string[]): Promise<void> {
  for (const folder of folders) {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await rmdir(folder);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
        // A dying process can keep the group busy for a few milliseconds after it left cgroup.procs.
        await delay(10);
      }
    }
  }
}

function v1Group(memory: string | null, pids: string | null, folders: string[]): CommandCgroup {
  return {
    procsFiles: folders.map((folder) => join(folder, 'cgroup.procs')),
    async readOutcome() {
      const oomKilled = memory
        ? (await readCounter(join(memory, 'memory.oom_control'), 'oom_kill')) > 0
        : false;
      const forkRefused = pids ? (await readCounter(join(pids, 'pids.events'), 'max')) > 0 : false;
      return { oomKilled, forkRefused };
    },
    async killAll() {
      await killUntilEmpty(folders, async () => {
        for (const pid of (await Promise.all(folders.map(pidsIn))).flat()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      });
    },
    remove: () => removeFolders(folders),
  };
}

function v2Group(group: string): CommandCgroup {
  return {
    procsFiles: [join(group, 'cgroup.procs')],
    async readOutcome() {
      const oomKilled = (await readCounter(join(group, 'memory.events'), 'oom_kill')) > 0;
      const forkRefused = (await readCounter(join(group, 'pids.events'), 'max')) > 0;
      return { oomKilled, forkRefused };
    },
    async killAll() {
      await killUntilEmpty([group], async () => {
        await writeFile(join(group, 'cgroup.kill'), '1').catch(async () => {
          for (const pid of await pidsIn(group)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // Already gone.
            }
          }
        });
      });
    },
    remove: () => removeFolders([group]),
  };
}

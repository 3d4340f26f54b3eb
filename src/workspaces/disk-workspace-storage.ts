import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Sandbox, SandboxCommand, SandboxResult } from '../ports/sandbox.js';
import type { WorkspaceStorage } from '../ports/workspace-storage.js';
import type { WorkspaceDisks } from './workspace-disks.js';

/** Workspaces as plain directories: for hosts whose storage is bounded already (a Fargate task). */
export const plainWorkspaceStorage: WorkspaceStorage = {
  prepare: async (dir) => {
    await mkdir(dir, { recursive: true });
  },
  clear: async (dir) => {
    for (const entry of await readdir(dir).catch(() => [])) {
      await rm(path.join(dir, entry), { recursive: true, force: true });
    }
  },
  remove: (dir) => rm(dir, { recursive: true, force: true }),
};

/**
 * Run workspaces on {@link WorkspaceDisks}: each a size-limited file system (or, where none can be
 * mounted, a tree measured after every command against the same limit).
 *
 * @example
 * const storage = new DiskWorkspaceStorage(await WorkspaceDisks.open({ home }), workspacesDir);
 */
export class DiskWorkspaceStorage implements WorkspaceStorage {
  constructor(
    readonly disks: WorkspaceDisks,
    private readonly workspacesDir: string,
  ) {}

  async prepare(dir: string): Promise<void> {
    await this.disks.create(dir);
  }

  /** Mounts a workspace's disk again if it has one (a run continuing after a restart). */
  async resume(dir: string): Promise<void> {
    if (await this.disks.has(dir)) await this.disks.create(dir);
  }

  async clear(dir: string): Promise<void> {
    await this.disks.create(dir);
    await this.disks.clear(dir);
  }

  remove(dir: string): Promise<void> {
    return this.disks.remove(dir);
  }

  async checkUsage(
    dir: string,
    result: { exitCode: number; stdout: string; stderr: string },
  ): Promise<string | null> {
    // Only run workspaces have a disk; the merge queue's exports and health checkouts are transient.
    if (path.dirname(path.resolve(dir)) !== path.resolve(this.workspacesDir)) return null;
    return (await this.disks.checkUsage(dir, result))?.reason ?? null;
  }
}

/**
 * A sandbox whose commands in a run workspace are checked against that workspace's disk limit after they
 * end: a command that filled it reports the `disk` limit, which the runtime records as a guard event.
 */
export class DiskLimitedSandbox implements Sandbox {
  constructor(
    private readonly inner: Sandbox,
    private readonly storage: WorkspaceStorage,
  ) {}

  get kind(): Sandbox['kind'] {
    return this.inner.kind;
  }

  get workspaceMount(): string {
    return this.inner.workspaceMount;
  }

  async run(command: SandboxCommand): Promise<SandboxResult> {
    const result = await this.inner.run(command);
    if (result.limitHit || !this.storage.checkUsage) return result;
    const reason = await this.storage.checkUsage(command.workspace, result);
    return reason
      ? { ...result, limitHit: 'disk', stderr: `${result.stderr}\n${reason}`.trimStart() }
      : result;
  }
}

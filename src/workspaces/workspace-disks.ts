import { createHash } from 'node:crypto';
import {
  chown,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  statfs,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';
import type { SandboxResult } from '../ports/sandbox.js';
import { classifyDiskLimit, type DiskLimitTrip } from './disk-limit.js';
import {
  MIN_WORKSPACE_DISK_BYTES,
  parseWorkspaceDiskSettings,
  type WorkspaceDiskSettings,
} from './disk-settings.js';
import { DiskBudgetExceededError, WorkspaceDiskError } from './errors.js';
import { type HostMount, mountsAt, readHostMounts } from './host-mounts.js';
import {
  detachIdleLoopDevices,
  detectLoopSupport,
  findSystemTool,
  type LoopTools,
  makeImage,
  mountImage,
  unmount,
} from './loop-filesystem.js';
import { measureTree } from './tree-usage.js';
import { formatBytes, loopbackUsage, measuredUsage, type WorkspaceUsage } from './workspace-usage.js';

const Owner = z.strictObject({ uid: z.number().int().min(0), gid: z.number().int().min(0) });

/** What the home keeps about one workspace's disk, in `<home>/workspace-disks/<name>.json`. */
const WorkspaceDiskRecord = z.strictObject({
  workspace: z.string().min(1),
  mode: z.enum(['loopback-ext4', 'measured']),
  sizeBytes: z.number().int().positive(),
  /** The ext4 image behind a `loopback-ext4` disk. */
  image: z.string().nullable(),
  owner: Owner.optional(),
  createdAt: z.string().datetime(),
});
export type WorkspaceDisk = z.infer<typeof WorkspaceDiskRecord>;

/** One thing `sweep` cleaned up, and why. */
export interface SweepAction {
  action: 'removed' | 'remounted' | 'forgotten' | 'deleted-image' | 'unmounted';
  workspace?: string;
  image?: string;
  reason: string;
}

export interface WorkspaceDisksOptions {
  /** The Gantry home; disk images live in `<home>/workspace-disks`, outside every workspace. */
  home: string;
  /** Settings to validate (see `WorkspaceDiskSettings`); defaults throughout when absent. */
  settings?: unknown;
}

/** Canonical path: symbolic links resolved as far as the path exists, since mountinfo shows real paths. */
async function canonicalPath(path: string): Promise<string> {
  const absolute = resolve(path);
  const real = await realpath(absolute).catch(() => null);
  if (real) return real;
  const parent = await realpath(dirname(absolute)).catch(() => null);
  return parent ? join(parent, basename(absolute)) : absolute;
}

function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}

/**
 * Per-workspace disk limits for one Gantry home. Where the host allows (root, loop devices,
 * mkfs.ext4) each workspace is its own ext4 filesystem of fixed size, loop-mounted on the workspace
 * directory from a sparse image kept outside it: a full workspace fails its writes with ENOSPC and
 * the host disk never sees more than the limit. Elsewhere (`measured`), the workspace is a plain
 * directory and `checkUsage` after each command tells the runtime to stop a run that passed its
 * limit. Either way the limits of all workspaces together stay within the home's budget.
 *
 * @example
 * const disks = await WorkspaceDisks.open({ home, settings: { homeBudgetBytes: 40 * 1024 ** 3 } });
 * await disks.sweep({ keep: liveWorkspaces });          // at start-up
 * await disks.create(workspace, { owner: { uid, gid } }); // before the checkout
 * const trip = await disks.checkUsage(workspace, result); // after each sandboxed command
 * await disks.remove(workspace);                         // when retention says so
 */
export class WorkspaceDisks {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly disksDir: string,
    readonly settings: WorkspaceDiskSettings,
    /** The enforcement new disks get. */
    readonly mode: 'loopback-ext4' | 'measured',
    /** Why that mode: the reason loop mounting is unavailable, when it is. */
    readonly modeReason: string,
    private readonly tools: LoopTools | null,
  ) {}

  /**
   * Validates the settings and picks the mode: `auto` tries a throwaway loop mount and falls back to
   * `measured`; an explicit `loopback-ext4` fails here when the host cannot do it.
   */
  static async open(options: WorkspaceDisksOptions): Promise<WorkspaceDisks> {
    const settings = parseWorkspaceDiskSettings(options.settings ?? {});
    const wanted = resolve(options.home, 'workspace-disks');
    await mkdir(wanted, { recursive: true, mode: 0o700 });
    const disksDir = await realpath(wanted);
    if (settings.mode === 'measured') {
      return new WorkspaceDisks(disksDir, settings, 'measured', 'measured mode was configured', null);
    }
    const loop = await detectLoopSupport({ probeDir: disksDir });
    if (loop.available) {
      return new WorkspaceDisks(
        disksDir,
        settings,
        'loopback-ext4',
        'loop devices can be mounted',
        loop.tools,
      );
    }
    if (settings.mode === 'loopback-ext4') {
      throw new WorkspaceDiskError(`workspace disks cannot be loop-mounted on this host: ${loop.reason}`, {
        input: 'mode: loopback-ext4',
        hint: 'run Gantry as root on a host with loop devices, or set the workspace disk mode to "measured" or "auto"',
      });
    }
    return new WorkspaceDisks(disksDir, settings, 'measured', loop.reason, null);
  }

  /**
   * Gives `workspaceDir` a disk of `sizeBytes` (default `workspaceBytes`): the directory is created
   * empty and, in `loopback-ext4` mode, an ext4 filesystem of that size is mounted on it, its root
   * owned by `owner`. A workspace that already has a disk keeps it (remounted after a reboot).
   * Refused when the home's budget would be exceeded, or the directory holds files a mount would hide.
   */
  async create(
    workspaceDir: string,
    options: { sizeBytes?: number; owner?: { uid: number; gid: number } } = {},
  ): Promise<WorkspaceDisk> {
    const sizeBytes = options.sizeBytes ?? this.settings.workspaceBytes;
    if (!Number.isInteger(sizeBytes) || sizeBytes < MIN_WORKSPACE_DISK_BYTES) {
      throw new InvalidInputError(`a workspace disk of ${sizeBytes} bytes is too small`, {
        input: String(sizeBytes),
        hint: `ask for a whole number of bytes, at least ${MIN_WORKSPACE_DISK_BYTES} (${formatBytes(MIN_WORKSPACE_DISK_BYTES)})`,
      });
    }
    const owner = options.owner ? Owner.parse(options.owner) : undefined;
    const workspace = await this.workspacePath(workspaceDir);
    return this.exclusive(async () => {
      const existing = await this.readRecord(workspace);
      if (existing) {
        if (existing.mode === 'measured' || (await this.mountedFromImage(existing))) return existing;
        if (existing.image && (await exists(existing.image)) && this.tools) {
          await mkdir(workspace, { recursive: true });
          await this.requireEmptyDirectory(workspace, 'mounting its disk again');
          await mountImage(this.tools, existing.image, workspace);
          return existing;
        }
        await this.removeUnlocked(workspace);
      }
      await this.requireBudgetFor(workspace, sizeBytes);
      await mkdir(workspace, { recursive: true });
      await this.requireEmptyDirectory(workspace, 'creating its disk');
      const record: WorkspaceDisk = {
        workspace,
        mode: this.mode,
        sizeBytes,
        image: this.tools ? this.imagePath(workspace) : null,
        ...(owner ? { owner } : {}),
        createdAt: new Date().toISOString(),
      };
      // The record goes first: a crash from here on leaves something `sweep` can find.
      await this.writeRecord(record);
      if (this.tools && record.image) {
        try {
          await rm(record.image, { force: true });
          await makeImage(this.tools, record.image, sizeBytes, {
            owner,
            bytesPerInode: this.settings.bytesPerInode,
          });
          await mountImage(this.tools, record.image, workspace);
          return record;
        } catch {
          // Loop devices are few (a container has a fixed set): when none is free the workspace is
          // measured after every command instead, still against the same limit.
          await rm(record.image, { force: true });
          await unmount(this.tools, workspace).catch(() => undefined);
          const measured: WorkspaceDisk = { ...record, mode: 'measured', image: null };
          await this.writeRecord(measured);
          if (owner) await chown(workspace, owner.uid, owner.gid);
          return measured;
        }
      }
      try {
        if (owner) await chown(workspace, owner.uid, owner.gid);
      } catch (error) {
        await this.removeUnlocked(workspace).catch(() => undefined);
        throw error;
      }
      return record;
    });
  }

  /** Bytes used and left against the workspace's limit: statfs of its filesystem, or a walk of its tree. */
  async usage(workspaceDir: string): Promise<WorkspaceUsage> {
    const workspace = await this.workspacePath(workspaceDir);
    const record = await this.readRecord(workspace);
    if (!record) {
      throw new WorkspaceDiskError(`workspace ${workspace} has no disk, so its use has no limit to check`, {
        input: workspace,
        hint: 'create its disk with WorkspaceDisks.create before the checkout',
      });
    }
    if (record.mode === 'measured') {
      return measuredUsage(workspace, record.sizeBytes, (await measureTree(workspace)).bytes);
    }
    if (!(await this.mountedFromImage(record))) {
      throw new WorkspaceDiskError(
        `workspace ${workspace} is no longer mounted from its disk image: what it writes now lands on the host disk`,
        { input: workspace, hint: 'stop the run; `sweep` at the next start cleans up, then run it again' },
      );
    }
    return loopbackUsage(workspace, record.sizeBytes, await statfs(workspace));
  }

  /**
   * What the sandbox calls after each command: the `guard.tripped` data when the workspace is at or
   * over its limit, else null. The caller records it and stops the run.
   */
  async checkUsage(
    workspaceDir: string,
    result?: Pick<SandboxResult, 'exitCode' | 'stdout' | 'stderr'>,
  ): Promise<DiskLimitTrip | null> {
    return classifyDiskLimit(await this.usage(workspaceDir), result);
  }

  /** Deletes everything inside the workspace and keeps its disk (a checkout to start again). */
  async clear(workspaceDir: string): Promise<void> {
    const workspace = await this.workspacePath(workspaceDir);
    await this.exclusive(async () => {
      for (const entry of await entriesOf(workspace)) {
        await rm(join(workspace, entry), { recursive: true, force: true });
      }
    });
  }

  /**
   * Unmounts the workspace's disk (lazily when a process still holds it), deletes its image, record
   * and directory. Idempotent, and needs nothing from the process that created the disk.
   */
  async remove(workspaceDir: string): Promise<void> {
    const workspace = await this.workspacePath(workspaceDir);
    await this.exclusive(() => this.removeUnlocked(workspace));
  }

  /**
   * Start-up clean-up of what a crash or a reboot left: a disk whose image is no longer mounted (its
   * workspace is removed, or remounted when listed in `keep`), a disk whose image is gone, an image
   * no record knows, and a loop mount of an image of this home that no longer exists. Healthy disks
   * are left alone: which workspaces to remove is `decideWorkspaceRetention`'s call.
   */
  async sweep(options: { keep?: Iterable<string>; remount?: boolean } = {}): Promise<SweepAction[]> {
    const keep = new Set(await Promise.all([...(options.keep ?? [])].map(canonicalPath)));
    const remount = options.remount ?? true;
    return this.exclusive(async () => {
      const actions: SweepAction[] = [];
      const files = await entriesOf(this.disksDir);
      const records = new Map<string, WorkspaceDisk>();
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const record = await this.readRecordFile(join(this.disksDir, file));
        if (record) records.set(file.slice(0, -'.json'.length), record);
        else {
          await rm(join(this.disksDir, file), { force: true });
          actions.push({ action: 'forgotten', reason: `${file} is not a readable disk record` });
        }
      }
      for (const record of records.values()) {
        const action = await this.sweepRecord(record, keep.has(record.workspace), remount);
        if (action) actions.push(action);
      }
      const mounts = await readHostMounts();
      for (const file of files.filter((f) => f.endsWith('.img') && !f.startsWith('.'))) {
        if (records.has(file.slice(0, -'.img'.length))) continue;
        const image = join(this.disksDir, file);
        for (const mount of mounts.filter((m) => m.backingFile?.path === image)) {
          await unmount(await this.umountTool(), mount.mountPoint);
        }
        await rm(image, { force: true });
        actions.push({ action: 'deleted-image', image, reason: 'no workspace record names this image' });
      }
      for (const mount of await readHostMounts()) {
        if (!this.isOrphanedLoopMount(mount)) continue;
        await unmount(await this.umountTool(), mount.mountPoint);
        await rmdir(mount.mountPoint).catch(() => undefined);
        actions.push({
          action: 'unmounted',
          workspace: mount.mountPoint,
          image: mount.backingFile?.path,
          reason: 'mounted from a disk image of this home that no longer exists',
        });
      }
      await detachIdleLoopDevices(this.disksDir);
      for (const leftover of files.filter((f) => f.startsWith('.probe-') || f.endsWith('.tmp'))) {
        const path = join(this.disksDir, leftover);
        if ((await mountsAt(path)).length > 0) await unmount(await this.umountTool(), path);
        await rm(path, { recursive: true, force: true });
      }
      return actions;
    });
  }

  /**
   * Unmounts every loop disk of this home and keeps its image: a home's disks are mounted only while a
   * Gantry process has it open (loop devices are few), and `create` mounts one again when its run
   * continues.
   */
  async detach(): Promise<void> {
    await this.exclusive(async () => {
      for (const record of await this.list()) {
        if (record.mode !== 'loopback-ext4' || !(await this.mountedFromImage(record))) continue;
        await unmount(await this.umountTool(), record.workspace);
      }
    });
  }

  /** Whether `workspaceDir` has a disk of this home. */
  async has(workspaceDir: string): Promise<boolean> {
    return (await this.readRecord(await this.workspacePath(workspaceDir))) !== null;
  }

  /** The disks of this home. */
  async list(): Promise<WorkspaceDisk[]> {
    const files = (await entriesOf(this.disksDir)).filter((f) => f.endsWith('.json'));
    const records = await Promise.all(files.map((f) => this.readRecordFile(join(this.disksDir, f))));
    return records.filter((r): r is WorkspaceDisk => r !== null);
  }

  /** The home's budget and how much of it the existing disks' limits take. */
  async budget(): Promise<{
    budgetBytes: number;
    reservedBytes: number;
    availableBytes: number;
    disks: number;
  }> {
    const disks = await this.list();
    const reservedBytes = disks.reduce((sum, d) => sum + d.sizeBytes, 0);
    const budgetBytes = this.settings.homeBudgetBytes;
    return {
      budgetBytes,
      reservedBytes,
      availableBytes: Math.max(0, budgetBytes - reservedBytes),
      disks: disks.length,
    };
  }

  private async sweepRecord(
    record: WorkspaceDisk,
    kept: boolean,
    remount: boolean,
  ): Promise<SweepAction | null> {
    const { workspace } = record;
    if (record.mode === 'measured') {
      if (await exists(workspace)) return null;
      await rm(this.recordPath(workspace), { force: true });
      return { action: 'forgotten', workspace, reason: 'the workspace directory is gone' };
    }
    if (await this.mountedFromImage(record)) return null;
    const imageExists = record.image !== null && (await exists(record.image));
    const mounted = (await mountsAt(workspace)).length > 0;
    // A kept disk left unmounted is mounted again by `create` when its run next needs it.
    if (kept && imageExists && !mounted && !remount) return null;
    if (kept && imageExists && !mounted && this.tools && record.image) {
      await mkdir(workspace, { recursive: true });
      if ((await entriesOf(workspace)).length === 0) {
        await mountImage(this.tools, record.image, workspace);
        return {
          action: 'remounted',
          workspace,
          image: record.image,
          reason: 'a kept workspace was not mounted',
        };
      }
    }
    await this.removeUnlocked(workspace);
    const reason = !imageExists
      ? mounted
        ? 'mounted, but its image is gone'
        : 'its image is gone'
      : 'its image is not mounted on the workspace';
    return { action: 'removed', workspace, image: record.image ?? undefined, reason };
  }

  private isOrphanedLoopMount(mount: HostMount): boolean {
    const backing = mount.backingFile;
    if (!backing || dirname(backing.path) !== this.disksDir || !backing.path.endsWith('.img')) return false;
    return backing.deleted;
  }

  private async removeUnlocked(workspace: string): Promise<void> {
    // Everything mounted inside the workspace is detached first, deepest first: deleting the tree
    // must never reach through a mount into another filesystem.
    const inside = (await readHostMounts())
      .map((m) => m.mountPoint)
      .filter((point) => isWithin(point, workspace))
      .sort((a, b) => b.length - a.length);
    for (const point of new Set(inside)) await unmount(await this.umountTool(), point);
    await rm(this.imagePath(workspace), { force: true });
    await rm(workspace, { recursive: true, force: true });
    await rm(this.recordPath(workspace), { force: true });
    await detachIdleLoopDevices(this.disksDir);
  }

  private async requireBudgetFor(workspace: string, sizeBytes: number): Promise<void> {
    const others = (await this.list()).filter((d) => d.workspace !== workspace);
    const reservedBytes = others.reduce((sum, d) => sum + d.sizeBytes, 0);
    const budgetBytes = this.settings.homeBudgetBytes;
    if (reservedBytes + sizeBytes <= budgetBytes) return;
    const holders = others
      .map((d) => ({ workspace: d.workspace, sizeBytes: d.sizeBytes }))
      .sort((a, b) => b.sizeBytes - a.sizeBytes);
    const home = dirname(this.disksDir);
    throw new DiskBudgetExceededError(
      `cannot give workspace ${basename(workspace)} a ${formatBytes(sizeBytes)} disk: ` +
        `${others.length} workspaces already reserve ${formatBytes(reservedBytes)} of the ` +
        `${formatBytes(budgetBytes)} disk budget of ${home}, leaving ${formatBytes(Math.max(0, budgetBytes - reservedBytes))}`,
      {
        workspace,
        requestedBytes: sizeBytes,
        reservedBytes,
        budgetBytes,
        holders,
        hint:
          'remove the workspaces of finished runs with `gantry workspaces --prune`, or raise homeBudgetBytes ' +
          `(now ${budgetBytes}) in the workspace disk settings`,
      },
    );
  }

  private async requireEmptyDirectory(workspace: string, doing: string): Promise<void> {
    const entries = await entriesOf(workspace);
    if (entries.length === 0) return;
    throw new WorkspaceDiskError(
      `workspace ${workspace} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, for example ${entries[0]}) when ${doing}: ` +
        'a disk mounted over it would hide files that still take host disk',
      { input: workspace, hint: 'remove the directory first (WorkspaceDisks.remove), then create its disk' },
    );
  }

  private async mountedFromImage(record: WorkspaceDisk): Promise<boolean> {
    const top = (await mountsAt(record.workspace))[0];
    return !!top?.backingFile && !top.backingFile.deleted && top.backingFile.path === record.image;
  }

  private async workspacePath(workspaceDir: string): Promise<string> {
    const workspace = await canonicalPath(workspaceDir);
    if (isWithin(workspace, this.disksDir) || isWithin(this.disksDir, workspace)) {
      throw new InvalidInputError(`workspace ${workspace} overlaps the disk images in ${this.disksDir}`, {
        input: workspaceDir,
        hint: 'a sandbox must never see the images: keep workspaces and <home>/workspace-disks apart',
      });
    }
    return workspace;
  }

  /** Image and record names: readable, and unique per workspace path. */
  private nameOf(workspace: string): string {
    const readable = basename(workspace)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 64);
    return `${readable}-${createHash('sha256').update(workspace).digest('hex').slice(0, 12)}`;
  }

  private imagePath(workspace: string): string {
    return join(this.disksDir, `${this.nameOf(workspace)}.img`);
  }

  private recordPath(workspace: string): string {
    return join(this.disksDir, `${this.nameOf(workspace)}.json`);
  }

  private async readRecord(workspace: string): Promise<WorkspaceDisk | null> {
    const record = await this.readRecordFile(this.recordPath(workspace));
    return record?.workspace === workspace ? record : null;
  }

  private async readRecordFile(path: string): Promise<WorkspaceDisk | null> {
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const parsed = WorkspaceDiskRecord.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  private async writeRecord(record: WorkspaceDisk): Promise<void> {
    const path = this.recordPath(record.workspace);
    await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  private async umountTool(): Promise<Pick<LoopTools, 'umount'>> {
    return this.tools ?? { umount: (await findSystemTool('umount')) ?? 'umount' };
  }

  /** One change at a time: the budget check and the record it guards must not interleave. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * Deletes a whole Gantry home, first unmounting every workspace disk mounted inside it (deepest first),
 * so the deletion never fails on a busy mount point or reaches through one. For temporary homes: tests,
 * the eval harness, a person cleaning up after a crash.
 *
 * @example
 * await removeHome('/tmp/gantry-eval-01J…');
 */
export async function removeHome(home: string): Promise<void> {
  const root = await canonicalPath(home).catch(() => resolve(home));
  const inside = (await readHostMounts())
    .map((mount) => mount.mountPoint)
    .filter((point) => isWithin(point, root))
    .sort((a, b) => b.length - a.length);
  if (inside.length > 0) {
    const umount = await findSystemTool('umount');
    if (umount) for (const point of new Set(inside)) await unmount({ umount }, point).catch(() => undefined);
  }
  await rm(home, { recursive: true, force: true });
  await detachIdleLoopDevices(root);
}

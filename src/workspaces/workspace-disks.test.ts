import { spawn, spawnSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { DiskBudgetExceededError, WorkspaceDiskError } from './errors.js';
import { readHostMounts } from './host-mounts.js';
import { detectLoopSupport } from './loop-filesystem.js';
import { WorkspaceDisks } from './workspace-disks.js';

const MiB = 1024 ** 2;
const loop = await detectLoopSupport();
/** Root with loop devices and mkfs.ext4: the CI host. Elsewhere the loop tests are skipped, saying why. */
const canLoopMount = loop.available;
if (!loop.available) console.warn(`skipping loop-mounted workspace disk tests: ${loop.reason}`);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function home(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-disks-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openDisks(settings: Record<string, unknown> = {}, at?: string) {
  const root = at ?? (await home());
  const disks = await WorkspaceDisks.open({ home: root, settings });
  cleanups.push(async () => {
    for (const disk of await disks.list()) await disks.remove(disk.workspace);
  });
  return { disks, root, workspace: (name: string) => join(root, 'workspaces', name) };
}

async function mountsOn(dir: string) {
  return (await readHostMounts()).filter((m) => m.mountPoint === dir);
}

async function present(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('WorkspaceDisks in measured mode', () => {
  it('reports a workspace over its limit after a command wrote past it', async () => {
    // Prepare
    const { disks, workspace } = await openDisks({ mode: 'measured' });
    const ws = await disks.create(workspace('run-1'), { sizeBytes: 8 * MiB });
    await writeFile(join(ws.workspace, 'small'), Buffer.alloc(MiB, 1));
    const under = await disks.checkUsage(ws.workspace);

    // Act
    await writeFile(join(ws.workspace, 'big'), Buffer.alloc(9 * MiB, 1));
    const usage = await disks.usage(ws.workspace);
    const trip = await disks.checkUsage(ws.workspace, { exitCode: 0, stdout: '', stderr: '' });

    // Assess
    expect(disks.mode).toBe('measured');
    expect(ws.image).toBeNull();
    expect(under).toBeNull();
    expect(usage).toMatchObject({
      mode: 'measured',
      limitBytes: 8 * MiB,
      overLimit: true,
      availableBytes: 0,
    });
    expect(usage.usedBytes).toBeGreaterThanOrEqual(10 * MiB);
    expect(trip).toMatchObject({ guard: 'disk-limit' });
    expect(trip?.reason).toContain('workspace run-1 reached its disk limit');
  });

  it('refuses a disk past the home budget, saying who holds it and what to do', async () => {
    // Prepare
    const { disks, workspace } = await openDisks({
      mode: 'measured',
      workspaceBytes: 32 * MiB,
      homeBudgetBytes: 64 * MiB,
    });
    await disks.create(workspace('run-1'));
    await disks.create(workspace('run-2'));

    // Act
    const refused = await disks.create(workspace('run-3')).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(DiskBudgetExceededError);
    const error = refused as DiskBudgetExceededError;
    expect(error.message).toBe(
      `cannot give workspace run-3 a 32.0 MiB disk: 2 workspaces already reserve 64.0 MiB of the 64.0 MiB disk budget of ${disks.disksDir.replace(/\/workspace-disks$/, '')}, leaving 0 B`,
    );
    expect(error.hint).toContain('gantry workspaces --prune');
    expect(error.hint).toContain('homeBudgetBytes');
    expect(error.holders.map((h) => h.workspace).sort()).toEqual([workspace('run-1'), workspace('run-2')]);
    expect(await present(workspace('run-3'))).toBe(false);
    expect(await disks.budget()).toMatchObject({ reservedBytes: 64 * MiB, availableBytes: 0, disks: 2 });
  });

  it('makes room again once a workspace is removed, and remove is idempotent', async () => {
    // Prepare
    const { disks, workspace } = await openDisks({
      mode: 'measured',
      workspaceBytes: 32 * MiB,
      homeBudgetBytes: 64 * MiB,
    });
    await disks.create(workspace('run-1'));
    await disks.create(workspace('run-2'));

    // Act
    await disks.remove(workspace('run-1'));
    await disks.remove(workspace('run-1'));
    const created = await disks.create(workspace('run-3'));

    // Assess
    expect(created.sizeBytes).toBe(32 * MiB);
    expect(await present(workspace('run-1'))).toBe(false);
    expect((await disks.list()).map((d) => d.workspace).sort()).toEqual([
      workspace('run-2'),
      workspace('run-3'),
    ]);
  });

  it('refuses to put a disk over files, or a workspace over the images', async () => {
    // Prepare
    const { disks, root, workspace } = await openDisks({ mode: 'measured' });
    await mkdir(workspace('busy'), { recursive: true });
    await writeFile(join(workspace('busy'), 'left-over'), 'x');

    // Act
    const overFiles = await disks.create(workspace('busy')).catch((error: unknown) => error);
    const overImages = await disks
      .create(join(root, 'workspace-disks', 'x'))
      .catch((error: unknown) => error);
    const aroundImages = await disks.create(root).catch((error: unknown) => error);

    // Assess
    expect(overFiles).toBeInstanceOf(WorkspaceDiskError);
    expect((overFiles as Error).message).toContain('is not empty (1 entry, for example left-over)');
    expect(overImages).toBeInstanceOf(InvalidInputError);
    expect(aroundImages).toBeInstanceOf(InvalidInputError);
  });

  it('forgets at start-up the disks of workspaces that are gone', async () => {
    // Prepare
    const { disks, workspace } = await openDisks({ mode: 'measured' });
    await disks.create(workspace('run-1'));
    await disks.create(workspace('run-2'));
    await rm(workspace('run-1'), { recursive: true });

    // Act
    const actions = await disks.sweep();

    // Assess
    expect(actions).toEqual([
      { action: 'forgotten', workspace: workspace('run-1'), reason: 'the workspace directory is gone' },
    ]);
    expect((await disks.list()).map((d) => d.workspace)).toEqual([workspace('run-2')]);
  });

  it('validates its settings, refusing unknown keys', async () => {
    const root = await home();
    await expect(WorkspaceDisks.open({ home: root, settings: { workspaceByte: 1 } })).rejects.toThrow(
      InvalidInputError,
    );
    await expect(
      WorkspaceDisks.open({ home: root, settings: { workspaceBytes: 64 * MiB, homeBudgetBytes: 32 * MiB } }),
    ).rejects.toThrow(/workspaceBytes must not exceed homeBudgetBytes/);
    const disks = await WorkspaceDisks.open({ home: root, settings: { mode: 'measured' } });
    expect(disks.settings).toEqual({
      mode: 'measured',
      workspaceBytes: 2 * 1024 ** 3,
      homeBudgetBytes: 20 * 1024 ** 3,
      bytesPerInode: 8192,
    });
  });
});

describe('WorkspaceDisks on loop-mounted ext4', () => {
  it.skipIf(!canLoopMount)('picks loopback-ext4 by itself when the host can mount loop devices', async () => {
    const { disks } = await openDisks();
    expect(disks.mode).toBe('loopback-ext4');
  });

  it.skipIf(!canLoopMount)(
    'fails writes past 32 MiB with ENOSPC, and the host disk holds no more than the limit',
    async () => {
      // Prepare
      const { disks, workspace } = await openDisks({ mode: 'loopback-ext4' });
      const ws = await disks.create(workspace('run-1'), {
        sizeBytes: 32 * MiB,
        owner: { uid: 61000, gid: 61000 },
      });

      // Act
      const dd = spawnSync('dd', ['if=/dev/zero', `of=${join(ws.workspace, 'big')}`, 'bs=1M', 'count=40'], {
        encoding: 'utf8',
      });
      const result = { exitCode: dd.status ?? -1, stdout: dd.stdout, stderr: dd.stderr };
      const usage = await disks.usage(ws.workspace);
      const trip = await disks.checkUsage(ws.workspace, result);
      const image = await stat(ws.image as string);

      // Assess
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('No space left on device');
      expect(image.size).toBe(32 * MiB);
      expect(image.blocks * 512).toBeLessThanOrEqual(32 * MiB);
      expect((await stat(join(ws.workspace, 'big'))).size).toBeLessThan(32 * MiB);
      expect(usage).toMatchObject({ mode: 'loopback-ext4', limitBytes: 32 * MiB, overLimit: true });
      expect(trip?.guard).toBe('disk-limit');
      expect(trip?.reason).toContain('the command failed with "No space left on device"');
    },
  );

  it.skipIf(!canLoopMount)(
    'mounts nodev and nosuid but lets builds run what they compile, the root owned by the sandbox uid',
    async () => {
      // Prepare
      const { disks, workspace } = await openDisks({ mode: 'loopback-ext4' });
      const ws = await disks.create(workspace('run-1'), {
        sizeBytes: 16 * MiB,
        owner: { uid: 61000, gid: 61000 },
      });
      const script = join(ws.workspace, 'built-test.sh');
      await writeFile(script, '#!/bin/sh\necho ran\n', { mode: 0o755 });

      // Act
      const ran = spawnSync(script, { encoding: 'utf8' });
      const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
      const line = mountinfo.split('\n').find((l) => l.split(' ')[4] === ws.workspace) ?? '';

      // Assess
      expect(ran.stdout).toBe('ran\n');
      expect(line.split(' ')[5]?.split(',')).toEqual(expect.arrayContaining(['nodev', 'nosuid']));
      expect(line).not.toContain('noexec');
      expect(await readdir(ws.workspace)).toEqual(['built-test.sh']);
      expect((await stat(ws.workspace)).uid).toBe(61000);
      expect(await disks.usage(ws.workspace)).toMatchObject({ overLimit: false });
    },
  );

  it.skipIf(!canLoopMount)(
    'removes a disk left mounted by a process that died, even while something still holds it',
    async () => {
      // Prepare: another process creates the disk and dies without cleaning up.
      const root = await home();
      const ws = join(root, 'workspaces', 'run-1');
      const module = JSON.stringify(new URL('./workspace-disks.ts', import.meta.url).href);
      const crashed = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { WorkspaceDisks } = await import(${module});
           const disks = await WorkspaceDisks.open({ home: ${JSON.stringify(root)}, settings: { mode: 'loopback-ext4' } });
           await disks.create(${JSON.stringify(ws)}, { sizeBytes: 16 * 1024 ** 2 });
           process.kill(process.pid, 'SIGKILL');`,
        ],
        { encoding: 'utf8' },
      );
      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      expect(await mountsOn(ws)).toHaveLength(1);
      await writeFile(join(ws, 'file'), 'x');
      const holder = spawn('sleep', ['30'], { cwd: ws, stdio: 'ignore' });
      cleanups.push(async () => holder.kill('SIGKILL'));
      const { disks: afterRestart } = await openDisks({ mode: 'loopback-ext4' }, root);
      const [disk] = await afterRestart.list();

      // Act
      await afterRestart.remove(ws);
      await afterRestart.remove(ws);

      // Assess
      expect(disk?.workspace).toBe(ws);
      expect(await mountsOn(ws)).toEqual([]);
      expect(await present(ws)).toBe(false);
      expect(await present(disk?.image as string)).toBe(false);
      expect(await afterRestart.list()).toEqual([]);
    },
  );

  it.skipIf(!canLoopMount)(
    'sweeps an unmounted image away, or remounts it when its workspace is kept',
    async () => {
      // Prepare
      const { disks, workspace } = await openDisks({ mode: 'loopback-ext4' });
      const gone = await disks.create(workspace('gone'), { sizeBytes: 16 * MiB });
      const kept = await disks.create(workspace('kept'), { sizeBytes: 16 * MiB });
      const healthy = await disks.create(workspace('healthy'), { sizeBytes: 16 * MiB });
      await writeFile(join(kept.workspace, 'patch.diff'), 'kept across the reboot');
      for (const ws of [gone, kept]) spawnSync('umount', [ws.workspace]);

      // Act
      const actions = await disks.sweep({ keep: [kept.workspace, healthy.workspace] });

      // Assess
      expect(actions.map((a) => [a.action, a.workspace]).sort()).toEqual([
        ['remounted', kept.workspace],
        ['removed', gone.workspace],
      ]);
      expect(await present(gone.image as string)).toBe(false);
      expect(await present(gone.workspace)).toBe(false);
      expect(await readFile(join(kept.workspace, 'patch.diff'), 'utf8')).toBe('kept across the reboot');
      expect(await mountsOn(healthy.workspace)).toHaveLength(1);
      expect((await disks.list()).map((d) => d.workspace).sort()).toEqual(
        [healthy.workspace, kept.workspace].sort(),
      );
    },
  );

  it.skipIf(!canLoopMount)(
    'sweeps a mount whose image and record are gone, and an image nobody records',
    async () => {
      // Prepare
      const { disks, workspace } = await openDisks({ mode: 'loopback-ext4' });
      const orphanMount = await disks.create(workspace('orphan-mount'), { sizeBytes: 16 * MiB });
      const orphanImage = await disks.create(workspace('orphan-image'), { sizeBytes: 16 * MiB });
      await rm(orphanMount.image as string);
      await rm(
        join(
          disks.disksDir,
          `${(orphanMount.image as string)
            .split('/')
            .pop()
            ?.replace(/\.img$/, '')}.json`,
        ),
      );
      spawnSync('umount', [orphanImage.workspace]);
      await rm(
        join(
          disks.disksDir,
          `${(orphanImage.image as string)
            .split('/')
            .pop()
            ?.replace(/\.img$/, '')}.json`,
        ),
      );

      // Act
      const actions = await disks.sweep();

      // Assess
      expect(actions.map((a) => a.action).sort()).toEqual(['deleted-image', 'unmounted']);
      expect(await mountsOn(orphanMount.workspace)).toEqual([]);
      expect(await present(orphanImage.image as string)).toBe(false);
      expect(await readdir(disks.disksDir)).toEqual([]);
    },
  );

  it.skipIf(!canLoopMount)('counts loop disks against the same budget', async () => {
    // Prepare
    const { disks, workspace } = await openDisks({
      mode: 'loopback-ext4',
      workspaceBytes: 16 * MiB,
      homeBudgetBytes: 40 * MiB,
    });
    await disks.create(workspace('run-1'), { sizeBytes: 32 * MiB });

    // Act
    const refused = await disks.create(workspace('run-2'), { sizeBytes: 16 * MiB }).catch((e: unknown) => e);

    // Assess
    expect(refused).toBeInstanceOf(DiskBudgetExceededError);
    expect(await present(workspace('run-2'))).toBe(false);
  });
});

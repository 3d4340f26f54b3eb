import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open, rm, rmdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { WorkspaceDiskError } from './errors.js';
import { mountsAt, readHostMounts } from './host-mounts.js';

const run = promisify(execFile);

/** mkfs and losetup live in sbin, which an unprivileged PATH often lacks. */
const systemDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** The absolute path of a host tool, looking in sbin too; null when it is not installed. */
export async function findSystemTool(name: string): Promise<string | null> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...systemDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

/** The host tools a loop-mounted ext4 disk needs. */
export interface LoopTools {
  mkfs: string;
  mount: string;
  umount: string;
}

async function runTool(tool: string, args: string[], what: string): Promise<void> {
  try {
    await run(tool, args, { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new WorkspaceDiskError(`${what} failed: ${stderr || (error as Error).message}`, {
      input: [tool, ...args].join(' '),
      hint: 'run the command by hand to see why; set workspace disks to mode "measured" to do without loop devices',
      cause: error,
    });
  }
}

export type LoopSupport = { available: true; tools: LoopTools } | { available: false; reason: string };

/**
 * Whether this host can give a workspace a loop-mounted ext4 filesystem: root, loop devices, mkfs.ext4
 * and mount. With `probeDir`, also mounts a throwaway 1 MiB image there, since root inside a container
 * may still be refused the mount.
 *
 * @example
 * const loop = await detectLoopSupport();
 * it.skipIf(!loop.available)('fills up', ...);
 */
export async function detectLoopSupport(options: { probeDir?: string } = {}): Promise<LoopSupport> {
  if (process.platform !== 'linux')
    return { available: false, reason: `loop devices are Linux only (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { available: false, reason: 'mounting a loop device needs root' };
  const hasLoopDevices = await access('/dev/loop-control').then(
    () => true,
    () =>
      access('/dev/loop0').then(
        () => true,
        () => false,
      ),
  );
  if (!hasLoopDevices) return { available: false, reason: 'no /dev/loop-control or /dev/loop0' };
  const [mkfs, mount, umount, losetup] = await Promise.all(
    ['mkfs.ext4', 'mount', 'umount', 'losetup'].map(findSystemTool),
  );
  if (!mkfs || !mount || !umount) {
    return {
      available: false,
      reason: 'mkfs.ext4, mount or umount is not installed (e2fsprogs, util-linux)',
    };
  }
  if (losetup) {
    const free = await run(losetup, ['-f']).then(
      () => true,
      () => false,
    );
    if (!free) return { available: false, reason: '`losetup -f` found no free loop device' };
  }
  const tools = { mkfs, mount, umount };
  if (options.probeDir) {
    const reason = await probeMount(tools, options.probeDir);
    if (reason) return { available: false, reason };
  }
  return { available: true, tools };
}

async function probeMount(tools: LoopTools, probeDir: string): Promise<string | null> {
  const dir = join(probeDir, `.probe-${process.pid}`);
  const image = `${dir}.img`;
  try {
    await mkdir(dir, { recursive: true });
    await makeImage(tools, image, 1024 ** 2, {});
    await mountImage(tools, image, dir);
    await unmount(tools, dir);
    return null;
  } catch (error) {
    return `a trial loop mount was refused: ${(error as Error).message}`;
  } finally {
    await unmount(tools, dir).catch(() => undefined);
    await rm(image, { force: true });
    await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Makes a sparse image of exactly `sizeBytes` holding an empty ext4 filesystem: no journal (a
 * throwaway workspace needs no crash consistency, and it saves the journal's space) and no blocks
 * reserved for root, so the limit is what the workspace gets.
 */
export async function makeImage(
  tools: LoopTools,
  image: string,
  sizeBytes: number,
  options: { owner?: { uid: number; gid: number }; bytesPerInode?: number },
): Promise<void> {
  const handle = await open(image, 'wx', 0o600);
  try {
    await handle.truncate(sizeBytes);
  } finally {
    await handle.close();
  }
  const extended = options.owner ? ['-E', `root_owner=${options.owner.uid}:${options.owner.gid}`] : [];
  const inodes = options.bytesPerInode ? ['-i', String(options.bytesPerInode)] : [];
  await runTool(
    tools.mkfs,
    ['-q', '-F', '-m', '0', '-O', '^has_journal', ...inodes, ...extended, image],
    'mkfs.ext4',
  );
}

/**
 * Mounts the image on `dir`. Not `noexec`: builds and tests run binaries they compile in the
 * workspace. `nodev` and `nosuid` keep a crafted image from granting devices or privileges.
 */
export async function mountImage(tools: LoopTools, image: string, dir: string): Promise<void> {
  await runTool(tools.mount, ['-o', 'loop,nodev,nosuid,noatime', image, dir], `mounting ${image}`);
  await rmdir(join(dir, 'lost+found')).catch(() => undefined);
}

/**
 * Unmounts everything stacked on `dir`. A busy mount (a process left inside it) is detached lazily:
 * the directory is free at once and the kernel releases the filesystem and its loop device when the
 * last user goes.
 */
export async function unmount(tools: Pick<LoopTools, 'umount'>, dir: string): Promise<void> {
  for (let attempt = 0; attempt < 16; attempt++) {
    if ((await mountsAt(dir)).length === 0) return;
    await runTool(tools.umount, [dir], `unmounting ${dir}`).catch(() =>
      runTool(tools.umount, ['-l', dir], `lazily unmounting ${dir}`),
    );
  }
  throw new WorkspaceDiskError(`${dir} is still mounted after 16 unmounts`, {
    input: dir,
    hint: `look at what is mounted there with: findmnt ${dir}`,
  });
}

/**
 * Detaches loop devices whose backing file lies under `dir` (deleted or not) and that nothing mounts:
 * what a lazy unmount or a crash between mount and detach leaves holding one of the host's few loop
 * devices. Best effort: a device still in use stays.
 *
 * @example
 * await detachIdleLoopDevices('/home/me/.gantry/workspace-disks');
 */
export async function detachIdleLoopDevices(dir: string): Promise<void> {
  const losetup = await findSystemTool('losetup');
  if (!losetup) return;
  const listed = await run(losetup, ['--noheadings', '--output', 'NAME,BACK-FILE', '--list'], {
    timeout: 10_000,
    env: { ...process.env, LC_ALL: 'C' },
  }).catch(() => undefined);
  if (!listed) return;
  const mounted = new Set((await readHostMounts()).map((mount) => mount.source));
  for (const line of String(listed.stdout).split('\n')) {
    const match = /^(\/dev\/loop\d+)\s+(.*?)(?: \(deleted\))?\s*$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const [, device, backing] = match;
    if (!(backing === dir || backing.startsWith(`${dir}/`)) || mounted.has(device)) continue;
    await run(losetup, ['-d', device], { timeout: 10_000 }).catch(() => undefined);
  }
}

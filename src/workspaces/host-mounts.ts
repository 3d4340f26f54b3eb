import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

/** One mount of the host's (this process's) mount namespace. */
export interface HostMount {
  mountPoint: string;
  fsType: string;
  source: string;
  /** For a loop device: the file behind it, and whether that file was deleted while attached. */
  backingFile: { path: string; deleted: boolean } | null;
}

/** mountinfo escapes space, tab, newline and backslash as three octal digits. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Parses `/proc/self/mountinfo`: `id parent major:minor root mountPoint options [optional...] - type source super`.
 *
 * @example
 * parseMountInfo('45 27 7:0 / /tmp/ws rw,nosuid - ext4 /dev/loop0 rw\n');
 * // [{ mountPoint: '/tmp/ws', fsType: 'ext4', source: '/dev/loop0' }]
 */
export function parseMountInfo(text: string): Array<{ mountPoint: string; fsType: string; source: string }> {
  const mounts: Array<{ mountPoint: string; fsType: string; source: string }> = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    const mountPoint = fields[4];
    if (separator < 6 || mountPoint === undefined) continue;
    mounts.push({
      mountPoint: unescapeMountField(mountPoint),
      fsType: fields[separator + 1] ?? '',
      source: unescapeMountField(fields[separator + 2] ?? ''),
    });
  }
  return mounts;
}

async function loopBackingFile(source: string): Promise<HostMount['backingFile']> {
  if (!/^\/dev\/loop\d+$/.test(source)) return null;
  const text = await readFile(`/sys/block/${basename(source)}/loop/backing_file`, 'utf8').catch(() => null);
  if (text === null) return null;
  const path = text.replace(/\n$/, '');
  const deleted = path.endsWith(' (deleted)');
  return { path: deleted ? path.slice(0, -' (deleted)'.length) : path, deleted };
}

/** The mounts this process sees, with loop devices resolved to their files; empty where there is no procfs. */
export async function readHostMounts(): Promise<HostMount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return Promise.all(
    parseMountInfo(text).map(async (mount) => ({
      ...mount,
      backingFile: await loopBackingFile(mount.source),
    })),
  );
}

/** Mounts stacked on `dir`, top first. */
export async function mountsAt(dir: string): Promise<HostMount[]> {
  return (await readHostMounts()).filter((m) => m.mountPoint === dir).reverse();
}

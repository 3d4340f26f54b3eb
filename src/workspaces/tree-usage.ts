import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** What a directory tree takes on disk. */
export interface TreeUsage {
  /** Allocated blocks (`blocks * 512`), not apparent sizes: a sparse file costs what it holds. */
  bytes: number;
  entries: number;
}

const parallelLstats = 128;

/**
 * Sums the blocks allocated to everything under `root`, the root included. Symbolic links are
 * counted, never followed, so a link out of the workspace costs nothing; a file hard-linked several
 * times inside the tree counts once; entries that vanish mid-walk are skipped.
 *
 * @example
 * const { bytes } = await measureTree('/home/gantry/workspaces/01J...');
 */
export async function measureTree(root: string): Promise<TreeUsage> {
  const seen = new Set<string>();
  let bytes = 0;
  let entries = 0;
  const count = (stats: Stats): void => {
    if (stats.nlink > 1 && !stats.isDirectory()) {
      const key = `${stats.dev}:${stats.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    bytes += stats.blocks * 512;
    entries++;
  };

  const top = await lstat(root);
  count(top);
  if (!top.isDirectory()) return { bytes, entries };
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    const children: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (let i = 0; i < children.length; i += parallelLstats) {
      const batch = children.slice(i, i + parallelLstats);
      const stats = await Promise.all(batch.map((child) => lstat(join(dir, child.name)).catch(() => null)));
      stats.forEach((stat, j) => {
        if (!stat) return;
        count(stat);
        if (stat.isDirectory()) pending.push(join(dir, (batch[j] as Dirent).name));
      });
    }
  }
  return { bytes, entries };
}

import { link, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { measureTree } from './tree-usage.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-tree-'));
  dirs.push(dir);
  return dir;
}

const MiB = 1024 ** 2;

describe('measureTree', () => {
  it('counts allocated blocks of nested files, once per hard link, never through a symlink', async () => {
    // Prepare
    const root = await scratch();
    const outside = await scratch();
    await writeFile(join(outside, 'huge'), Buffer.alloc(8 * MiB, 1));
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/data'), Buffer.alloc(2 * MiB, 1));
    await link(join(root, 'a/b/data'), join(root, 'a/again'));
    await symlink(outside, join(root, 'escape'));

    // Act
    const usage = await measureTree(root);

    // Assess
    expect(usage.bytes).toBeGreaterThanOrEqual(2 * MiB);
    expect(usage.bytes).toBeLessThan(3 * MiB);
    expect(usage.entries).toBe(5);
  });

  it('charges a sparse file for what it holds, not its apparent size', async () => {
    // Prepare
    const root = await scratch();
    await writeFile(join(root, 'sparse'), '');
    const handle = await open(join(root, 'sparse'), 'r+');
    await handle.truncate(512 * MiB);
    await handle.close();

    // Act
    const usage = await measureTree(root);

    // Assess
    expect(usage.bytes).toBeLessThan(MiB);
  });
});

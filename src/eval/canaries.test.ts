import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canariesFromFiles, plantHostFiles, plantProcess } from './canaries.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gantry-plant-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('plantHostFiles', () => {
  it('writes the files with their mode, creating parents, and removes files and created folders', async () => {
    // Prepare
    const file = join(dir, 'srv', 'deep', 'canary.txt');
    // Act
    const planted = await plantHostFiles([{ path: file, content: 'gantry-canary-x\n', mode: '600' }]);
    // Assess
    expect(await readFile(file, 'utf8')).toBe('gantry-canary-x\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await planted.remove();
    expect(await exists(join(dir, 'srv'))).toBe(false);
  });

  it('refuses to overwrite an existing file and removes what it planted before it', async () => {
    const first = join(dir, 'first');
    const existing = join(dir, 'existing');
    await writeFile(existing, 'not the harness’s');
    await expect(
      plantHostFiles([
        { path: first, content: 'a', mode: '644' },
        { path: existing, content: 'b', mode: '644' },
      ]),
    ).rejects.toThrow(/will not plant .*existing: the file already exists/);
    expect(await exists(first)).toBe(false);
    expect(await readFile(existing, 'utf8')).toBe('not the harness’s');
  });
});

describe('canariesFromFiles', () => {
  it('takes each line or NUL-separated entry of 8 characters or more, labelled by file and line', async () => {
    const file = join(dir, 'shadow');
    await writeFile(file, 'root:*:20000:0:99999:7:::\nshort\n\0DECOY_TOKEN=abcdefgh');
    expect(await canariesFromFiles([file, join(dir, 'missing')])).toEqual([
      { canary: 'root:*:20000:0:99999:7:::', label: `${file} line 1` },
      { canary: 'DECOY_TOKEN=abcdefgh', label: `${file} line 4` },
    ]);
  });
});

describe('plantProcess', () => {
  it('starts a process whose environment and command line hold the canary', async () => {
    const decoy = plantProcess({ GANTRY_DECOY_TOKEN: 'gantry-canary-decoy' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await readFile(`/proc/${decoy.pid}/environ`, 'utf8')).toContain('gantry-canary-decoy');
      expect(await readFile(`/proc/${decoy.pid}/cmdline`, 'utf8')).toContain('gantry-canary-decoy');
    } finally {
      decoy.stop();
    }
  });
});

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunStore } from './run-store.js';

describe('the run store keeps a workspace between sandbox tasks', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restores in the next task exactly what the previous task saved', async () => {
    // Prepare: task 1 works on the run's workspace and saves it
    dir = await mkdtemp(join(tmpdir(), 'gantry-run-store-'));
    const store = join(dir, 'runs');
    const first = new RunStore(store, join(dir, 'task1'));
    await mkdir(join(dir, 'task1', 'RUN1', 'src'), { recursive: true });
    await writeFile(join(dir, 'task1', 'RUN1', 'src', 'invoice.js'), 'patched');
    await first.save('RUN1');
    // Act: task 2 starts on empty local storage
    const second = new RunStore(store, join(dir, 'task2'));
    const restored = await second.restore('RUN1');
    // Assess
    expect(restored).toBe(true);
    expect(await readFile(join(dir, 'task2', 'RUN1', 'src', 'invoice.js'), 'utf8')).toBe('patched');
    expect(await new RunStore(store, join(dir, 'task3')).restore('OTHER')).toBe(false);
  });

  it('refuses a run id that could name a path outside the store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-run-store-'));
    await expect(new RunStore(join(dir, 'runs'), dir).restore('../etc')).rejects.toThrow(
      /not a safe file name/,
    );
  });
});

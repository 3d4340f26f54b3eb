import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { loadHomeSettings } from './home-settings.js';

let home: string;

beforeEach(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-home-settings-'));
});

afterEach(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('loadHomeSettings', () => {
  it('reads repositoryRoots, resolving relative entries against the home', async () => {
    // Prepare
    await fs.writeFile(path.join(home, 'settings.yaml'), 'repositoryRoots:\n  - /srv/repos\n  - ../work\n');

    // Act
    const settings = await loadHomeSettings(home);

    // Assess
    expect(settings).toEqual({ repositoryRoots: ['/srv/repos', path.resolve(home, '..', 'work')] });
  });

  it('gives a home without a settings file, or an empty one, no settings', async () => {
    // Act
    const missing = await loadHomeSettings(home);
    await fs.writeFile(path.join(home, 'settings.yaml'), '');
    const empty = await loadHomeSettings(home);

    // Assess
    expect(missing).toEqual({});
    expect(empty).toEqual({});
  });

  it('refuses an unknown key, naming the file and the key', async () => {
    // Prepare
    await fs.writeFile(path.join(home, 'settings.yaml'), 'repositoryRoot: /srv/repos\n');

    // Act
    const error = await loadHomeSettings(home).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(path.join(home, 'settings.yaml'));
    expect((error as Error).message).toMatch(/repositoryRoot/);
    expect((error as InvalidInputError).hint).toMatch(/repositoryRoots/);
  });
});

import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../domain/errors.js';
import {
  Ed25519Signer,
  loadOrCreatePlatformKey,
  PLATFORM_KEY_FILE,
  publicKeyFileFor,
} from './ed25519-signer.js';

describe('loadOrCreatePlatformKey', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'gantry-key-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('creates an Ed25519 key readable by its owner only, with the public key beside it', async () => {
    // Act
    const file = join(home, PLATFORM_KEY_FILE);
    const signer = await loadOrCreatePlatformKey(file);
    // Assess
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const publicPem = await readFile(publicKeyFileFor(file), 'utf8');
    expect(publicPem).toBe(await signer.publicKeyPem());
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(signer.keyId).toMatch(/^ed25519:[a-f0-9]{32}$/);
  });

  it('reads the same key back on the next start', async () => {
    // Prepare
    const file = join(home, PLATFORM_KEY_FILE);
    const first = await loadOrCreatePlatformKey(file);
    const signature = await first.sign(Buffer.from('decision'));
    // Act
    const again = await loadOrCreatePlatformKey(file);
    // Assess
    expect(again.keyId).toBe(first.keyId);
    expect(await again.verify(Buffer.from('decision'), signature)).toBe(true);
    expect(await again.verify(Buffer.from('decision!'), signature)).toBe(false);
  });

  it('refuses a key file others may read', async () => {
    // Prepare
    const file = join(home, PLATFORM_KEY_FILE);
    await loadOrCreatePlatformKey(file);
    await chmod(file, 0o644);
    // Act / Assess
    await expect(loadOrCreatePlatformKey(file)).rejects.toThrow(/can be read by other users/);
  });

  it('refuses a key inside a directory sandboxes mount', async () => {
    // Act
    const inside = loadOrCreatePlatformKey(join(home, 'workspaces', PLATFORM_KEY_FILE), {
      outside: [join(home, 'workspaces')],
    });
    // Assess
    await expect(inside).rejects.toBeInstanceOf(InvalidInputError);
    await expect(inside).rejects.toThrow(/which sandboxes see/);
  });

  it('refuses a file that holds no private key', async () => {
    // Prepare
    const file = join(home, PLATFORM_KEY_FILE);
    await writeFile(file, 'not a key', { mode: 0o600 });
    // Act / Assess
    await expect(loadOrCreatePlatformKey(file)).rejects.toThrow(/is not a PEM private key/);
  });
});

describe('Ed25519Signer.ephemeral', () => {
  it('signs and verifies in this process, under a key id that says it is ephemeral', async () => {
    // Act
    const signer = Ed25519Signer.ephemeral();
    const other = Ed25519Signer.ephemeral();
    const signature = await signer.sign(Buffer.from('x'));
    // Assess
    expect(signer.keyId).toMatch(/^ephemeral:/);
    expect(signature).toHaveLength(64);
    expect(await signer.verify(Buffer.from('x'), signature)).toBe(true);
    expect(await other.verify(Buffer.from('x'), signature)).toBe(false);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactCorruptedError, InvalidInputError } from '../../domain/errors.js';
import { type LocalEngines, startLocalEngines } from '../../local/engines.js';
import { ensureBucket, runArtifactPrefix, S3ArtifactStore, sha256Hex } from './s3-artifact-store.js';

describe('run-scoped artifact keys', () => {
  let dir: string;
  let engines: LocalEngines;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-s3-prefix-'));
    engines = await startLocalEngines(dir);
    await ensureBucket(engines.s3, 'prefixed');
  });
  afterAll(async () => {
    await engines.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores a run's artifacts under runs/<runId>/sha256/ and only there", async () => {
    // Prepare
    const store = new S3ArtifactStore(engines.s3, 'prefixed', { prefix: runArtifactPrefix('01JRUNA') });
    const other = new S3ArtifactStore(engines.s3, 'prefixed', { prefix: runArtifactPrefix('01JRUNB') });
    const plain = new S3ArtifactStore(engines.s3, 'prefixed');
    // Act
    const hash = await store.put('the run A transcript');
    // Assess
    const head = await engines.s3.send(
      new HeadObjectCommand({ Bucket: 'prefixed', Key: `runs/01JRUNA/sha256/${hash}` }),
    );
    expect(head.Metadata?.sha256).toBe(hash);
    expect(await store.getText(hash)).toBe('the run A transcript');
    expect(await other.has(hash)).toBe(false);
    expect(await plain.has(hash)).toBe(false);
    expect(S3ArtifactStore.keyOf(hash)).toBe(`sha256/${hash}`);
  });

  it('still verifies the bytes on read under a prefix', async () => {
    // Prepare: an object rewritten behind the store's back
    const store = new S3ArtifactStore(engines.s3, 'prefixed', { prefix: runArtifactPrefix('01JRUNC') });
    const hash = await store.put('original');
    await engines.s3.send(
      new PutObjectCommand({ Bucket: 'prefixed', Key: `runs/01JRUNC/sha256/${hash}`, Body: 'tampered' }),
    );
    // Act
    const read = store.get(hash).catch((error: unknown) => error);
    // Assess
    const error = await read;
    expect(error).toBeInstanceOf(ArtifactCorruptedError);
    expect((error as Error).message).toContain(`runs/01JRUNC/sha256/${hash}`);
    expect((error as Error).message).toContain(sha256Hex('tampered'));
    const raw = await engines.s3.send(
      new GetObjectCommand({ Bucket: 'prefixed', Key: `runs/01JRUNC/sha256/${hash}` }),
    );
    expect(await raw.Body?.transformToString()).toBe('tampered');
  });

  it('refuses a run id that would escape its prefix', () => {
    // Act / Assess
    expect(() => runArtifactPrefix('../other')).toThrow(InvalidInputError);
    expect(() => runArtifactPrefix('a/b')).toThrow(/cannot name a run's artifact prefix/);
    expect(runArtifactPrefix('01JRUNA')).toBe('runs/01JRUNA/');
  });
});

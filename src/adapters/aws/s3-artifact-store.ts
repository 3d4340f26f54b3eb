import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ArtifactCorruptedError, ArtifactNotFoundError, InvalidInputError } from '../../domain/errors.js';
import type { ArtifactStore } from '../../ports/artifacts.js';

export const sha256Hex = (content: string | Uint8Array): string =>
  createHash('sha256').update(content).digest('hex');

const SHA256 = /^[a-f0-9]{64}$/;

/** Where a store keeps its objects: `prefix` comes before `sha256/<hex>` (default none). */
export interface S3ArtifactStoreOptions {
  prefix?: string;
}

/**
 * Content-addressed artifacts on S3: the key is `<prefix>sha256/<hex>` and every read re-hashes the bytes.
 * The embedded runtime uses no prefix; on AWS each run's store uses `runs/<runId>/`, so a role can be
 * limited to one run's objects (see {@link runArtifactPrefix}).
 *
 * @example
 * const store = new S3ArtifactStore(s3, 'gantry-artifacts', { prefix: runArtifactPrefix(runId) });
 * const hash = await store.put('hello'); // stored at runs/<runId>/sha256/<hash>
 * (await store.getText(hash)) === 'hello';
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly stored = new Set<string>();

  readonly prefix: string;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    options: S3ArtifactStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? '';
  }

  /** The object key of an artifact in a store with the given prefix. */
  static keyOf(sha256: string, prefix = ''): string {
    return `${prefix}sha256/${sha256}`;
  }

  private keyOf(sha256: string): string {
    return S3ArtifactStore.keyOf(sha256, this.prefix);
  }

  async put(content: string | Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const hash = sha256Hex(body);
    // Same key, same bytes: writing again is harmless, so skip only what this process already stored.
    if (this.stored.has(hash)) return hash;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(hash),
        Body: body,
        ContentType: contentType,
        Metadata: { sha256: hash },
      }),
    );
    this.stored.add(hash);
    return hash;
  }

  async get(sha256: string): Promise<Buffer> {
    if (!SHA256.test(sha256)) {
      throw new InvalidInputError(`"${sha256}" is not an artifact hash`, {
        hint: 'artifact hashes are 64 lower-case hex digits',
      });
    }
    const key = this.keyOf(sha256);
    let bytes: Buffer;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      bytes = Buffer.from(
        await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new ArtifactNotFoundError(`artifact ${key} is not in bucket ${this.bucket}`, {
          input: key,
          hint: 'the artifact store lost this object; restore it from the bucket backup or versioning',
          cause: error,
        });
      }
      throw error;
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) {
      throw new ArtifactCorruptedError(`artifact ${key} is corrupted: its bytes hash to ${actual}`, {
        input: `s3://${this.bucket}/${key}`,
        hint: 'the stored object was modified after it was written; restore it from backup or object versioning — events that refer to it cannot be trusted until then',
      });
    }
    return bytes;
  }

  async getText(sha256: string): Promise<string> {
    return (await this.get(sha256)).toString('utf8');
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
      throw error;
    }
  }
}

const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * The key prefix of one run's artifacts on AWS: `runs/<runId>/`. IAM scopes a run's credentials to it.
 *
 * @example
 * runArtifactPrefix('01J0ABC'); // 'runs/01J0ABC/'
 */
export function runArtifactPrefix(runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new InvalidInputError(`"${runId}" cannot name a run's artifact prefix`, {
      input: runId,
      hint: 'run ids are ULIDs: letters, digits, ".", "_" or "-", at most 128 characters',
    });
  }
  return `runs/${runId}/`;
}

/** Creates the bucket when it is missing (the embedded runtime; on AWS the infra owns it). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

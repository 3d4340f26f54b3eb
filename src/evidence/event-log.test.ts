import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { ensureBucket, S3ArtifactStore, sha256Hex } from '../adapters/aws/s3-artifact-store.js';
import { ArtifactCorruptedError } from '../domain/errors.js';
import type { NewRunEvent } from '../domain/events.js';
import { type LocalEngines, startLocalEngines } from '../local/engines.js';

const traceId = 'a'.repeat(32);
const actor = { kind: 'step' as const, id: 'test' };

function stateEvent(runId: string, key: string): NewRunEvent {
  return { runId, key, traceId, actor, policyVersion: 'test', type: 'run.state', data: { state: 'running' } };
}

describe('event log and artifact store on the local engines', () => {
  let dir: string;
  let engines: LocalEngines;
  let log: DynamoEventLog;
  let store: S3ArtifactStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-evidence-'));
    engines = await startLocalEngines(dir);
    await ensureEventLogTables(engines.dynamo, defaultTableNames());
    await ensureBucket(engines.s3, 'artifacts');
    log = new DynamoEventLog(engines.dynamo, defaultTableNames());
    store = new S3ArtifactStore(engines.s3, 'artifacts');
  });

  afterAll(async () => {
    await engines.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('appends with gapless sequence numbers and never appends a key twice', async () => {
    // Prepare
    const runId = 'run-seq';
    // Act
    const first = await log.append(stateEvent(runId, 'one'));
    const second = await log.append(stateEvent(runId, 'two'));
    const again = await log.append(stateEvent(runId, 'one'));
    // Assess
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(again).toEqual(first);
    expect((await log.read(runId)).map((e) => e.key)).toEqual(['one', 'two']);
  });

  it('keeps sequence numbers unique when two writers race on one run', async () => {
    // Prepare: two adapters, as two processes would have
    const other = new DynamoEventLog(engines.dynamo, defaultTableNames());
    const runId = 'run-race';
    // Act
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? log : other).append(stateEvent(runId, `k${i}`))),
    );
    // Assess
    const events = await log.read(runId);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(events.map((e) => e.key)).size).toBe(10);
  });

  it('lists runs by state, newest first', async () => {
    // Prepare
    const base = {
      traceId,
      title: 't',
      repository: 'r',
      requester: 'x',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await log.putRunSummary({
      ...base,
      runId: 'r1',
      state: 'completed',
      updatedAt: '2026-01-01T00:00:01.000Z',
    });
    await log.putRunSummary({ ...base, runId: 'r2', state: 'failed', updatedAt: '2026-01-01T00:00:02.000Z' });
    await log.putRunSummary({
      ...base,
      runId: 'r3',
      state: 'completed',
      updatedAt: '2026-01-01T00:00:03.000Z',
    });
    // Act
    const completed = await log.listRuns({ state: 'completed' });
    const all = await log.listRuns();
    // Assess
    expect(completed.map((r) => r.runId)).toEqual(['r3', 'r1']);
    expect(all.map((r) => r.runId)).toEqual(['r3', 'r2', 'r1']);
  });

  it('counts atomically up to a limit, even when callers race', async () => {
    // Act
    const counts = await Promise.all(
      Array.from({ length: 8 }, () => log.increment('daily-runs', 'cap-test', { limit: 5 })),
    );
    // Assess
    expect(counts.filter((c) => c !== undefined).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(counts.filter((c) => c === undefined)).toHaveLength(3);
    expect(await log.increment('daily-runs', 'no-limit')).toBe(1);
  });

  it('stores artifacts under sha256/<hex> once and verifies the hash on every read', async () => {
    // Act
    const hash = await store.put('invoice total');
    const again = await store.put('invoice total');
    // Assess
    expect(hash).toBe(sha256Hex('invoice total'));
    expect(again).toBe(hash);
    expect(await store.getText(hash)).toBe('invoice total');
  });

  it('refuses an artifact whose bytes were changed on disk', async () => {
    // Prepare: tamper with the object's file inside s3rver's directory
    const hash = await store.put('original bytes');
    const objectDir = join(dir, 's3', 'artifacts', 'sha256');
    const files = await readdir(objectDir);
    const objectFile = files.find((f) => f.startsWith(hash) && f.endsWith('._S3rver_object'));
    expect(objectFile).toBeDefined();
    await writeFile(join(objectDir, objectFile as string), 'tampered bytes');
    // Act / Assess
    await expect(store.get(hash)).rejects.toBeInstanceOf(ArtifactCorruptedError);
    await expect(store.get(hash)).rejects.toThrow(/corrupted/);
  });

  it('keeps events on disk across an engine restart', async () => {
    // Prepare
    await log.append(stateEvent('run-durable', 'kept'));
    await engines.stop();
    // Act
    engines = await startLocalEngines(dir);
    log = new DynamoEventLog(engines.dynamo, defaultTableNames());
    store = new S3ArtifactStore(engines.s3, 'artifacts');
    // Assess
    expect((await log.read('run-durable')).map((e) => e.key)).toEqual(['kept']);
  });
});

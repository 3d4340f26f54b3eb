import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../adapters/aws/dynamodb-event-log.js';
import { InvalidInputError } from '../domain/errors.js';
import { type LocalEngines, startLocalEngines } from '../local/engines.js';
import {
  type ApprovalLinkFailure,
  type ApprovalLinkPayload,
  approvalLinkUrl,
  consumeApprovalLink,
  loadOrCreateSigningKey,
  newLinkNonce,
  RecordStoreLinkLedger,
  SIGNING_KEY_FILE,
  signApprovalLink,
  verifyApprovalLink,
} from './signed-links.js';

const now = new Date('2026-11-21T12:00:00.000Z');
const key = randomBytes(32);

function payload(overrides: Partial<ApprovalLinkPayload> = {}): ApprovalLinkPayload {
  return {
    approvalId: 'apv-0123456789ab',
    decision: 'approve',
    approver: 'sam',
    expiresAt: '2026-11-22T12:00:00.000Z',
    nonce: newLinkNonce(),
    ...overrides,
  };
}

function failureOf(action: () => unknown): ApprovalLinkFailure | undefined {
  try {
    action();
  } catch (error) {
    return (error as { reason?: ApprovalLinkFailure }).reason;
  }
  return undefined;
}

describe('signed approval links', () => {
  it('verifies a link it signed and returns what the link answers', () => {
    // Prepare
    const signed = payload({ decision: 'reject' });
    // Act
    const token = signApprovalLink(signed, key);
    // Assess
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyApprovalLink(token, key, now)).toEqual(signed);
  });

  it('calls a link signed with another key forged', () => {
    // Prepare
    const token = signApprovalLink(payload(), randomBytes(32));
    // Act / Assess
    expect(failureOf(() => verifyApprovalLink(token, key, now))).toBe('forged');
  });

  it('calls a link whose payload was changed after signing forged', () => {
    // Prepare: swap the approver, keep the signature
    const token = signApprovalLink(payload(), key);
    const [, signature] = token.split('.');
    const tampered = Buffer.from(JSON.stringify(payload({ approver: 'mallory' }))).toString('base64url');
    // Act / Assess
    expect(failureOf(() => verifyApprovalLink(`${tampered}.${signature}`, key, now))).toBe('forged');
  });

  it('calls a link past its expiry expired, from the exact expiry instant on', () => {
    // Prepare
    const token = signApprovalLink(payload({ expiresAt: now.toISOString() }), key);
    // Act / Assess
    expect(failureOf(() => verifyApprovalLink(token, key, now))).toBe('expired');
    expect(verifyApprovalLink(token, key, new Date(now.getTime() - 1)).approver).toBe('sam');
  });

  it('calls anything that is not a signed token malformed', () => {
    // Prepare
    const token = signApprovalLink(payload(), key);
    const samples = [
      '',
      'abc',
      `${token}.extra`,
      `${token.split('.')[0]}.`,
      `${token.slice(0, -4)}`,
      'a b.c',
    ];
    // Act
    const failures = samples.map((sample) => failureOf(() => verifyApprovalLink(sample, key, now)));
    // Assess
    expect(failures).toEqual(samples.map(() => 'malformed'));
  });

  it('refuses to sign with a short key or an incomplete payload', () => {
    // Act / Assess
    expect(() => signApprovalLink(payload(), randomBytes(16))).toThrow(InvalidInputError);
    expect(() => signApprovalLink(payload({ nonce: 'short' }), key)).toThrow(/nonce/);
  });

  it('puts the token in the approvals path of the server URL', () => {
    // Act / Assess
    expect(approvalLinkUrl('http://127.0.0.1:8787/', 'abc.def')).toBe(
      'http://127.0.0.1:8787/approvals/abc.def',
    );
  });
});

describe('single-use links on the record store', () => {
  let dir: string;
  let engines: LocalEngines;
  let ledger: RecordStoreLinkLedger;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-links-'));
    engines = await startLocalEngines(join(dir, 'data'));
    await ensureEventLogTables(engines.dynamo, defaultTableNames());
    ledger = new RecordStoreLinkLedger(new DynamoEventLog(engines.dynamo, defaultTableNames()), () => now);
  });

  afterAll(async () => {
    await engines?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a link once and calls the second use replayed', async () => {
    // Prepare
    const token = signApprovalLink(payload(), key);
    // Act
    const first = await consumeApprovalLink(token, key, ledger, now);
    const second = await consumeApprovalLink(token, key, ledger, now).catch((error: unknown) => error);
    // Assess
    expect(first.approver).toBe('sam');
    expect(second).toMatchObject({ name: 'ApprovalLinkError', reason: 'replayed' });
  });

  it('lets only one of two racing uses of a link through', async () => {
    // Prepare: a second ledger, as a second process would have
    const other = new RecordStoreLinkLedger(new DynamoEventLog(engines.dynamo, defaultTableNames()));
    const token = signApprovalLink(payload(), key);
    // Act
    const results = await Promise.allSettled([
      consumeApprovalLink(token, key, ledger, now),
      consumeApprovalLink(token, key, other, now),
    ]);
    // Assess
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('does not consume a forged link, so the genuine one still works', async () => {
    // Prepare
    const genuine = payload();
    const forged = signApprovalLink(genuine, randomBytes(32));
    // Act
    const refused = await consumeApprovalLink(forged, key, ledger, now).catch((error: unknown) => error);
    const accepted = await consumeApprovalLink(signApprovalLink(genuine, key), key, ledger, now);
    // Assess
    expect(refused).toMatchObject({ reason: 'forged' });
    expect(accepted.nonce).toBe(genuine.nonce);
  });
});

describe('the link signing key', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gantry-key-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created once, 32 random bytes readable by the owner only, then read back', async () => {
    // Prepare
    const file = join(dir, '.gantry', SIGNING_KEY_FILE);
    // Act
    const created = await loadOrCreateSigningKey(file);
    const loaded = await loadOrCreateSigningKey(file);
    // Assess
    expect(created.byteLength).toBe(32);
    expect(loaded.equals(created)).toBe(true);
    expect((await readFile(file)).equals(created)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('is refused when other users may read it, or when it is too short', async () => {
    // Prepare
    const open = join(dir, 'open.key');
    await writeFile(open, randomBytes(32));
    await chmod(open, 0o644);
    const short = join(dir, 'short.key');
    await writeFile(short, randomBytes(8), { mode: 0o600 });
    // Act / Assess
    await expect(loadOrCreateSigningKey(open)).rejects.toThrow(/can be read by other users/);
    await expect(loadOrCreateSigningKey(short)).rejects.toThrow(/at least 32 bytes/);
  });
});

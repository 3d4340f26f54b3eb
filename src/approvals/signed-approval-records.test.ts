import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../adapters/local/ed25519-signer.js';
import type { Approval } from '../domain/approval.js';
import { GantryError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';
import { APPROVAL_KIND, createApproval, getApproval, saveApproval } from './approval-records.js';
import { ApprovalSignatureError, verifyApprovalDecision } from './decision-signatures.js';
import { platformSignerOf, SignedApprovalRecords } from './signed-approval-records.js';

/** The record store as a map: what a process that reached the table sees and writes. */
function memoryStore(): RecordStore & { rows: Map<string, unknown> } {
  const rows = new Map<string, unknown>();
  const key = (kind: string, id: string) => `${kind}/${id}`;
  return {
    rows,
    async get<T>(kind: string, id: string) {
      return structuredClone(rows.get(key(kind, id))) as T | undefined;
    },
    async put<T>(kind: string, id: string, value: T, options?: { ifAbsent?: boolean }) {
      if (options?.ifAbsent && rows.has(key(kind, id))) return false;
      rows.set(key(kind, id), structuredClone(value));
      return true;
    },
    async list<T>(kind: string) {
      return [...rows.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, v]) => v) as T[];
    },
    async increment() {
      return 1;
    },
  };
}

const pending: Approval = {
  id: 'apv-0123456789ab',
  runId: '01JRUN0000000000000000000A',
  kind: 'plan',
  state: 'AwaitPlanApproval',
  taskToken: 'local',
  subject: 'plan approval',
  requestedAt: '2026-11-21T12:00:00.000Z',
  expiresAt: '2026-11-22T12:00:00.000Z',
  status: 'pending',
  approvers: ['sam.okafor'],
};
const approved: Approval = {
  ...pending,
  status: 'approved',
  decidedBy: 'sam.okafor',
  decidedAt: '2026-11-21T13:00:00.000Z',
  decidedVia: 'cli',
};

function setUp() {
  const raw = memoryStore();
  const signer = new Ed25519Signer(generateKeyPairSync('ed25519').privateKey);
  return { raw, signer, records: new SignedApprovalRecords(raw, signer) };
}

describe('SignedApprovalRecords', () => {
  it('stores a pending approval unsigned and a decided one signed with the platform key', async () => {
    // Prepare
    const { raw, signer, records } = setUp();
    // Act
    await createApproval(records, pending);
    const unsigned = await raw.get<Approval>(APPROVAL_KIND, pending.id);
    await saveApproval(records, approved);
    const stored = await raw.get<Approval>(APPROVAL_KIND, pending.id);
    // Assess
    expect(unsigned?.signature).toBeUndefined();
    expect(stored?.signature?.keyId).toBe(signer.keyId);
    expect(verifyApprovalDecision(stored as Approval, await signer.publicKeyPem())).toEqual({
      verified: true,
    });
    expect(await getApproval(records, pending.id)).toEqual(stored);
  });

  it('signs again whatever signature the writer brought along', async () => {
    // Prepare
    const { raw, records } = setUp();
    const bogus = { algorithm: 'ed25519' as const, keyId: 'x', nonce: 'n'.repeat(22), value: 'AAAA' };
    // Act
    await saveApproval(records, { ...approved, signature: bogus });
    // Assess
    expect((await raw.get<Approval>(APPROVAL_KIND, approved.id))?.signature?.keyId).not.toBe('x');
    await expect(getApproval(records, approved.id)).resolves.toMatchObject({ status: 'approved' });
  });

  it('refuses to read back a decision written straight into the store', async () => {
    // Prepare: the attacker writes an approval with no signature
    const { raw, records } = setUp();
    await raw.put(APPROVAL_KIND, approved.id, approved);
    // Act
    const read = getApproval(records, approved.id);
    // Assess
    await expect(read).rejects.toBeInstanceOf(ApprovalSignatureError);
    await expect(read).rejects.toThrow(/it carries no platform signature/);
  });

  it('refuses a signed decision changed in the store afterwards', async () => {
    // Prepare: a genuine rejection, flipped to approved by someone with write access
    const { raw, records } = setUp();
    await saveApproval(records, { ...approved, status: 'rejected' });
    const stored = (await raw.get<Approval>(APPROVAL_KIND, approved.id)) as Approval;
    await raw.put(APPROVAL_KIND, approved.id, { ...stored, status: 'approved' });
    // Act / Assess
    await expect(getApproval(records, approved.id)).rejects.toThrow(
      "the decision's signature did not verify (approved by sam.okafor; its signature",
    );
  });

  it('passes every other kind of record, and listings, through unchanged', async () => {
    // Prepare
    const { raw, records } = setUp();
    await raw.put(APPROVAL_KIND, approved.id, approved);
    // Act
    await records.put('kill-switch', 'global', { engaged: true });
    // Assess
    expect(await raw.get('kill-switch', 'global')).toEqual({ engaged: true });
    expect(await records.get('kill-switch', 'global')).toEqual({ engaged: true });
    expect(await records.list(APPROVAL_KIND)).toEqual([approved]);
  });
});

describe('platformSignerOf', () => {
  it('gives the signer of a signing store and refuses any other store', () => {
    // Prepare
    const { raw, signer, records } = setUp();
    // Act / Assess
    expect(platformSignerOf(records)).toBe(signer);
    expect(() => platformSignerOf(raw)).toThrow(GantryError);
    expect(() => platformSignerOf(raw)).toThrow(/without the platform signature/);
  });
});

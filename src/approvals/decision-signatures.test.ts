import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Ed25519Signer } from '../adapters/local/ed25519-signer.js';
import type { Approval } from '../domain/approval.js';
import { InvalidInputError } from '../domain/errors.js';
import {
  ApprovalSignatureError,
  checkApprovalDecision,
  DECISION_PAYLOAD_TYPE,
  decisionBytes,
  decisionPayloadOf,
  signApprovalDecision,
  verifyApprovalDecision,
} from './decision-signatures.js';

const signer = new Ed25519Signer(generateKeyPairSync('ed25519').privateKey);

const pending: Approval = {
  id: 'apv-0123456789ab',
  runId: '01JRUN0000000000000000000A',
  kind: 'plan',
  state: 'AwaitPlanApproval',
  taskToken: 'local',
  subject: 'plan approval for run 01JRUN0000000000000000000A',
  requestedAt: '2026-11-21T12:00:00.000Z',
  expiresAt: '2026-11-22T12:00:00.000Z',
  status: 'pending',
  approvers: ['sam.okafor', 'priya.raman'],
};

const decided: Approval = {
  ...pending,
  status: 'rejected',
  decidedBy: 'sam.okafor',
  decidedAt: '2026-11-21T13:00:00.000Z',
  decidedVia: 'cli',
  reason: 'the plan touches the lockfile',
};

describe('decisionPayloadOf', () => {
  it('names the approval, run, kind, decision, approver, time, channel, reason and nonce', () => {
    // Act
    const payload = decisionPayloadOf(decided, 'n'.repeat(22));
    // Assess
    expect(payload).toEqual({
      _type: DECISION_PAYLOAD_TYPE,
      approvalId: 'apv-0123456789ab',
      runId: '01JRUN0000000000000000000A',
      kind: 'plan',
      decision: 'rejected',
      approver: 'sam.okafor',
      decidedAt: '2026-11-21T13:00:00.000Z',
      channel: 'cli',
      reason: 'the plan touches the lockfile',
      nonce: 'n'.repeat(22),
    });
    expect(decisionBytes(payload).toString('utf8')).toMatch(/^\{"_type":.*,"approvalId":.*"runId":"01JRUN/);
  });

  it('refuses a pending approval: there is no decision to sign', () => {
    // Act / Assess
    expect(() => decisionPayloadOf(pending, 'n'.repeat(22))).toThrow(InvalidInputError);
  });
});

describe('signApprovalDecision', () => {
  it('adds an ed25519 signature with the key id and a fresh nonce each time', async () => {
    // Act
    const first = await signApprovalDecision(decided, signer);
    const second = await signApprovalDecision(decided, signer);
    // Assess
    expect(first.signature).toMatchObject({ algorithm: 'ed25519', keyId: signer.keyId });
    expect(Buffer.from(first.signature?.value ?? '', 'base64')).toHaveLength(64);
    expect(first.signature?.nonce).not.toBe(second.signature?.nonce);
    expect({ ...first, signature: undefined }).toEqual({ ...decided, signature: undefined });
  });
});

describe('verifyApprovalDecision, with the public key alone', () => {
  it('verifies a decision as it was signed', async () => {
    // Prepare
    const signed = await signApprovalDecision(decided, signer);
    // Act
    const verdict = verifyApprovalDecision(signed, await signer.publicKeyPem());
    // Assess
    expect(verdict).toEqual({ verified: true });
  });

  it('refuses a decision without a signature', async () => {
    // Act
    const verdict = verifyApprovalDecision(decided, await signer.publicKeyPem());
    // Assess
    expect(verdict).toEqual({ verified: false, reason: 'it carries no platform signature' });
  });

  it.each([
    ['the decision flipped from rejected to approved', { status: 'approved' as const }],
    ['the approver changed', { decidedBy: 'mallory' }],
    ['the time changed', { decidedAt: '2026-11-21T13:00:01.000Z' }],
    ['the channel changed', { decidedVia: 'link' as const }],
    ['the reason changed', { reason: 'fine by me' }],
    ['the run changed', { runId: '01JOTHER000000000000000000' }],
  ])('refuses a signed decision after %s', async (_what, change) => {
    // Prepare
    const signed = await signApprovalDecision(decided, signer);
    // Act
    const verdict = verifyApprovalDecision({ ...signed, ...change }, await signer.publicKeyPem());
    // Assess
    expect(verdict.verified).toBe(false);
    expect(!verdict.verified && verdict.reason).toMatch(
      /does not match its approval id, run, kind, decision/,
    );
  });

  it("refuses another approval's signature copied onto this one", async () => {
    // Prepare: a genuine approval of another gate, its signature pasted on this record
    const other = await signApprovalDecision(
      { ...decided, id: 'apv-ba9876543210', status: 'approved', reason: undefined },
      signer,
    );
    const forged: Approval = {
      ...decided,
      status: 'approved',
      reason: undefined,
      signature: other.signature,
    };
    // Act
    const verdict = verifyApprovalDecision(forged, await signer.publicKeyPem());
    // Assess
    expect(verdict.verified).toBe(false);
  });

  it('refuses a decision signed by another key', async () => {
    // Prepare
    const stranger = new Ed25519Signer(generateKeyPairSync('ed25519').privateKey);
    const signed = await signApprovalDecision(decided, stranger);
    // Act / Assess
    expect(verifyApprovalDecision(signed, await signer.publicKeyPem()).verified).toBe(false);
  });

  it('refuses a public key that is not Ed25519', () => {
    // Prepare
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    // Act / Assess
    expect(() =>
      verifyApprovalDecision({ ...decided, signature: { ...fakeSignature } }, rsa.toString()),
    ).toThrow(/not Ed25519/);
  });
});

const fakeSignature = {
  algorithm: 'ed25519' as const,
  keyId: 'k',
  nonce: 'n'.repeat(22),
  value: Buffer.alloc(64).toString('base64'),
};

describe('checkApprovalDecision, with the platform signer', () => {
  it('agrees with verifyApprovalDecision', async () => {
    // Prepare
    const signed = await signApprovalDecision(decided, signer);
    // Act / Assess
    expect(await checkApprovalDecision(signed, signer)).toEqual({ verified: true });
    expect((await checkApprovalDecision({ ...signed, decidedBy: 'mallory' }, signer)).verified).toBe(false);
    expect((await checkApprovalDecision({ ...decided, signature: fakeSignature }, signer)).verified).toBe(
      false,
    );
  });
});

describe('ApprovalSignatureError', () => {
  it("says which approval, what it claimed, and that the decision's signature did not verify", () => {
    // Act
    const error = new ApprovalSignatureError(decided, 'it carries no platform signature');
    // Assess
    expect(error.name).toBe('ApprovalSignatureError');
    expect(error.message).toBe(
      "approval apv-0123456789ab of run 01JRUN0000000000000000000A is refused: the decision's signature did not verify (rejected by sam.okafor; it carries no platform signature)",
    );
    expect(error.hint).toMatch(/written or changed outside Gantry/);
  });
});

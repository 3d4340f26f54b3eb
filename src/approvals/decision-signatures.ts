import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { z } from 'zod';
import { type Approval, DecisionSignature } from '../domain/approval.js';
import { GantryError, InvalidInputError } from '../domain/errors.js';
import { ApprovalKind } from '../domain/risk.js';
import type { PlatformSigner } from '../ports/platform-signer.js';
import { canonicalJson } from './canonical-json.js';

/** Says what the signed bytes are, so a signature over a decision is valid for nothing else. */
export const DECISION_PAYLOAD_TYPE = 'https://gantry.dev/approval-decision/v1';

/** What the platform key signs when a decision is recorded: who decided which gate of which run, how and when. */
export const ApprovalDecisionPayload = z.strictObject({
  _type: z.literal(DECISION_PAYLOAD_TYPE),
  approvalId: z.string().min(1),
  runId: z.string().min(1),
  kind: ApprovalKind,
  decision: z.enum(['approved', 'rejected', 'expired']),
  approver: z.string().min(1),
  decidedAt: z.iso.datetime(),
  channel: z.enum(['cli', 'link', 'expiry']),
  /** The approver's reason, or null: changing it after the fact is tampering too. */
  reason: z.string().nullable(),
  nonce: DecisionSignature.shape.nonce,
});
export type ApprovalDecisionPayload = z.infer<typeof ApprovalDecisionPayload>;

/** Why a recorded decision is not trusted; `reason` is a phrase (`it carries no platform signature`). */
export type DecisionVerdict = { verified: true } | { verified: false; reason: string };

/**
 * The decision of an approval record as the platform key signs it, with the signature's nonce; throws
 * when the record does not hold a whole decision (a pending approval, or one missing who, when or how).
 *
 * @example
 * decisionPayloadOf(approval, signature.nonce);
 * // { _type: 'https://gantry.dev/approval-decision/v1', approvalId: 'apv-…', decision: 'approved', approver: 'sam', … }
 */
export function decisionPayloadOf(record: Approval, nonce: string): ApprovalDecisionPayload {
  const parsed = ApprovalDecisionPayload.safeParse({
    _type: DECISION_PAYLOAD_TYPE,
    approvalId: record.id,
    runId: record.runId,
    kind: record.kind,
    decision: record.status,
    approver: record.decidedBy,
    decidedAt: record.decidedAt,
    channel: record.decidedVia,
    reason: record.reason ?? null,
    nonce,
  });
  if (!parsed.success) {
    throw new InvalidInputError(`approval ${record.id} holds no whole decision to sign`, {
      input: record.id,
      hint: 'a decision names its status (approved, rejected or expired), decidedBy, decidedAt and decidedVia',
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** The exact bytes signed: the payload's sorted-key JSON in UTF-8. */
export function decisionBytes(payload: ApprovalDecisionPayload): Buffer {
  return Buffer.from(canonicalJson(payload), 'utf8');
}

/**
 * Signs a decided approval with the platform key and returns it with its `signature`.
 *
 * @example
 * const signed = await signApprovalDecision({ ...approval, status: 'approved', decidedBy: 'sam', decidedAt, decidedVia: 'cli' }, signer);
 * signed.signature; // { algorithm: 'ed25519', keyId: 'ed25519:…', nonce: '…', value: '…' }
 */
export async function signApprovalDecision(record: Approval, signer: PlatformSigner): Promise<Approval> {
  const nonce = randomBytes(16).toString('base64url');
  const signature = await signer.sign(decisionBytes(decisionPayloadOf(record, nonce)));
  return {
    ...record,
    signature: {
      algorithm: 'ed25519',
      keyId: signer.keyId,
      nonce,
      value: Buffer.from(signature).toString('base64'),
    },
  };
}

/** The signature's bytes and the payload they should sign, or why there is nothing to check. */
function signedPartsOf(
  record: Approval,
): { bytes: Buffer; signature: Buffer } | { verified: false; reason: string } {
  if (!record.signature) return { verified: false, reason: 'it carries no platform signature' };
  let payload: ApprovalDecisionPayload;
  try {
    payload = decisionPayloadOf(record, record.signature.nonce);
  } catch {
    return { verified: false, reason: 'it does not hold a whole decision (who, when and how)' };
  }
  return { bytes: decisionBytes(payload), signature: Buffer.from(record.signature.value, 'base64') };
}

const mismatch = (record: Approval): DecisionVerdict => ({
  verified: false,
  reason: `its signature (key ${record.signature?.keyId}) does not match its approval id, run, kind, decision, approver, time, channel, reason and nonce`,
});

/**
 * Checks a recorded decision with the platform's public key alone: what an auditor outside Gantry runs.
 * A record without a signature, with someone else's, or changed after it was signed does not verify.
 *
 * @example
 * const verdict = verifyApprovalDecision(record, await readFile('.gantry/platform-key.pub.pem', 'utf8'));
 * if (!verdict.verified) console.error(`not a Gantry decision: ${verdict.reason}`);
 */
export function verifyApprovalDecision(record: Approval, publicKeyPem: string): DecisionVerdict {
  const parts = signedPartsOf(record);
  if ('verified' in parts) return parts;
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InvalidInputError(`the public key is ${key.asymmetricKeyType}, not Ed25519`, {
      hint: 'pass the platform public key (platform-key.pub.pem, or KMS GetPublicKey as PEM)',
    });
  }
  return verify(null, parts.bytes, key, parts.signature) ? { verified: true } : mismatch(record);
}

/**
 * Checks a recorded decision with the platform signer, as the runtime does before a gate passes.
 *
 * @example
 * const verdict = await checkApprovalDecision(record, signer); // { verified: true }
 */
export async function checkApprovalDecision(
  record: Approval,
  signer: PlatformSigner,
): Promise<DecisionVerdict> {
  const parts = signedPartsOf(record);
  if ('verified' in parts) return parts;
  return (await signer.verify(parts.bytes, parts.signature)) ? { verified: true } : mismatch(record);
}

/**
 * A recorded decision the platform key did not sign: written past Gantry into the record store, or
 * changed after it was recorded. No gate passes on it.
 */
export class ApprovalSignatureError extends GantryError {
  override name = 'ApprovalSignatureError';

  constructor(
    readonly approval: Pick<Approval, 'id' | 'runId' | 'status' | 'decidedBy'>,
    readonly reason: string,
  ) {
    super(
      `approval ${approval.id} of run ${approval.runId} is refused: the decision's signature did not verify (${approval.status} by ${approval.decidedBy ?? 'nobody'}; ${reason})`,
      {
        input: approval.id,
        hint: 'the approval record was written or changed outside Gantry; do not trust it. Find out who can write the record store, then submit the request again and answer its gate with `gantry approve` or a signed link',
      },
    );
  }
}

import { z } from 'zod';
import { ApprovalKind } from './risk.js';

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/**
 * The platform key's signature of a decision (src/approvals/decision-signatures.ts): Ed25519 over the
 * sorted-key JSON of the decision's fields and `nonce`. A decision without a valid one passes no gate.
 */
export const DecisionSignature = z.strictObject({
  algorithm: z.literal('ed25519'),
  /** The platform key that signed (a KMS key id or ARN on AWS, `ed25519:<fingerprint>` locally). */
  keyId: z.string().min(1),
  /** Random per signature, so no two decisions sign the same bytes. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'a nonce is 16 to 128 base64url characters'),
  /** base64 of the 64-byte signature. */
  value: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'a signature is base64'),
});
export type DecisionSignature = z.infer<typeof DecisionSignature>;

/** A gate waiting for a person; its task token resumes the workflow. */
export const Approval = z.strictObject({
  id: z.string(),
  runId: z.string(),
  kind: ApprovalKind,
  /** The workflow state that waits on this approval. */
  state: z.string(),
  taskToken: z.string(),
  subject: z.string(),
  requestedAt: z.string().datetime(),
  expiresAt: z.string().datetime(),
  status: ApprovalStatus,
  /** Who may answer, as the approval matrix decided when the gate opened. */
  approvers: z.array(z.string()).default([]),
  decidedVia: z.enum(['cli', 'link', 'expiry']).optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().datetime().optional(),
  reason: z.string().optional(),
  /** Set when the decision is recorded; a pending approval has none. */
  signature: DecisionSignature.optional(),
});
export type Approval = z.infer<typeof Approval>;

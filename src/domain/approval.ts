import { z } from 'zod';
import { ApprovalKind } from './risk.js';

export const ApprovalStatus = z.enum(['pending', 'approved', 'rejected', 'expired']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

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
});
export type Approval = z.infer<typeof Approval>;

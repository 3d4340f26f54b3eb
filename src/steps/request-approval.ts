import { approvalLifetimeMs, approversFor } from '../approvals/approval-matrix.js';
import { approvalIdFor, createApproval, saveApproval } from '../approvals/approval-records.js';
import { renderEmailApproval, renderSlackApproval } from '../approvals/notifications.js';
import { platformSignerOf } from '../approvals/signed-approval-records.js';
import { newLinkNonce, signApprovalLink } from '../approvals/signed-links.js';
import {
  type WithheldApprovalLink,
  withheldLinkUrl,
  withholdApprovalLink,
} from '../approvals/withheld-links.js';
import type { Approval } from '../domain/approval.js';
import type { ApprovalKind } from '../domain/risk.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { approverQueryFor } from './approver-query.js';
import { journalFor, refreshSummary, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** Thrown by a gate that has no answer yet: the execution pauses until a person decides. */
export class AwaitingApproval extends Error {
  override name = 'AwaitingApproval';
  constructor(readonly approvalId: string) {
    super(`waiting for approval ${approvalId}`);
  }
}

/**
 * The gate behind a `.waitForTaskToken` state: records the approval request with its task token, who may
 * answer it (the approval matrix; never the requester) and its deadline, sends each approver signed
 * links, and returns the decision once there is one. On AWS the execution waits on the token; locally
 * the execution pauses and `gantry approve` or a link resumes it.
 *
 * A decision passes the gate only with the platform key's signature: the record store signs decisions as
 * they are recorded and checks them as the gate reads them back (SignedApprovalRecords), so a decision
 * written into the store by anyone else, or changed after it was signed, stops the run here with an
 * ApprovalSignatureError (the run fails with that reason).
 */
export async function requestApproval(
  deps: StepDeps,
  input: { run: RunRef; kind: ApprovalKind; state: string; taskToken: string },
): Promise<{ decision: 'approved' | 'rejected' | 'expired'; by: string; reason: string }> {
  // Fail closed: on a store that does not sign decisions, a forged one could not be told apart.
  platformSignerOf(deps.records);
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('requestApproval');
  const id = approvalIdFor(input.run.runId, input.state);
  const now = deps.now();
  const query = await approverQueryFor(journal, deps.artifacts, input.kind, deps.approvers);
  const approvers = approversFor(query);
  const approval = await createApproval(deps.records, {
    id,
    runId: input.run.runId,
    kind: input.kind,
    state: input.state,
    taskToken: input.taskToken,
    subject: `${input.kind} approval for run ${input.run.runId}`,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + approvalLifetimeMs(input.kind, deps.approvers)).toISOString(),
    status: 'pending',
    approvers: approvers.anyOf,
  });
  if (!journal.find(`approval:${id}:requested`, 'approval.requested')) {
    await journal.record(`approval:${id}:requested`, 'approval.requested', actor, {
      approvalId: id,
      kind: approval.kind,
      state: approval.state,
      expiresAt: approval.expiresAt,
      approvers: approval.approvers,
      notifications: await notify(deps, journal, approval, approvers.reason),
    });
  }
  await journal.record(`approval:${id}:waiting`, 'run.state', actor, { state: 'waiting_for_approval' });
  await refreshSummary(deps, journal);

  if (approval.status === 'pending' && now.toISOString() > approval.expiresAt) {
    Object.assign(approval, {
      status: 'expired',
      decidedBy: 'gantry',
      decidedAt: now.toISOString(),
      decidedVia: 'expiry',
      reason: `nobody answered before ${approval.expiresAt}`,
    });
    await saveApproval(deps.records, approval);
  }
  if (approval.status === 'pending') throw new AwaitingApproval(id);

  const decision = approval.status;
  const by = approval.decidedBy ?? 'unknown';
  await journal.record(
    `approval:${id}:decided`,
    'approval.decided',
    { kind: decision === 'expired' ? 'system' : 'human', id: by },
    {
      approvalId: id,
      decision,
      by,
      reason: approval.reason,
      via: approval.decidedVia,
    },
  );
  await journal.record(`approval:${id}:resumed`, 'run.state', actor, { state: 'running' });
  await refreshSummary(deps, journal);
  const reason = approval.reason ?? '';
  return {
    decision,
    by,
    reason:
      decision === 'approved'
        ? reason
        : `${input.kind} approval ${decision} by ${by}: ${reason || 'no reason given'}`,
  };
}

/**
 * Renders the Slack and email messages for each approver, with approve and reject links signed for
 * that person, and stores them by hash with the links withheld: each link is kept as what identifies it
 * (approval, approver, action, expiry, nonce) and its token's sha256, never the token, so the artifact
 * store holds nothing that answers a gate. Delivery belongs to the channel adapter; the operator can sign
 * a withheld link again with `reissueApprovalLink`, and `gantry serve` answers the links.
 */
async function notify(deps: StepDeps, journal: RunJournal, approval: Approval, why: string): Promise<string> {
  const request = requestOf(journal);
  const risk = journal.find('risk', 'risk.classified')?.data;
  const { baseUrl, key } = deps.approvalLinks;
  const messages = approval.approvers.map((approver) => {
    const [approve, reject] = (['approve', 'reject'] as const).map((decision) => {
      const payload = {
        approvalId: approval.id,
        decision,
        approver,
        expiresAt: approval.expiresAt,
        nonce: newLinkNonce(),
      };
      return withholdApprovalLink(payload, signApprovalLink(payload, key));
    }) as [WithheldApprovalLink, WithheldApprovalLink];
    const message = {
      approveUrl: withheldLinkUrl(baseUrl, approve),
      rejectUrl: withheldLinkUrl(baseUrl, reject),
      runTitle: request.title,
      requester: request.requester,
      riskTier: risk?.tier ?? 'critical',
      reasons: [...(risk?.reasons ?? []), why],
      approvers: approval.approvers,
    };
    return {
      approver,
      links: [approve, reject],
      slack: renderSlackApproval(approval, message),
      email: renderEmailApproval(approval, message),
    };
  });
  return deps.artifacts.put(JSON.stringify(messages, null, 2), 'application/json');
}

import { approvalIdFor, createApproval, saveApproval } from '../approvals/approval-records.js';
import type { ApprovalKind } from '../domain/risk.js';
import { journalFor, refreshSummary, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** Thrown by a gate that has no answer yet: the execution pauses until a person decides. */
export class AwaitingApproval extends Error {
  override name = 'AwaitingApproval';
  constructor(readonly approvalId: string) {
    super(`waiting for approval ${approvalId}`);
  }
}

/**
 * The gate behind a `.waitForTaskToken` state: records the approval request with its task token and
 * returns the decision once there is one. On AWS the execution waits on the token; locally the
 * execution pauses and `gantry approve` resumes it.
 */
export async function requestApproval(
  deps: StepDeps,
  input: { run: RunRef; kind: ApprovalKind; state: string; taskToken: string },
): Promise<{ decision: 'approved' | 'rejected' | 'expired'; by: string; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const actor = stepActor('requestApproval');
  const id = approvalIdFor(input.run.runId, input.state);
  const now = deps.now();
  const approval = await createApproval(deps.records, {
    id,
    runId: input.run.runId,
    kind: input.kind,
    state: input.state,
    taskToken: input.taskToken,
    subject: `${input.kind} approval for run ${input.run.runId}`,
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + deps.settings.approvalTtlMs).toISOString(),
    status: 'pending',
  });
  await journal.record(`approval:${id}:requested`, 'approval.requested', actor, {
    approvalId: id,
    kind: approval.kind,
    state: approval.state,
    expiresAt: approval.expiresAt,
  });
  await journal.record(`approval:${id}:waiting`, 'run.state', actor, { state: 'waiting_for_approval' });
  await refreshSummary(deps, journal);

  if (approval.status === 'pending' && now.toISOString() > approval.expiresAt) {
    approval.status = 'expired';
    approval.decidedBy = 'gantry';
    approval.decidedAt = now.toISOString();
    approval.reason = `nobody answered before ${approval.expiresAt}`;
    await saveApproval(deps.records, approval);
  }
  if (approval.status === 'pending') throw new AwaitingApproval(id);

  const decision = approval.status;
  await journal.record(
    `approval:${id}:decided`,
    'approval.decided',
    { kind: 'human', id: approval.decidedBy ?? 'unknown' },
    {
      approvalId: id,
      decision,
      by: approval.decidedBy ?? 'unknown',
      reason: approval.reason,
    },
  );
  await journal.record(`approval:${id}:resumed`, 'run.state', actor, { state: 'running' });
  await refreshSummary(deps, journal);
  const reason = approval.reason ?? '';
  return {
    decision,
    by: approval.decidedBy ?? 'unknown',
    reason:
      decision === 'approved'
        ? reason
        : `${input.kind} ${decision} by ${approval.decidedBy}: ${reason || 'no reason given'}`,
  };
}

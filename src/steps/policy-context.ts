import type { GantryAction } from '../domain/actions.js';
import { RunHaltedError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';
import type { AuthorizationRequest, PolicyDecision } from '../domain/policy.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { effectiveAutonomy } from '../policy/autonomy.js';
import { requestOf, stepActor } from './run-context.js';
import type { StepDeps } from './step-deps.js';

/**
 * The parts of a policy question that describe the run: who is acting under which contract, and the
 * run's risk, autonomy and evidence so far, all read from the run's own log.
 */
export function authorizationFrame(
  deps: StepDeps,
  journal: RunJournal,
): {
  principal: AuthorizationRequest['principal'];
  repository: string;
  context: () => AuthorizationRequest['context'];
} {
  const request = requestOf(journal);
  const contract = deps.capabilities.get(request.capability);
  return {
    principal: {
      agent: deps.settings.agentVersion,
      capability: contract.id,
      capabilityVersion: contract.version,
      allowedActions: contract.allowedActions,
      forbiddenActions: contract.forbiddenActions,
    },
    repository: request.repository.name,
    context: () => {
      const risk = journal.find('risk', 'risk.classified')?.data;
      const events = journal.events();
      const approvals = decidedApprovals(events)
        .filter((a) => a.decision === 'approved')
        .map((a) => a.kind);
      const last = events.filter((e) => e.type === 'verification.completed').at(-1);
      return {
        riskTier: risk?.tier ?? 'critical',
        autonomyTier: risk ? effectiveAutonomy({ contract, risk }).tier : 0,
        runState: 'running',
        evidence: {
          reproduced: journal.find('reproduction', 'reproduction.recorded')?.data.reproduced ?? false,
          verified: last?.type === 'verification.completed' && last.data.passed,
          evidenceComplete: journal.find('evidence', 'evidence.assembled')?.data.completeness === 1,
          approvals,
        },
      };
    },
  };
}

/**
 * Every answered gate of a run, in order, with the kind of approval it was: policy counts the approved
 * kinds, the release packet lists them all.
 */
export function decidedApprovals(
  events: readonly RunEvent[],
): { kind: string; decision: 'approved' | 'rejected' | 'expired'; by: string; at: string }[] {
  const requested = new Map(
    events.flatMap((e) =>
      e.type === 'approval.requested' ? [[e.data.approvalId, e.data.kind] as const] : [],
    ),
  );
  return events.flatMap((e) =>
    e.type === 'approval.decided'
      ? [
          {
            kind: requested.get(e.data.approvalId) ?? 'unknown',
            decision: e.data.decision,
            by: e.data.by,
            at: e.at,
          },
        ]
      : [],
  );
}

/**
 * Asks the policy engine about a lifecycle action (create a branch, open a pull request), records the
 * decision, and halts the run when it is a deny.
 */
export async function authorizeLifecycle(
  deps: StepDeps,
  journal: RunJournal,
  action: GantryAction,
  resource: { path?: string } = {},
): Promise<PolicyDecision> {
  const frame = authorizationFrame(deps, journal);
  const decision = deps.policy.decide({
    principal: frame.principal,
    action,
    resource: { repository: frame.repository, ...resource },
    context: frame.context(),
  });
  await journal.record(`policy:${action}`, 'policy.decided', stepActor('policy'), { decision });
  if (decision.decision === 'deny') {
    throw new RunHaltedError(`policy denies ${action}: ${decision.reasons.join('; ')}`, {
      input: decision.determiningPolicies.join(', ') || action,
      hint: 'the run stops here; see `gantry policy test` and policies/cedar for the rule',
    });
  }
  return decision;
}

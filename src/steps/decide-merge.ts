import { contractAllows } from '../policy/capabilities.js';
import { serviceOf } from './delivery-context.js';
import { authorizationFrame } from './policy-context.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** How the change may land: by itself, after a person's merge approval, or not by Gantry at all. */
export interface MergeDecision {
  mode: 'automatic' | 'approval' | 'handoff' | 'refused';
  /** The merge approval gate is needed (mode `approval`). */
  approvalRequired: boolean;
  /** After the merge, Gantry deploys (the contract allows it and the repository is a known service). */
  deploy: boolean;
  reason: string;
}

/**
 * Applies the merge rules: the capability contract (may Gantry merge at all, and with whose approval),
 * the checks (tests green, evidence complete, review without a blocker), the run's risk and autonomy
 * tier, and Cedar's answer for `merge` given the approvals the contract will collect. Each rule is
 * recorded with its outcome, so the decision explains itself.
 */
export async function decideMerge(deps: StepDeps, input: { run: RunRef }): Promise<MergeDecision> {
  const journal = await journalFor(deps, input.run);
  const request = requestOf(journal);
  const contract = deps.capabilities.get(request.capability);
  const frame = authorizationFrame(deps, journal);
  const context = frame.context();
  const review = journal.find('review', 'review.completed')?.data;
  const mayMerge = contractAllows(contract, 'merge');
  const mayDeploy = contractAllows(contract, 'deploy');
  const requirement = contract.approvals.merge ?? 'reviewer';
  const approvalRequired = requirement !== 'automatic';
  const service = deps.delivery ? serviceOf(deps.delivery, request.repository.name) : undefined;
  // Cedar is asked as it will be asked at merge time: with the merge approval when the contract collects one.
  const cedar = deps.policy.decide({
    principal: frame.principal,
    action: 'merge',
    resource: { repository: frame.repository },
    context: {
      ...context,
      evidence: {
        ...context.evidence,
        approvals: approvalRequired ? [...context.evidence.approvals, 'merge'] : context.evidence.approvals,
      },
    },
  });
  const rules = [
    {
      rule: 'contract allows merge',
      passed: mayMerge,
      detail: mayMerge
        ? `${contract.id} allows merge (${requirement})`
        : `${contract.id} never merges: a person merges the pull request`,
    },
    {
      rule: 'tests green',
      passed: context.evidence.verified,
      detail: context.evidence.verified ? 'the last verification passed' : 'no passing verification',
    },
    {
      rule: 'evidence complete',
      passed: context.evidence.evidenceComplete,
      detail: context.evidence.evidenceComplete
        ? 'packet 100% complete'
        : 'the evidence packet is incomplete',
    },
    {
      rule: 'review has no blocker',
      passed: (review?.blockers ?? 1) === 0,
      detail: review
        ? `${review.blockers} blocker(s) in ${review.findings} finding(s)`
        : 'no review recorded',
    },
    {
      rule: 'policy permits merge',
      passed: cedar.decision === 'allow',
      detail: `${cedar.decision} by ${cedar.determiningPolicies.join(', ') || 'default deny'} (risk ${context.riskTier}, autonomy tier ${context.autonomyTier})`,
    },
    ...(mayDeploy
      ? [
          {
            rule: 'deployable service',
            passed: Boolean(service),
            detail: service
              ? `deploys as ${service.name}`
              : `no policies/services entry names ${request.repository.name}: merge only`,
          },
        ]
      : []),
  ];
  let decision: MergeDecision;
  const failed = rules.filter((r) => !r.passed && r.rule !== 'deployable service');
  if (!mayMerge) {
    decision = { mode: 'handoff', approvalRequired: false, deploy: false, reason: rules[0]?.detail ?? '' };
  } else if (failed.length > 0) {
    decision = {
      mode: 'refused',
      approvalRequired: false,
      deploy: false,
      reason: `not merging: ${failed.map((r) => `${r.rule} (${r.detail})`).join('; ')}; the pull request waits for a person`,
    };
  } else {
    decision = {
      mode: approvalRequired ? 'approval' : 'automatic',
      approvalRequired,
      deploy: mayDeploy && Boolean(service),
      reason: approvalRequired
        ? `every merge rule passes; the contract asks a ${requirement} to approve the merge`
        : 'every merge rule passes; the contract merges automatically',
    };
  }
  await journal.once('merge:decided', 'merge.decided', stepActor('decideMerge'), async () => ({
    mode: decision.mode,
    rules,
    reason: decision.reason,
  }));
  return decision;
}

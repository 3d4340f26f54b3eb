import { effectiveAutonomy } from '../policy/autonomy.js';
import { classifyRisk as classify } from '../policy/risk.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** What the workflow's choices read: the tier, the run's autonomy, and which gates it must pass. */
export interface RiskState {
  tier: string;
  autonomyTier: number;
  autonomyReason: string;
  approvals: { plan: boolean; codeOwner: boolean; securityOwner: boolean; domainOwner: boolean };
}

/**
 * Classifies the request's risk by the rules in `policies/risk-rules.yaml`, then settles the run's
 * autonomy (the lower of the capability contract's and the risk's) and the gates it must pass. Below
 * tier 2 a person must approve the change before a pull request is opened.
 */
export async function classifyRisk(deps: StepDeps, input: { run: RunRef }): Promise<RiskState> {
  const journal = await journalFor(deps, input.run);
  const request = requestOf(journal);
  const risk = await journal.once('risk', 'risk.classified', stepActor('classifyRisk'), async () =>
    classify(request, deps.riskRules),
  );
  const autonomy = effectiveAutonomy({ contract: deps.capabilities.get(request.capability), risk });
  const required = new Set(risk.requiredApprovals);
  const ownerGates =
    required.has('code-owner') || required.has('security-owner') || required.has('domain-owner');
  return {
    tier: risk.tier,
    autonomyTier: autonomy.tier,
    autonomyReason: `autonomy tier ${autonomy.tier} (advisory) lets Gantry advise but not change code: ${autonomy.explanation}`,
    approvals: {
      plan: required.has('plan'),
      codeOwner: required.has('code-owner') || (autonomy.tier < 2 && !ownerGates),
      securityOwner: required.has('security-owner'),
      domainOwner: required.has('domain-owner'),
    },
  };
}

import { classifyRisk as classify } from '../policy/risk.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** Classifies the request's risk by the rules in `policies/risk-rules.yaml`. */
export async function classifyRisk(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ tier: string; maxAutonomyTier: number; planApproval: boolean }> {
  const journal = await journalFor(deps, input.run);
  const risk = await journal.once('risk', 'risk.classified', stepActor('classifyRisk'), async () =>
    classify(requestOf(journal), deps.riskRules),
  );
  return {
    tier: risk.tier,
    maxAutonomyTier: risk.maxAutonomyTier,
    planApproval: risk.requiredApprovals.includes('plan'),
  };
}

import { deliveryOf, releaseTargetOf } from './delivery-context.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/** Deploys the merged commit to staging and runs the service's smoke checks there. */
export async function deployStaging(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ passed: boolean; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const delivery = deliveryOf(deps);
  const staged = journal.find('deploy:staging', 'deploy.staged');
  if (!staged) await authorizeLifecycle(deps, journal, 'deploy', { path: 'staging' });
  const done = await journal.once('deploy:staging', 'deploy.staged', stepActor('deployStaging'), async () => {
    const result = await delivery.deployer.deployStaging(releaseTargetOf(journal, delivery));
    return {
      deploymentId: result.deployment.id,
      commit: result.deployment.commit,
      passed: result.smoke.passed,
      checks: result.smoke.checks.map((c) => ({
        name: c.name,
        passed: c.passed,
        detail: deps.redactor.redact(c.detail).text,
      })),
    };
  });
  const failed = done.checks.filter((c) => !c.passed);
  return {
    passed: done.passed,
    reason: done.passed
      ? 'staging smoke checks passed'
      : `staging smoke checks failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`,
  };
}

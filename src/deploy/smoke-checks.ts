import type { SmokeResult } from '../ports/deployer.js';
import { describeOutcome, probe } from './http-probe.js';
import type { SmokeCheck } from './service-spec.js';

/**
 * Sends each smoke check once, in order, and reports every one (a failure does not stop the rest).
 *
 * @example
 * const smoke = await runSmokeChecks(deployment.endpoint, spec.smoke);
 * if (!smoke.passed) console.log(smoke.checks.filter((check) => !check.passed));
 */
export async function runSmokeChecks(
  endpoint: string,
  checks: readonly SmokeCheck[],
  options: { timeoutMs?: number } = {},
): Promise<SmokeResult> {
  const results: SmokeResult['checks'] = [];
  for (const check of checks) {
    const outcome = await probe(endpoint, check, { timeoutMs: options.timeoutMs ?? 2000 });
    results.push({
      name: check.name,
      passed: outcome.ok,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
      detail: `${check.method} ${check.path} ${describeOutcome(outcome, check.expectStatus)}`,
    });
  }
  return { passed: results.every((result) => result.passed), checks: results };
}

import { AuthorizationRequest } from '../src/domain/policy.js';
import { loadCapabilities } from '../src/policy/capabilities.js';
import { CedarPolicyEngine } from '../src/policy/cedar-engine.js';
import { percentile } from './measure.js';

/** Cedar's cost per decision, beside the cost of only validating the same requests. */
export interface CedarDecisionFigures {
  decisions: number;
  /** How many of the timed decisions were denies. */
  denied: number;
  decisionsPerSecond: number;
  decisionP50Us: number;
  decisionP99Us: number;
  /** `AuthorizationRequest.parse` of the same requests: the floor any policy engine works above. */
  parsePerSecond: number;
  parseP50Us: number;
}

/**
 * The mix of questions a low-risk-bugfix run puts to Cedar, each with the answer the shipped
 * policies must give; a mix that stopped denying what it should would time the wrong thing.
 */
async function requestMix(): Promise<Array<{ request: AuthorizationRequest; expected: 'allow' | 'deny' }>> {
  const contract = (await loadCapabilities()).get('low-risk-bugfix');
  const principal = {
    agent: 'gantry-agent/bench',
    capability: contract.id,
    capabilityVersion: contract.version,
    allowedActions: contract.allowedActions,
    forbiddenActions: contract.forbiddenActions,
  };
  const context = {
    riskTier: 'low' as const,
    autonomyTier: contract.maxAutonomyTier,
    runState: 'running',
    evidence: { reproduced: true, verified: false, evidenceComplete: false, approvals: [] },
  };
  const repository = 'billing-service';
  const ask = (
    action: string,
    resource: { path?: string; command?: string },
    expected: 'allow' | 'deny',
  ): { request: AuthorizationRequest; expected: 'allow' | 'deny' } => ({
    request: { principal, action, resource: { repository, ...resource }, context },
    expected,
  });
  return [
    ask('inspect', { path: 'src/invoice.js' }, 'allow'),
    ask('inspect', { path: '.' }, 'allow'),
    ask('edit_files', { path: 'src/invoice.js' }, 'allow'),
    ask('edit_files', { path: '.github/workflows/ci.yml' }, 'deny'),
    ask('edit_files', { path: 'package-lock.json' }, 'deny'),
    ask('run_tests', { command: 'npm test' }, 'allow'),
    ask('run_command', { command: 'npm test -- --grep invoice' }, 'allow'),
    ask('open_pr', {}, 'deny'),
    ask('merge', {}, 'deny'),
    ask('read_secret', { path: 'config/settings.env' }, 'deny'),
  ];
}

/**
 * Decides a mix of allow and deny requests `decisions` times with the shipped Cedar policies, after
 * `warmup` unmeasured ones: once as a tight loop for the rate, once timing each decision for its
 * percentiles. The same requests are then only validated (`AuthorizationRequest.parse`), the same way.
 *
 * @example
 * const figures = await measureCedarDecision({ decisions: 10_000, warmup: 1_000 });
 * figures.decisionsPerSecond / figures.parsePerSecond; // what Cedar costs beyond validating the request
 */
export async function measureCedarDecision(options: {
  decisions: number;
  warmup: number;
}): Promise<CedarDecisionFigures> {
  const engine = await CedarPolicyEngine.load();
  const mix = await requestMix();
  for (const { request, expected } of mix) {
    const decision = engine.decide(request);
    if (decision.decision !== expected)
      throw new Error(
        `Cedar answered ${decision.decision} to ${request.action} on ${decision.resource}, the mix expects ${expected}: ${decision.reasons.join('; ')}`,
      );
  }
  const requests = mix.map((m) => m.request);
  const nth = (i: number) => requests[i % requests.length] as AuthorizationRequest;

  const rateAndPercentiles = (body: (request: AuthorizationRequest) => unknown) => {
    for (let i = 0; i < options.warmup; i++) body(nth(i));
    const loopStart = performance.now();
    for (let i = 0; i < options.decisions; i++) body(nth(i));
    const perSecond = (options.decisions / (performance.now() - loopStart)) * 1000;
    const durationsUs: number[] = [];
    for (let i = 0; i < options.decisions; i++) {
      const start = performance.now();
      body(nth(i));
      durationsUs.push((performance.now() - start) * 1000);
    }
    return { perSecond, durationsUs };
  };

  const cedar = rateAndPercentiles((request) => engine.decide(request));
  const parse = rateAndPercentiles((request) => AuthorizationRequest.parse(request));
  return {
    decisions: options.decisions,
    denied: Array.from({ length: options.decisions }, (_, i) => mix[i % mix.length]).filter(
      (m) => m?.expected === 'deny',
    ).length,
    decisionsPerSecond: cedar.perSecond,
    decisionP50Us: percentile(cedar.durationsUs, 50),
    decisionP99Us: percentile(cedar.durationsUs, 99),
    parsePerSecond: parse.perSecond,
    parseP50Us: percentile(parse.durationsUs, 50),
  };
}

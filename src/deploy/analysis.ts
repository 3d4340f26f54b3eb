import type { AnalysisVerdict, WindowStats } from '../ports/deployer.js';
import type { AnalysisRules } from './service-spec.js';

/** What the analyses of one rollout have counted so far. */
export interface AnalysisTally {
  /** Analyses that found the canary worse than the rules allow. */
  failures: number;
  /** Analyses that could not conclude (too little canary traffic). */
  pauses: number;
}

export interface StepJudgement {
  verdict: AnalysisVerdict;
  /** Why, in sentences a person reads in the release packet. */
  reasons: string[];
  /** The tally after this analysis: pass it to the next one. */
  tally: AnalysisTally;
}

/**
 * Judges one rollout step: the canary's window against the baseline's, under the service's rules.
 * Too few canary requests is inconclusive (a pause; more than `maxPauses` of them aborts). The canary
 * fails on an error rate above `maxErrorRate` or above the baseline's plus `maxErrorRateIncrease`, or on
 * a p95 latency above both `maxLatencyP95Ratio` times and `latencyToleranceMs` more than the baseline's;
 * the `failureLimit`-th failure aborts, an earlier one pauses so the step is measured again. A baseline
 * with no requests (a first rollout of one step) is compared on the absolute limits only.
 *
 * @example
 * const { verdict, reasons, tally } = analyseStep(canary, baseline, spec.rollout.analysis, { failures: 0, pauses: 0 });
 */
export function analyseStep(
  canary: WindowStats,
  baseline: WindowStats,
  rules: AnalysisRules,
  tally: AnalysisTally = { failures: 0, pauses: 0 },
): StepJudgement {
  if (canary.requests < rules.minRequests) {
    const pauses = tally.pauses + 1;
    const reasons = [
      `inconclusive: the canary served ${canary.requests} requests, fewer than the ${rules.minRequests} an analysis needs`,
    ];
    if (pauses > rules.maxPauses) {
      reasons.push(`${pauses} inconclusive analyses, more than the ${rules.maxPauses} pauses allowed`);
      return { verdict: 'abort', reasons, tally: { ...tally, pauses } };
    }
    return { verdict: 'pause', reasons, tally: { ...tally, pauses } };
  }

  const problems = [
    ...errorRateProblems(canary, baseline, rules),
    ...latencyProblems(canary, baseline, rules),
  ];
  if (problems.length === 0) {
    return { verdict: 'promote', reasons: [withinLimits(canary, baseline)], tally };
  }
  const failures = tally.failures + 1;
  if (failures >= rules.failureLimit) {
    return {
      verdict: 'abort',
      reasons: [...problems, `failed analysis ${failures} of the ${rules.failureLimit} allowed`],
      tally: { ...tally, failures },
    };
  }
  return {
    verdict: 'pause',
    reasons: [
      ...problems,
      `failed analysis ${failures} of the ${rules.failureLimit} allowed: measuring the step again`,
    ],
    tally: { ...tally, failures },
  };
}

function errorRateProblems(canary: WindowStats, baseline: WindowStats, rules: AnalysisRules): string[] {
  const problems: string[] = [];
  const observed = `canary error rate ${percent(canary.errorRate)} (${canary.errors} of ${canary.requests} requests)`;
  if (canary.errorRate > rules.maxErrorRate) {
    problems.push(`${observed} is above the limit of ${percent(rules.maxErrorRate)}`);
  }
  if (baseline.requests > 0 && canary.errorRate > baseline.errorRate + rules.maxErrorRateIncrease) {
    problems.push(
      `${observed} exceeds the baseline's ${percent(baseline.errorRate)} by more than ${percent(rules.maxErrorRateIncrease)}`,
    );
  }
  return problems;
}

function latencyProblems(canary: WindowStats, baseline: WindowStats, rules: AnalysisRules): string[] {
  if (baseline.requests === 0) return [];
  const ratioLimit = baseline.latencyP95Ms * rules.maxLatencyP95Ratio;
  const toleranceLimit = baseline.latencyP95Ms + rules.latencyToleranceMs;
  if (canary.latencyP95Ms > ratioLimit && canary.latencyP95Ms > toleranceLimit) {
    return [
      `canary p95 latency ${ms(canary.latencyP95Ms)} is above ${rules.maxLatencyP95Ratio}x the baseline's ${ms(baseline.latencyP95Ms)} and more than ${ms(rules.latencyToleranceMs)} over it`,
    ];
  }
  return [];
}

function withinLimits(canary: WindowStats, baseline: WindowStats): string {
  const against =
    baseline.requests > 0
      ? ` against the baseline's ${percent(baseline.errorRate)} and ${ms(baseline.latencyP95Ms)}`
      : ' (no baseline traffic to compare: absolute limits only)';
  return `canary within limits: error rate ${percent(canary.errorRate)} (${canary.errors} of ${canary.requests} requests), p95 latency ${ms(canary.latencyP95Ms)}${against}`;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

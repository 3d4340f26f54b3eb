import { describe, expect, it } from 'vitest';
import type { WindowStats } from '../ports/deployer.js';
import { analyseStep } from './analysis.js';
import type { AnalysisRules } from './service-spec.js';

const rules: AnalysisRules = {
  minRequests: 10,
  maxErrorRate: 0.02,
  maxErrorRateIncrease: 0.01,
  maxLatencyP95Ratio: 2,
  latencyToleranceMs: 25,
  failureLimit: 1,
  maxPauses: 2,
};

function window(requests: number, errors: number, latencyP95Ms = 3): WindowStats {
  return {
    requests,
    errors,
    errorRate: requests ? errors / requests : 0,
    latencyP50Ms: latencyP95Ms / 2,
    latencyP95Ms,
  };
}

const healthyBaseline = window(100, 0, 4);

describe('analyseStep', () => {
  it.each([
    {
      case: 'a clean canary promotes',
      canary: window(20, 0, 5),
      verdict: 'promote',
      mentions: 'within limits',
    },
    {
      case: 'an error rate above the absolute limit aborts',
      canary: window(20, 3, 4),
      verdict: 'abort',
      mentions: 'error rate 15.0% (3 of 20 requests) is above the limit of 2.0%',
    },
    {
      case: 'a slow canary aborts on latency',
      canary: window(20, 0, 160),
      verdict: 'abort',
      mentions: 'p95 latency 160 ms is above 2x',
    },
    {
      case: 'twice as slow but within the tolerance promotes',
      canary: window(20, 0, 20),
      verdict: 'promote',
      mentions: 'within limits',
    },
    {
      case: 'too few canary requests pauses',
      canary: window(9, 0, 3),
      verdict: 'pause',
      mentions: 'inconclusive',
    },
  ])('$case', ({ canary, verdict, mentions }) => {
    const judgement = analyseStep(canary, healthyBaseline, rules);

    expect(judgement.verdict).toBe(verdict);
    expect(judgement.reasons.join('\n')).toContain(mentions);
  });

  it('fails a canary whose error rate rises above the baseline by more than allowed, under the absolute limit', () => {
    const lenient = { ...rules, maxErrorRate: 0.5 };

    const judgement = analyseStep(window(100, 6), window(100, 4), lenient);

    expect(judgement.verdict).toBe('abort');
    expect(judgement.reasons[0]).toContain("exceeds the baseline's 4.0% by more than 1.0%");
  });

  it('aborts after more pauses than maxPauses', () => {
    let tally = { failures: 0, pauses: 0 };
    const verdicts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const judgement = analyseStep(window(2, 0), healthyBaseline, rules, tally);
      verdicts.push(judgement.verdict);
      tally = judgement.tally;
    }

    expect(verdicts).toEqual(['pause', 'pause', 'abort']);
    expect(tally).toEqual({ failures: 0, pauses: 3 });
  });

  it('measures a failed step again until failureLimit failures, then aborts', () => {
    const patient = { ...rules, failureLimit: 2 };

    const first = analyseStep(window(20, 5), healthyBaseline, patient);
    const second = analyseStep(window(20, 5), healthyBaseline, patient, first.tally);

    expect(first.verdict).toBe('pause');
    expect(first.reasons.at(-1)).toContain('measuring the step again');
    expect(second.verdict).toBe('abort');
    expect(second.tally).toEqual({ failures: 2, pauses: 0 });
  });

  it('compares only against the absolute limits when the baseline served nothing', () => {
    const judgement = analyseStep(window(20, 0, 400), window(0, 0, 0), rules);

    expect(judgement.verdict).toBe('promote');
    expect(judgement.reasons[0]).toContain('no baseline traffic');
  });
});

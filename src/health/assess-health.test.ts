import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { assessHealth } from './assess-health.js';
import { healthyInput, minutesAgo, minutesFromNow, NOW, run } from './health-fixtures.test-support.js';
import { HealthReport } from './health-report.js';

describe('assessHealth', () => {
  it('reports ok with nothing to attend to when everything is healthy', () => {
    const report = assessHealth(healthyInput());

    expect(report.status).toBe('ok');
    expect(report.attention).toEqual([]);
    expect(report.stuckRuns).toEqual([]);
    expect(report.servicesDown).toEqual([]);
    expect(report.errorRates.map((r) => [r.environment, r.breach])).toEqual([
      ['production', false],
      ['staging', false],
    ]);
    expect(report.openApprovals).toEqual([
      expect.objectContaining({ approvalId: 'apv-fresh', ageHours: 1.5, expired: false, old: false }),
    ]);
    expect(report.thresholds).toEqual({ stuckAfterMinutes: 30, errorRate: 0.02, approvalAgeHours: 24 });
    expect(HealthReport.parse(report)).toEqual(report);
  });

  it('reports the latest result of a check, so one that failed and then passed is green', () => {
    const input = healthyInput();
    const [passing] = input.checks;
    if (!passing) throw new Error('fixture has a check');
    input.checks.unshift({ ...passing, passed: false, commit: 'badc0ffee', at: minutesAgo(60) });

    const report = assessHealth(input);

    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]?.passed).toBe(true);
    expect(report.status).toBe('ok');
  });

  it('flags a failing default-branch check with its commit and output', () => {
    const input = healthyInput();
    input.checks.push({
      repository: 'billing-service',
      branch: 'main',
      commit: '64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
      name: 'npm test',
      passed: false,
      at: minutesAgo(5),
      detail: 'not ok 3 - applies the loyalty discount\n  expected 640, got 0',
    });

    const report = assessHealth(input);

    expect(report.status).toBe('attention');
    expect(report.attention).toEqual([
      {
        key: 'check-failing:billing-service:main:npm test',
        kind: 'check-failing',
        severity: 'high',
        summary: `check npm test fails on billing-service@main at 64fdcf3743f3 (${minutesAgo(5)}): not ok 3 - applies the loyalty discount`,
        repository: 'billing-service',
      },
    ]);
  });

  it('flags an error rate above the threshold with its figures, high in production and medium in staging', () => {
    const input = healthyInput();
    input.services = input.services.map((service) => ({
      ...service,
      stats: { requests: 1800, errors: 360, errorRate: 0.2, latencyP50Ms: 1, latencyP95Ms: 3.9 },
    }));

    const report = assessHealth(input);

    expect(report.errorRates.every((rate) => rate.breach)).toBe(true);
    expect(report.attention.map((item) => [item.key, item.severity])).toEqual([
      ['error-rate:billing-service:production', 'high'],
      ['error-rate:billing-service:staging', 'medium'],
    ]);
    expect(report.attention[0]?.summary).toBe(
      'billing-service production: error rate 20.0% (360 of 1800 requests) is above 2.0%; p95 4 ms',
    );
  });

  it('compares the error rate with the threshold given, strictly', () => {
    const input = healthyInput();
    const [production] = input.services;
    if (!production) throw new Error('fixture has a service');
    production.stats = { requests: 100, errors: 5, errorRate: 0.05, latencyP50Ms: 1, latencyP95Ms: 2 };

    expect(assessHealth(input, { errorRate: 0.05 }).status).toBe('ok');
    expect(assessHealth(input, { errorRate: 0.049 }).attention.map((i) => i.kind)).toEqual(['error-rate']);
  });

  it('flags a service that is down once, as down, with its deployment, not also for its error rate', () => {
    const input = healthyInput();
    input.services[0] = {
      service: 'billing-service',
      environment: 'production',
      up: false,
      detail: 'connect ECONNREFUSED 127.0.0.1:41237',
      deploymentId: 'dep-prod-2',
      commit: '64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
      stats: { requests: 60, errors: 60, errorRate: 1, latencyP50Ms: 0, latencyP95Ms: 0 },
    };

    const report = assessHealth(input);

    expect(report.servicesDown).toEqual([
      {
        service: 'billing-service',
        environment: 'production',
        detail: 'connect ECONNREFUSED 127.0.0.1:41237',
        deploymentId: 'dep-prod-2',
        commit: '64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
      },
    ]);
    expect(report.attention).toEqual([
      expect.objectContaining({
        key: 'service-down:billing-service:production',
        kind: 'service-down',
        severity: 'high',
        summary:
          'billing-service production is down: connect ECONNREFUSED 127.0.0.1:41237 (deployment dep-prod-2, commit 64fdcf3743f3)',
      }),
    ]);
    expect(report.errorRates.find((r) => r.environment === 'production')).toMatchObject({
      up: false,
      breach: true,
    });
  });

  it('finds runs stuck without progress past stuckAfterMinutes, and leaves finished runs alone', () => {
    const input = healthyInput();
    input.runs.push(
      run({ runId: '01RUNSTUCK', state: 'running', updatedAt: minutesAgo(31) }),
      run({ runId: '01RUNRECEIVED', state: 'received', updatedAt: minutesAgo(45) }),
      run({ runId: '01RUNFAILED', state: 'failed', updatedAt: minutesAgo(900) }),
    );

    const report = assessHealth(input);

    expect(report.stuckRuns.map((r) => [r.runId, r.reason, Math.round(r.minutesSinceUpdate)])).toEqual([
      ['01RUNRECEIVED', 'no-progress', 45],
      ['01RUNSTUCK', 'no-progress', 31],
    ]);
    expect(report.attention.map((i) => [i.key, i.severity])).toEqual([
      ['stuck-run:01RUNRECEIVED', 'medium'],
      ['stuck-run:01RUNSTUCK', 'medium'],
    ]);
    expect(report.attention[1]?.summary).toBe(
      'run 01RUNSTUCK on billing-service is stuck: running, no progress for 31 min ("Invoice total is wrong when the discount is zero")',
    );
    expect(assessHealth(input, { stuckAfterMinutes: 60 }).stuckRuns).toEqual([]);
  });

  it('finds a run waiting on an expired approval, and names the approval once, as the stuck run', () => {
    const input = healthyInput();
    input.runs.push(
      run({
        runId: '01RUNGATE',
        state: 'waiting_for_approval',
        pendingApproval: 'apv-late',
        updatedAt: minutesAgo(60 * 30),
      }),
    );
    input.pendingApprovals.push({
      approvalId: 'apv-late',
      runId: '01RUNGATE',
      kind: 'merge',
      requestedAt: minutesAgo(60 * 30),
      expiresAt: minutesAgo(60 * 6),
    });

    const report = assessHealth(input);

    expect(report.stuckRuns).toEqual([
      expect.objectContaining({ runId: '01RUNGATE', reason: 'approval-expired', approvalId: 'apv-late' }),
    ]);
    expect(report.openApprovals.find((a) => a.approvalId === 'apv-late')).toMatchObject({
      expired: true,
      old: true,
      ageHours: 30,
    });
    expect(report.attention.map((i) => i.key)).toEqual(['stuck-run:01RUNGATE']);
  });

  it('finds a run that waits for an approval no longer pending, once it is past stuckAfterMinutes', () => {
    const input = healthyInput();
    input.runs.push(
      run({
        runId: '01RUNORPHAN',
        state: 'waiting_for_approval',
        pendingApproval: 'apv-gone',
        updatedAt: minutesAgo(40),
      }),
    );

    expect(assessHealth(input).stuckRuns).toEqual([
      expect.objectContaining({ runId: '01RUNORPHAN', reason: 'approval-missing', approvalId: 'apv-gone' }),
    ]);
    expect(assessHealth(input, { stuckAfterMinutes: 45 }).stuckRuns).toEqual([]);
  });

  it('flags an approval older than approvalAgeHours, low, and an expired one whose run is not listed', () => {
    const input = healthyInput();
    input.pendingApprovals.push(
      {
        approvalId: 'apv-old',
        runId: '01RUNELSEWHERE',
        kind: 'plan',
        requestedAt: minutesAgo(60 * 25),
        expiresAt: minutesFromNow(60 * 47),
      },
      { approvalId: 'apv-expired', runId: '01RUNGONE', kind: 'deploy', expiresAt: minutesAgo(1) },
    );

    const report = assessHealth(input);

    expect(report.attention).toEqual([
      expect.objectContaining({
        key: 'approval-waiting:apv-expired',
        severity: 'low',
        summary: `deploy approval apv-expired for run 01RUNGONE expired at ${minutesAgo(1)} without a decision`,
      }),
      expect.objectContaining({
        key: 'approval-waiting:apv-old',
        severity: 'low',
        summary: `plan approval apv-old for run 01RUNELSEWHERE has waited 25.0 h and is older than 24 h; it expires at ${minutesFromNow(60 * 47)}`,
      }),
    ]);
    expect(assessHealth(input, { approvalAgeHours: 26 }).attention.map((i) => i.key)).toEqual([
      'approval-waiting:apv-expired',
    ]);
  });

  it('orders attention by severity, then kind, then key', () => {
    const input = healthyInput();
    input.runs.push(run({ runId: '01RUNSTUCK', updatedAt: minutesAgo(120) }));
    input.pendingApprovals.push({
      approvalId: 'apv-old',
      runId: '01RUNELSEWHERE',
      kind: 'plan',
      requestedAt: minutesAgo(60 * 48),
      expiresAt: minutesFromNow(60),
    });
    input.services[1] = {
      service: 'billing-service',
      environment: 'staging',
      up: false,
      detail: 'timeout after 2 s',
    };
    input.checks.push({
      repository: 'api',
      branch: 'main',
      commit: 'abc',
      name: 'lint',
      passed: false,
      at: NOW,
    });
    input.services.push({
      service: 'api',
      environment: 'production',
      up: true,
      detail: 'ok',
      stats: { requests: 10, errors: 3, errorRate: 0.3, latencyP50Ms: 1, latencyP95Ms: 2 },
    });

    const report = assessHealth(input);

    expect(report.attention.map((i) => `${i.severity} ${i.key}`)).toEqual([
      'high error-rate:api:production',
      'high check-failing:api:main:lint',
      'medium service-down:billing-service:staging',
      'medium stuck-run:01RUNSTUCK',
      'low approval-waiting:apv-old',
    ]);
  });

  it('gives the same keys for the same problems seen at different times', () => {
    const first = healthyInput();
    first.runs.push(run({ runId: '01RUNSTUCK', updatedAt: minutesAgo(40) }));
    first.checks.push({
      repository: 'billing-service',
      branch: 'main',
      commit: 'aaa',
      name: 'lint',
      passed: false,
      at: NOW,
    });
    const later = structuredClone(first);
    later.now = minutesFromNow(15);
    const laterCheck = later.checks.at(-1);
    if (!laterCheck) throw new Error('fixture has a check');
    // A new commit on a branch that stays red is the same breakage.
    later.checks.push({ ...laterCheck, commit: 'bbb', at: minutesFromNow(10) });

    const keys = (input: typeof first) => assessHealth(input).attention.map((item) => item.key);

    expect(keys(later)).toEqual(keys(first));
    expect(keys(first)).toEqual(['check-failing:billing-service:main:lint', 'stuck-run:01RUNSTUCK']);
  });

  it('refuses invalid input and thresholds with the field named', () => {
    const input = { ...healthyInput(), now: 'yesterday' };

    expect(() => assessHealth(input)).toThrow(InvalidInputError);
    expect(() => assessHealth(input)).toThrow(/now/);
    expect(() => assessHealth(healthyInput(), { errorRate: 2 })).toThrow(/errorRate/);
    expect(() => assessHealth(healthyInput(), { stuckAfter: 5 } as never)).toThrow(/stuckAfter/);
  });
});

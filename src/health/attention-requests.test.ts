import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { RequestFile } from '../domain/request.js';
import { classifyRisk } from '../policy/risk.js';
import { loadRiskRules } from '../policy/risk-rules.js';
import { assessHealth } from './assess-health.js';
import { attentionRequestId, attentionRequests } from './attention-requests.js';
import { healthyInput, minutesAgo, minutesFromNow, NOW, run } from './health-fixtures.test-support.js';
import type { HealthInput } from './health-input.js';

/** Every kind of problem at once. */
function troubledInput(): HealthInput {
  const input = healthyInput();
  input.checks.push({
    repository: 'billing-service',
    branch: 'main',
    commit: '64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
    name: 'npm test',
    passed: false,
    at: minutesAgo(5),
    detail: 'not ok 5 - applies the loyalty discount when the customer has none',
  });
  input.services = [
    {
      service: 'billing-service',
      environment: 'production',
      up: true,
      detail: 'GET /health 200',
      stats: { requests: 1800, errors: 360, errorRate: 0.2, latencyP50Ms: 1, latencyP95Ms: 3.9 },
    },
    {
      service: 'billing-service',
      environment: 'staging',
      up: false,
      detail: 'connect ECONNREFUSED 127.0.0.1:41237',
      deploymentId: 'dep-stg-7',
      commit: '64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
    },
  ];
  input.runs.push(run({ runId: '01RUNSTUCK', updatedAt: minutesAgo(45) }));
  input.pendingApprovals.push({
    approvalId: 'apv-old',
    runId: '01RUNELSEWHERE',
    kind: 'plan',
    requestedAt: minutesAgo(60 * 30),
    expiresAt: minutesFromNow(60),
  });
  return input;
}

describe('attentionRequests', () => {
  it('files nothing for a healthy platform', () => {
    expect(attentionRequests(assessHealth(healthyInput()))).toEqual([]);
  });

  it('files one valid request per problem a code change can fix, with the figures', () => {
    const report = assessHealth(troubledInput());

    const requests = attentionRequests(report);

    expect(report.attention.map((item) => item.kind)).toEqual([
      'error-rate',
      'check-failing',
      'service-down',
      'stuck-run',
      'approval-waiting',
    ]);
    expect(requests.map((r) => [r.capability, r.title])).toEqual([
      ['service-bugfix', 'Incident: billing-service production answers 20.0% errors'],
      ['low-risk-bugfix', 'Check npm test fails on billing-service@main'],
      ['service-bugfix', 'Incident: billing-service staging is down'],
    ]);
    for (const request of requests) {
      expect(() => RequestFile.parse(request)).not.toThrow();
      expect(request.requester).toBe('gantry-health');
      expect(request.repository).toMatchObject({ name: 'billing-service' });
      expect(request.acceptanceCriteria?.length).toBeGreaterThan(0);
    }
    const [errorRate, check, down] = requests;
    expect(errorRate?.description).toContain(
      'an error rate of 20.0% (360 of 1800 requests), latency p50 1 ms and p95 4 ms, above the limit of 2.0%',
    );
    expect(check?.description).toContain('at commit 64fdcf3743f3aa11bb22cc33dd44ee55ff667788');
    expect(check?.description).toContain('not ok 5 - applies the loyalty discount');
    expect(down?.description).toContain('connect ECONNREFUSED 127.0.0.1:41237');
    expect(down?.description).toContain(
      'deployment dep-stg-7, commit 64fdcf3743f3aa11bb22cc33dd44ee55ff667788',
    );
  });

  it('gives each request the id of its key, the same on every run of the routine', () => {
    const first = attentionRequests(assessHealth(troubledInput()));
    const later = troubledInput();
    later.now = minutesFromNow(20);

    const again = attentionRequests(assessHealth(later));

    expect(again.map((r) => r.id)).toEqual(first.map((r) => r.id));
    expect(first.map((r) => r.id)).toEqual([
      attentionRequestId('error-rate:billing-service:production'),
      attentionRequestId('check-failing:billing-service:main:npm test'),
      attentionRequestId('service-down:billing-service:staging'),
    ]);
  });

  it('skips what was already filed, by key or by request id, and never files a key twice', () => {
    const report = assessHealth(troubledInput());
    const duplicated = { ...report, attention: [...report.attention, ...report.attention] };

    const requests = attentionRequests(duplicated, {
      alreadyFiled: [
        'error-rate:billing-service:production',
        attentionRequestId('service-down:billing-service:staging'),
      ],
    });

    expect(requests.map((r) => r.title)).toEqual(['Check npm test fails on billing-service@main']);
  });

  it('files service requests against the repository the caller maps the service to', () => {
    const input = troubledInput();
    input.checks = [];
    input.services = input.services.map((service) => ({ ...service, service: 'billing' }));

    const requests = attentionRequests(assessHealth(input), {
      repositoryFor: (service) => `${service}-service`,
    });

    expect(requests.map((r) => r.repository)).toEqual([
      { name: 'billing-service' },
      { name: 'billing-service' },
    ]);
  });

  it('refuses a service whose name cannot be a repository name, and says how to map it', () => {
    const input = troubledInput();
    input.checks = [];
    input.services = input.services.map((service) => ({ ...service, service: 'billing service' }));

    expect(() => attentionRequests(assessHealth(input))).toThrow(InvalidInputError);
    expect(() => attentionRequests(assessHealth(input))).toThrow(/repository/);
  });

  it('writes requests the risk rules classify low, so their text alone raises no domain', async () => {
    const rules = await loadRiskRules();
    for (const request of attentionRequests(assessHealth(troubledInput()))) {
      const engineering = { ...RequestFile.parse(request), id: 'x', source: 'api' as const, receivedAt: NOW };
      expect(classifyRisk(engineering, rules).tier).toBe('low');
    }
  });
});

describe('attentionRequestId', () => {
  it('is readable, file-name safe and distinct for keys that slug alike', () => {
    const id = attentionRequestId('check-failing:billing-service:main:npm test');

    expect(id).toMatch(/^health-check-failing-billing-service-main-npm-test-[0-9a-f]{8}$/);
    expect(attentionRequestId('stuck-run:a:b')).not.toBe(attentionRequestId('stuck-run:a-b'));
    expect(attentionRequestId('x'.repeat(500)).length).toBeLessThan(100);
  });
});

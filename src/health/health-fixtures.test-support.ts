import type { RunSummary } from '../domain/run.js';
import type { HealthInput } from './health-input.js';

export const NOW = '2026-11-24T12:00:00.000Z';

/** An ISO time `minutes` before {@link NOW}. */
export function minutesAgo(minutes: number): string {
  return new Date(Date.parse(NOW) - minutes * 60_000).toISOString();
}

/** An ISO time `minutes` after {@link NOW}. */
export function minutesFromNow(minutes: number): string {
  return new Date(Date.parse(NOW) + minutes * 60_000).toISOString();
}

export function run(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: '01RUNACTIVE',
    traceId: '0'.repeat(32),
    state: 'running',
    title: 'Invoice total is wrong when the discount is zero',
    repository: 'billing-service',
    requester: 'maria.lopez',
    createdAt: minutesAgo(10),
    updatedAt: minutesAgo(2),
    ...overrides,
  };
}

/** A platform where everything is fine: one run making progress, a fresh approval, both environments healthy, green checks. */
export function healthyInput(): HealthInput {
  return {
    now: NOW,
    runs: [
      run(),
      run({
        runId: '01RUNWAITING',
        state: 'waiting_for_approval',
        pendingApproval: 'apv-fresh',
        updatedAt: minutesAgo(90),
      }),
      run({ runId: '01RUNDONE', state: 'completed', updatedAt: minutesAgo(600) }),
    ],
    pendingApprovals: [
      {
        approvalId: 'apv-fresh',
        runId: '01RUNWAITING',
        kind: 'merge',
        requestedAt: minutesAgo(90),
        expiresAt: minutesFromNow(60 * 22),
      },
    ],
    services: [
      {
        service: 'billing-service',
        environment: 'production',
        up: true,
        detail: 'GET /health 200 in 3 ms',
        deploymentId: 'dep-prod-1',
        commit: '0c0304e4a4886c4c2b6f1d7c2bb1f0e1a2b3c4d5',
        stats: { requests: 1800, errors: 0, errorRate: 0, latencyP50Ms: 0.9, latencyP95Ms: 4.1 },
      },
      {
        service: 'billing-service',
        environment: 'staging',
        up: true,
        detail: 'GET /health 200 in 2 ms',
        stats: { requests: 120, errors: 1, errorRate: 1 / 120, latencyP50Ms: 1.1, latencyP95Ms: 4.5 },
      },
    ],
    checks: [
      {
        repository: 'billing-service',
        branch: 'main',
        commit: '0c0304e4a4886c4c2b6f1d7c2bb1f0e1a2b3c4d5',
        name: 'npm test',
        passed: true,
        at: minutesAgo(30),
      },
    ],
  };
}

import { describe, expect, it } from 'vitest';
import { assessHealth } from './assess-health.js';
import { healthyInput, minutesAgo, run } from './health-fixtures.test-support.js';
import { renderHealth } from './render-health.js';

const sectionTitles = [
  'Needs attention:',
  'Checks:',
  'Error rates (limit 2.0%):',
  'Open approvals:',
  'Stuck runs (no progress for 30 min):',
  'Services down:',
];

describe('renderHealth', () => {
  it('renders every section in a stable order, an empty one as none', () => {
    const text = renderHealth(assessHealth(healthyInput()));

    expect(text.split('\n')[0]).toBe('health: ok at 2026-11-24T12:00:00.000Z');
    const positions = sectionTitles.map((title) => text.indexOf(`\n${title}\n`));
    expect(positions.every((position) => position > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toContain('Needs attention:\n  none\n');
    expect(text).toContain('Services down:\n  none\n');
    expect(text).toContain('pass  billing-service@main  npm test  0c0304e4a488');
    expect(text).toContain('ok    billing-service production  0.0% (0/1800)  p50 1 ms  p95 4 ms');
    expect(text).toContain('apv-fresh  merge  run 01RUNWAITING  age 1.5 h  expires');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('shows each problem in its section and in the attention list with its key', () => {
    const input = healthyInput();
    input.runs.push(run({ runId: '01RUNSTUCK', updatedAt: minutesAgo(50) }));
    input.services[0] = {
      service: 'billing-service',
      environment: 'production',
      up: false,
      detail: 'connection refused',
      commit: '64fdcf3743f3aa11',
    };
    input.services[1] = {
      service: 'billing-service',
      environment: 'staging',
      up: true,
      detail: 'ok',
      stats: { requests: 100, errors: 20, errorRate: 0.2, latencyP50Ms: 1, latencyP95Ms: 9 },
    };
    input.checks.push({
      repository: 'billing-service',
      branch: 'main',
      commit: 'f00d',
      name: 'lint',
      passed: false,
      at: minutesAgo(1),
    });

    const text = renderHealth(assessHealth(input));

    expect(text.split('\n')[0]).toBe('health: attention (4 items) at 2026-11-24T12:00:00.000Z');
    expect(text).toContain(
      '[high] service-down: billing-service production is down: connection refused (commit 64fdcf3743f3)  (key service-down:billing-service:production)',
    );
    expect(text).toContain(
      '[medium] error-rate: billing-service staging: error rate 20.0% (20 of 100 requests)',
    );
    expect(text).toContain('FAIL  billing-service@main  lint  f00d');
    expect(text).toContain('OVER  billing-service staging  20.0% (20/100)');
    expect(text).toContain('01RUNSTUCK  running  billing-service  no-progress  updated');
    expect(text).toContain(
      'Services down:\n  billing-service production: connection refused  commit 64fdcf3743f3\n',
    );
  });

  it('prints what a service or check reported inert: no terminal controls, no extra lines', () => {
    // Prepare
    const input = healthyInput();
    input.services[0] = {
      service: 'billing-service',
      environment: 'production',
      up: false,
      detail: 'refused\u001b[2J\u001b]52;c;cHduZWQ=\u0007\n  none\rall good \u202egnp.exe',
    };
    // Act
    const text = renderHealth(assessHealth(input));
    // Assess
    expect(text).toContain('Services down:\n  billing-service production: refused none all good gnp.exe\n');
    for (const control of ['\u001b', '\u0007', '\r', '\u202e']) expect(text).not.toContain(control);
  });
});

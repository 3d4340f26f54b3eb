import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../domain/events.js';
import { projectRunSummary } from './run-projection.js';

const base = {
  runId: 'r',
  traceId: 'c'.repeat(32),
  actor: { kind: 'system' as const, id: 't' },
  policyVersion: 'v',
};
let seq = 0;
const event = (type: string, data: unknown, at = `2026-11-21T10:00:0${seq}.000Z`): RunEvent =>
  ({ ...base, seq: ++seq, key: `k${seq}`, type, data, at }) as RunEvent;

describe('run summary projection', () => {
  it('follows the state through a gate to completion', () => {
    // Prepare
    seq = 0;
    const request = {
      id: 'q',
      source: 'file',
      repository: { name: 'billing', defaultBranch: 'main' },
      requester: 'maria',
      capability: 'low-risk-bugfix',
      title: 'Fix it',
      description: '',
      acceptanceCriteria: ['a'],
      constraints: [],
      attachments: [],
      receivedAt: '2026-11-21T10:00:00.000Z',
    };
    const events = [
      event('request.received', { request, raw: 'd'.repeat(64) }),
      event('run.state', { state: 'running' }),
      event('approval.requested', {
        approvalId: 'apv-1',
        kind: 'plan',
        state: 'Gate',
        expiresAt: '2026-11-28T10:00:00.000Z',
      }),
      event('run.state', { state: 'waiting_for_approval' }),
    ];
    // Act / Assess: waiting, with the approval pending
    expect(projectRunSummary(events)).toMatchObject({
      state: 'waiting_for_approval',
      pendingApproval: 'apv-1',
      requester: 'maria',
    });
    events.push(
      event('approval.decided', { approvalId: 'apv-1', decision: 'approved', by: 'sam' }),
      event('run.state', { state: 'running' }),
      event('pr.opened', {
        number: 1,
        url: 'gantry://billing/pull/1',
        branch: 'gantry/x',
        head: 'e',
        body: 'f'.repeat(64),
      }),
      event('run.state', { state: 'completed' }),
    );
    const summary = projectRunSummary(events);
    expect(summary).toMatchObject({
      state: 'completed',
      pullRequest: 'gantry://billing/pull/1',
      updatedAt: events.at(-1)?.at,
    });
    expect(summary?.pendingApproval).toBeUndefined();
  });

  it('has nothing to project without the request', () => {
    seq = 0;
    expect(projectRunSummary([event('run.state', { state: 'running' })])).toBeUndefined();
  });
});

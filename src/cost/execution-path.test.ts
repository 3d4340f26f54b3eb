import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../domain/events.js';
import { EngineeringRequest } from '../domain/request.js';
import { buildIssueResolver } from '../workflows/issue-resolver.js';
import { sandboxSteps, taskTargetOf, walkExecution, workflowDefinitionFor } from './execution-path.js';
import {
  type Draft,
  requestReceived,
  runLog,
  step,
  testModelPrices,
  testPrices,
} from './fixtures.test-support.js';
import { priceRun } from './run-cost.js';

const finalState = (state: 'completed' | 'rolled_back'): Draft =>
  ({ type: 'run.state', actor: { kind: 'system', id: 'test' }, data: { state } }) as Draft;

/** A log whose steps finished in this order, a second apart, ending in `final`. */
function logOf(
  request: Draft,
  steps: [state: string, step: string][],
  final: 'completed' | 'rolled_back',
): RunEvent[] {
  return runLog([
    { ms: 0, event: request },
    ...steps.map(([state, id], index) => ({ ms: (index + 1) * 1000, event: step(state, id) })),
    { ms: (steps.length + 1) * 1000, event: finalState(final) },
  ]);
}

const toPullRequest: [string, string][] = [
  ['CheckRequest', 'checkRequest'],
  ['ClassifyRisk', 'classifyRisk'],
  ['RunMapRepository', 'mapRepository'],
  ['CreatePlan', 'createPlan'],
  ['RunReproduce', 'reproduce'],
  ['RunPatch', 'patch'],
  ['RunVerify', 'verify'],
  ['RunAssembleEvidence', 'assembleEvidence'],
  ['RunOpenPullRequest', 'openPullRequest'],
];

const rollbackRequest: Draft = {
  ...requestReceived,
  data: {
    ...(requestReceived as Extract<Draft, { type: 'request.received' }>).data,
    request: EngineeringRequest.parse({
      id: 'rollback-inc-dep-1',
      source: 'alarm',
      sourceRef: 'incident:inc-dep-1',
      repository: { name: 'billing-service' },
      requester: 'gantry-rollback',
      capability: 'rollback',
      title: 'Roll back billing-service commit dddddddddddd',
      acceptanceCriteria: ['The offending change is reverted, and only it'],
      receivedAt: '2026-11-21T10:00:00.000Z',
    }),
  },
} as Draft;

describe('the execution path of the delivery loop', () => {
  it('knows every workspace step as a sandbox task, and prices a nested execution as a transition only', () => {
    // Prepare
    const definition = buildIssueResolver();
    const nested = definition.States.RunRollback;
    // Act + Assess
    expect([...sandboxSteps]).toEqual(
      expect.arrayContaining(['reviewPullRequest', 'mergeChange', 'revertChange']),
    );
    expect(nested?.Type === 'Task' && taskTargetOf(nested)).toBeUndefined();
    const decideMerge = definition.States.DecideMerge;
    expect(decideMerge?.Type === 'Task' && taskTargetOf(decideMerge)).toEqual({
      step: 'decideMerge',
      compute: 'lambda',
    });
  });

  it('walks a rolled-back run through review, merge, release, rollout and the nested rollback', () => {
    // Prepare
    const events = logOf(
      requestReceived,
      [
        ...toPullRequest,
        ['RunReviewPullRequest', 'reviewPullRequest'],
        ['DecideMerge', 'decideMerge'],
        ['RunMergeChange', 'mergeChange'],
        ['PrepareRelease', 'prepareRelease'],
        ['DeployStaging', 'deployStaging'],
        ['RollOutProduction', 'rollOutProduction'],
        ['StartRollback', 'startRollback'],
        ['FinishRollback', 'finishRollback'],
        ['RecordRolledBack', 'finishRun'],
      ],
      'rolled_back',
    );
    // Act
    const path = walkExecution(workflowDefinitionFor(events), events);
    const cost = priceRun(events, testPrices, testModelPrices, { definition: workflowDefinitionFor(events) });
    // Assess
    expect(path.notes).toEqual([]);
    expect(path.states.map((s) => s.state).slice(-8)).toEqual([
      'RollOutProduction',
      'Promoted?',
      'StartRollback',
      'RunRollback',
      'FinishRollback',
      'Recovered?',
      'RecordRolledBack',
      'RolledBack',
    ]);
    expect(path.states.find((s) => s.state === 'RunRollback')).toEqual({
      state: 'RunRollback',
      type: 'Task',
    });
    expect(path.states.map((s) => s.state)).toEqual(
      expect.arrayContaining(['ReviewPullRequest', 'MergeMode?', 'MergeChange']),
    );
    expect(cost.statePath).toEqual(path.states.map((s) => s.state));
    expect(cost.notes).toEqual([]);
  });

  it('walks a rollback run through the rollback workflow', () => {
    // Prepare
    const events = logOf(
      rollbackRequest,
      [
        ['CheckRequest', 'checkRequest'],
        ['ClassifyRisk', 'classifyRisk'],
        ['RunRevertChange', 'revertChange'],
        ['RunOpenRevertPullRequest', 'openRevertPullRequest'],
        ['RunMergeRevert', 'mergeChange'],
        ['Redeploy', 'redeploy'],
        ['ConfirmRecovery', 'confirmRecovery'],
        ['FileFixForward', 'fileFixForward'],
        ['CompleteRollback', 'finishRun'],
      ],
      'completed',
    );
    // Act
    const definition = workflowDefinitionFor(events);
    const path = walkExecution(definition, events);
    // Assess
    expect(definition.Comment).toMatch(/^Gantry rollback/);
    expect(path.notes).toEqual([]);
    expect(path.states.map((s) => s.state).slice(-6)).toEqual([
      'Redeployed?',
      'ConfirmRecovery',
      'Recovered?',
      'FileFixForward',
      'CompleteRollback',
      'Completed',
    ]);
    expect(path.states.filter((s) => s.task?.compute === 'fargate').map((s) => s.task?.step)).toEqual([
      'revertChange',
      'openRevertPullRequest',
      'mergeChange',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../domain/events.js';
import {
  hash,
  requestReceived,
  runLog,
  runState,
  step,
  testDefinition,
  testModelPrices,
  testPrices,
} from './fixtures.test-support.js';
import { artifactHashes, type CostLineItem, priceRun, type RunCost } from './run-cost.js';

const GB = 1024 ** 3;
const bytes = (events: readonly RunEvent[]) =>
  events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);

function item(cost: RunCost, name: string): CostLineItem {
  const found = cost.items.find((i) => i.item === name);
  if (!found) throw new Error(`no line item ${name}: ${cost.items.map((i) => i.item).join(', ')}`);
  return found;
}

/**
 * A run that passes every kind of state: a Lambda step, a decision, the sandbox task and the Lambda that
 * reads its result back, a workspace step the definition calls as a Lambda, a gate answered by a signed
 * link an hour later, and the step that completes it. Times are milliseconds after the request.
 */
const completedRun = runLog([
  { ms: 0, event: requestReceived },
  { ms: 0, event: runState('received') },
  { ms: 100, event: runState('running') },
  { ms: 250, event: step('Check', 'checkRequest') },
  {
    ms: 10_000,
    event: {
      type: 'model.turn',
      actor: { kind: 'agent', id: 'anthropic.claude-sonnet-4-5' },
      data: {
        phase: 'patch-1',
        turn: 1,
        model: 'anthropic.claude-sonnet-4-5',
        response: hash('turn-1'),
        inputTokens: 1000,
        outputTokens: 200,
        stopReason: 'tool_use',
        durationMs: 900,
      },
    },
  },
  {
    ms: 11_000,
    event: {
      type: 'tool.requested',
      actor: { kind: 'agent', id: 'anthropic.claude-sonnet-4-5' },
      data: { callId: 'toolu_1', tool: 'run_tests', argsHash: hash('args'), phase: 'patch-1' },
    },
  },
  {
    ms: 12_000,
    event: {
      type: 'tool.executed',
      actor: { kind: 'system', id: 'gateway' },
      data: {
        callId: 'toolu_1',
        tool: 'run_tests',
        ok: true,
        output: hash('out-1'),
        truncated: false,
        durationMs: 800,
      },
    },
  },
  { ms: 90_250, event: step('RunWork', 'patch', hash('out-1')) },
  { ms: 95_250, event: step('Verify', 'verify') },
  {
    ms: 95_300,
    event: {
      type: 'approval.requested',
      actor: { kind: 'step', id: 'requestApproval' },
      data: {
        approvalId: 'appr-1',
        kind: 'plan',
        state: 'Gate',
        expiresAt: '2026-11-24T10:00:00.000Z',
        approvers: ['sam'],
        notifications: hash('notes'),
      },
    },
  },
  { ms: 95_350, event: runState('waiting_for_approval') },
  {
    ms: 3_695_250,
    event: {
      type: 'approval.decided',
      actor: { kind: 'human', id: 'sam' },
      data: { approvalId: 'appr-1', decision: 'approved', by: 'sam', via: 'link' },
    },
  },
  { ms: 3_695_300, event: runState('running') },
  { ms: 3_695_350, event: step('Gate', 'requestApproval') },
  { ms: 3_695_450, event: runState('completed', 'x'.repeat(1500)) },
  { ms: 3_695_650, event: step('Done', 'finishRun') },
]);

describe('priceRun on a handcrafted run', () => {
  const cost = priceRun(completedRun, testPrices, testModelPrices, { definition: testDefinition });

  it('counts every state the execution entered, deciding each Choice by the next recorded step', () => {
    expect(cost.statePath).toEqual([
      'Check',
      'Accepted?',
      'Work',
      'RunWork',
      'WorkResult',
      'Verify',
      'Passed?',
      'Gate',
      'Done',
      'Completed',
    ]);
    expect(item(cost, 'Step Functions state transitions')).toMatchObject({
      quantity: 10,
      unitPrice: 0.00002,
    });
    expect(item(cost, 'Step Functions state transitions').cost).toBeCloseTo(0.0002, 15);
    expect(cost.notes).toEqual([]);
  });

  it('bills each Lambda step from the previous step to its record, a gate only until it waits', () => {
    // Check 250 ms × 1 GB, WorkResult 100 ms (not journaled) × 0.5 GB, Gate 100 ms × 0.5 GB,
    // Done 300 ms × 0.5 GB, the approval API answering the link 100 ms × 0.5 GB.
    expect(item(cost, 'Lambda requests')).toMatchObject({ quantity: 5, unitPrice: 0.0000002 });
    const duration = item(cost, 'Lambda duration (arm64)');
    expect(duration.quantity).toBeCloseTo(0.25 + 0.05 + 0.05 + 0.15 + 0.05, 12);
    expect(duration.cost).toBeCloseTo(0.55 * 0.00001, 15);
  });

  it('bills each workspace step as a Fargate task with start-up and the one-minute minimum', () => {
    // RunWork ran 90 s after Check: 20 + 90 = 110 s. Verify ran 5 s: 25 s, billed 60 s. 2 vCPU, 4 GB.
    expect(item(cost, 'Fargate vCPU (arm64)')).toMatchObject({ quantity: 340, unit: 'vCPU-second' });
    expect(item(cost, 'Fargate vCPU (arm64)').cost).toBeCloseTo(0.0034, 12);
    expect(item(cost, 'Fargate memory (arm64)')).toMatchObject({ quantity: 680, unit: 'GB-second' });
    expect(item(cost, 'Fargate memory (arm64)').cost).toBeCloseTo(0.00068, 12);
  });

  it('counts DynamoDB write units for appends, summaries, records and idempotency', () => {
    const long = completedRun[14] as RunEvent;
    expect(Buffer.byteLength(JSON.stringify(long))).toBeGreaterThan(1024);
    expect(completedRun.filter((e) => e !== long).every((e) => JSON.stringify(e).length <= 1024)).toBe(true);

    // 16 appends, the long one 2 WRU.
    expect(item(cost, 'DynamoDB writes: event log')).toMatchObject({ quantity: 17, unitPrice: 0.000001 });
    // 4 state changes after `received`; the summary carries the 1500-character reason (2 WRU); 2 indexes.
    expect(item(cost, 'DynamoDB writes: run summaries').quantity).toBe(4 * 2 * 3);
    // Model spec, daily-cap marker and counter, approval saved, approval decided and its link's nonce.
    expect(item(cost, 'DynamoDB writes: records').quantity).toBe(6);
    // Check, WorkResult, Gate, Done: in progress, then completed.
    expect(item(cost, 'DynamoDB writes: step idempotency').quantity).toBe(8);
  });

  it('counts DynamoDB read units for log queries, guards and approvals', () => {
    expect(bytes(completedRun.slice(0, 9))).toBeLessThanOrEqual(4096);
    expect(bytes(completedRun.slice(0, 14))).toBeGreaterThan(4096);
    expect(bytes(completedRun.slice(0, 14))).toBeLessThanOrEqual(8192);

    // Check 2×1, RunWork 2×1, WorkResult 1×1 (reads only), Verify 2×1, Gate 2×1, Done 2×2.
    expect(item(cost, 'DynamoDB reads: event log')).toMatchObject({ quantity: 13, unitPrice: 0.00000025 });
    // Kill-switch queries before Check, RunWork, Verify, Gate and the model turn; two approval events.
    expect(item(cost, 'DynamoDB reads: guards and approvals').quantity).toBe(0.5 * 5 + 2);
  });

  it('puts and gets each distinct artifact once, never a tool-argument hash', () => {
    expect(artifactHashes(completedRun)).toEqual(
      new Set([hash('raw request'), hash('turn-1'), hash('out-1'), hash('notes')]),
    );
    expect(item(cost, 'S3 PUT requests')).toMatchObject({ quantity: 4, unitPrice: 0.000005 });
    expect(item(cost, 'S3 PUT requests').cost).toBeCloseTo(0.00002, 15);
    expect(item(cost, 'S3 GET requests')).toMatchObject({ quantity: 4, unitPrice: 0.0000004 });
    expect(cost.items.some((i) => i.item.startsWith('S3 storage'))).toBe(false);
  });

  it('estimates logs, endpoint traffic, the starting event and the trace', () => {
    // 10 transitions × 2048 B; 6 invocations and 1 approval answer × 1024 B.
    expect(item(cost, 'CloudWatch Logs ingestion').quantity).toBe(27_648 / GB);
    expect(item(cost, 'CloudWatch Logs storage').quantity).toBe(27_648 / GB);
    // 1200 tokens × 4 B, and the logs of 2 sandbox tasks.
    expect(item(cost, 'VPC interface endpoint data processed').quantity).toBe((4800 + 2048) / GB);
    expect(item(cost, 'EventBridge events')).toMatchObject({ quantity: 1, cost: 0.000001 });
    expect(item(cost, 'X-Ray traces')).toMatchObject({ quantity: 1, cost: 0.000005 });
  });

  it('prices model tokens with the model price table, input and output apart', () => {
    expect(item(cost, 'Model input tokens (anthropic.claude-sonnet-4-5)')).toMatchObject({
      quantity: 1000,
      unitPrice: 0.000003,
    });
    expect(item(cost, 'Model input tokens (anthropic.claude-sonnet-4-5)').cost).toBeCloseTo(0.003, 15);
    expect(item(cost, 'Model output tokens (anthropic.claude-sonnet-4-5)').cost).toBeCloseTo(0.003, 15);
    expect(cost.modelPricesVersion).toBe('models.test');
  });

  it('totals its items and records the price versions and region', () => {
    expect(cost.total).toBe(cost.items.reduce((sum, i) => sum + i.cost, 0));
    expect(cost.total).toBeGreaterThan(0.0102);
    expect(cost).toMatchObject({
      runId: 'run-1',
      pricesVersion: 'test.1',
      region: 'eu-west-1',
      currency: 'USD',
    });
    for (const line of cost.items) expect(line.cost).toBeCloseTo(line.quantity * line.unitPrice, 12);
  });

  it('adds a month of S3 storage when the artifact sizes are known', () => {
    const sized = priceRun(completedRun, testPrices, testModelPrices, {
      definition: testDefinition,
      artifactBytes: { [hash('out-1')]: GB / 2, [hash('notes')]: GB / 2, [hash('args')]: GB },
    });
    expect(item(sized, 'S3 storage, first month')).toMatchObject({ quantity: 1, cost: 0.02 });
  });
});

describe('priceRun on other paths', () => {
  it('prices a failed step as entered and caught: the Fargate minimum, then the failure record', () => {
    const failed = runLog([
      { ms: 0, event: requestReceived },
      { ms: 250, event: step('Check', 'checkRequest') },
      { ms: 30_250, event: step('RecordFailure', 'finishRun') },
      { ms: 30_300, event: runState('failed', 'the sandbox task stopped') },
    ]);
    const cost = priceRun(failed, testPrices, testModelPrices, { definition: testDefinition });
    expect(cost.statePath).toEqual(['Check', 'Accepted?', 'Work', 'RunWork', 'RecordFailure', 'Failed']);
    expect(cost.notes).toEqual([
      'the log does not say which step failed before RecordFailure: taken to be RunWork, the nearest on the way',
    ]);
    expect(item(cost, 'Fargate vCPU (arm64)').quantity).toBe(2 * 60);
    expect(item(cost, 'Lambda requests').quantity).toBe(2);
  });

  it('prices a rejected request: no daily-cap writes, the rejection branch', () => {
    const rejected = runLog([
      { ms: 0, event: requestReceived },
      {
        ms: 200,
        event: {
          type: 'request.rejected',
          actor: { kind: 'step', id: 'checkRequest' },
          data: { reason: 'no acceptance criteria', missing: ['acceptanceCriteria'] },
        },
      },
      { ms: 250, event: step('Check', 'checkRequest') },
      { ms: 400, event: runState('rejected', 'no acceptance criteria') },
      { ms: 450, event: step('Reject', 'finishRun') },
    ]);
    const cost = priceRun(rejected, testPrices, testModelPrices, { definition: testDefinition });
    expect(cost.statePath).toEqual(['Check', 'Accepted?', 'Reject', 'Rejected']);
    expect(item(cost, 'DynamoDB writes: records').quantity).toBe(1);
    expect(item(cost, 'Fargate vCPU (arm64)').quantity).toBe(0);
    expect(cost.items.some((i) => i.item.startsWith('Model'))).toBe(false);
  });

  it('follows the patch loop once per recorded iteration', () => {
    const looped = runLog([
      { ms: 0, event: requestReceived },
      { ms: 250, event: step('Check', 'checkRequest') },
      { ms: 60_000, event: { ...step('RunWork', 'patch'), key: 'step:RunWork#1' } },
      { ms: 61_000, event: { ...step('Verify', 'verify'), key: 'step:Verify#1' } },
      { ms: 120_000, event: { ...step('RunWork', 'patch'), key: 'step:RunWork#2' } },
      { ms: 121_000, event: { ...step('Verify', 'verify'), key: 'step:Verify#2' } },
      { ms: 121_500, event: step('Gate', 'requestApproval') },
      { ms: 121_600, event: runState('completed') },
      { ms: 121_700, event: step('Done', 'finishRun') },
    ]);
    const cost = priceRun(looped, testPrices, testModelPrices, { definition: testDefinition });
    const loop = ['Work', 'RunWork', 'WorkResult', 'Verify', 'Passed?'];
    expect(cost.statePath).toEqual(['Check', 'Accepted?', ...loop, ...loop, 'Gate', 'Done', 'Completed']);
    expect(item(cost, 'Lambda requests').quantity).toBe(5);
  });

  it('prices a run still waiting at a gate up to its last finished step, and says so', () => {
    const waiting = runLog([
      { ms: 0, event: requestReceived },
      { ms: 250, event: step('Check', 'checkRequest') },
      { ms: 60_000, event: step('RunWork', 'patch') },
      { ms: 61_000, event: step('Verify', 'verify') },
      { ms: 61_100, event: runState('waiting_for_approval') },
    ]);
    const cost = priceRun(waiting, testPrices, testModelPrices, { definition: testDefinition });
    expect(cost.statePath.at(-1)).toBe('Verify');
    expect(cost.notes).toEqual([
      'the run is waiting_for_approval, not finished: priced up to its last finished step',
    ]);
  });

  it('bills a step no longer than its state timeout: a longer gap is a paused local process', () => {
    const paused = runLog([
      { ms: 0, event: requestReceived },
      { ms: 2 * 3600_000, event: step('Check', 'checkRequest') },
    ]);
    const cost = priceRun(paused, testPrices, testModelPrices, { definition: testDefinition });
    expect(item(cost, 'Lambda duration (arm64)').quantity).toBe(60);
  });

  it('matches a log recorded under an older shape of the definition by its step', () => {
    // Before workspace steps ran as sandbox tasks, the log named the state `Work` for the patch step.
    const older = runLog([
      { ms: 0, event: requestReceived },
      { ms: 250, event: step('Check', 'checkRequest') },
      { ms: 60_000, event: step('Work', 'patch') },
    ]);
    const cost = priceRun(older, testPrices, testModelPrices, { definition: testDefinition });
    expect(cost.statePath).toEqual(['Check', 'Accepted?', 'Work', 'RunWork']);
    expect(cost.notes).toEqual([]);
  });

  it('counts a recorded step the definition cannot reach as one state, and says so', () => {
    const stray = runLog([
      { ms: 0, event: requestReceived },
      { ms: 250, event: step('Nowhere', 'deployService') },
    ]);
    const cost = priceRun(stray, testPrices, testModelPrices, { definition: testDefinition });
    expect(cost.statePath).toEqual(['Nowhere']);
    expect(cost.notes).toEqual([
      'step deployService (state Nowhere) is not reachable in the definition from the start: counted as one Task state',
    ]);
  });
});

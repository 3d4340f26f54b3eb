import { createHash } from 'node:crypto';
import type { NewRunEvent, RunEvent } from '../domain/events.js';
import { EngineeringRequest } from '../domain/request.js';
import type { PriceTable } from '../policy/budgets.js';
import type { StateMachineDefinition, TaskState } from '../workflows/asl.js';
import { AwsPrices } from './aws-prices.js';

/** Round prices, so every expected figure in the tests can be worked out by hand. */
export const testPrices = AwsPrices.parse({
  version: 'test.1',
  region: 'eu-west-1',
  currency: 'USD',
  asOf: '2026-11-21',
  stepFunctions: { perThousandStateTransitions: 0.02 },
  lambda: {
    architecture: 'arm64',
    perMillionRequests: 0.2,
    perGbSecond: { arm64: 0.00001, x86_64: 0.00002 },
    memoryMb: { default: 512, checkRequest: 1024 },
  },
  fargate: {
    architecture: 'arm64',
    perVcpuHour: { arm64: 0.036, x86_64: 0.072 },
    perGbHour: { arm64: 0.0036, x86_64: 0.0072 },
    minimumBilledSeconds: 60,
    sandboxTask: { vcpu: 2, memoryGb: 4 },
  },
  dynamodb: {
    perMillionWriteRequestUnits: 1,
    perMillionReadRequestUnits: 0.25,
    storagePerGbMonth: 0.25,
    pointInTimeRecoveryPerGbMonth: 0.2,
  },
  s3: { perThousandPutRequests: 0.005, perThousandGetRequests: 0.0004, storagePerGbMonth: 0.02 },
  cloudwatch: {
    logsIngestionPerGb: 0.5,
    logsStoragePerGbMonth: 0.03,
    customMetricPerMonth: 0.3,
    dashboardPerMonth: 3,
    alarmPerMonth: 0.1,
  },
  vpcEndpoints: { interfacePerEndpointHour: 0.01, interfacePerGbProcessed: 0.01 },
  eventBridge: { perMillionEvents: 1 },
  kms: { perKeyMonth: 1, perTenThousandRequests: 0.03 },
  xray: { perMillionTracesRecorded: 5 },
  ecr: { storagePerGbMonth: 0.1 },
});

export const testModelPrices: PriceTable = {
  version: 'models.test',
  currency: 'USD',
  models: [{ match: '*', inputPerMillion: 3, outputPerMillion: 15 }],
};

const lambda = (step: string, fields: Partial<TaskState> = {}): TaskState => ({
  Type: 'Task',
  Resource: `arn:aws:lambda:eu-west-1:000000000000:function:gantry-${step}`,
  TimeoutSeconds: 60,
  Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }],
  ...fields,
});

/**
 * A small workflow with every kind of state the issue resolver has: a Lambda step, a decision, a Pass
 * state leading into a sandbox task, the unjournaled Lambda that reads the task's result back, a gate
 * that waits for a task token, a patch loop, and the failure path.
 */
export const testDefinition: StateMachineDefinition = {
  Comment: 'cost model fixture',
  StartAt: 'Check',
  States: {
    Check: lambda('checkRequest', { Next: 'Accepted?' }),
    'Accepted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.accepted', BooleanEquals: true, Next: 'Work' }],
      Default: 'Reject',
    },
    Reject: lambda('finishRun', { Next: 'Rejected' }),
    Work: { Type: 'Pass', Parameters: {}, ResultPath: '$.stepInput', Next: 'RunWork' },
    RunWork: {
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: {
        Overrides: {
          ContainerOverrides: [{ Name: 'sandbox', Environment: [{ Name: 'GANTRY_STEP', Value: 'patch' }] }],
        },
      },
      TimeoutSeconds: 900,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }],
      Next: 'WorkResult',
    },
    WorkResult: lambda('loadStepResult', { Next: 'Verify' }),
    Verify: lambda('verify', { Next: 'Passed?' }),
    'Passed?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.loop.passed', BooleanEquals: true, Next: 'Gate' }],
      Default: 'Work',
    },
    Gate: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:gantry-requestApproval' },
      TimeoutSeconds: 3600 * 24,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }],
      Next: 'Done',
    },
    Done: lambda('finishRun', { Next: 'Completed' }),
    RecordFailure: lambda('finishRun', { Catch: [], Next: 'Failed' }),
    Completed: { Type: 'Succeed' },
    Rejected: { Type: 'Succeed' },
    Failed: { Type: 'Fail' },
  },
};

export const hash = (text: string) => createHash('sha256').update(text).digest('hex');

export type Draft = {
  [T in NewRunEvent['type']]: Omit<
    Extract<NewRunEvent, { type: T }>,
    'runId' | 'traceId' | 'policyVersion' | 'key'
  > & { key?: string };
}[NewRunEvent['type']];

/** A run's log from drafts: each event `ms` after the first, numbered from 1. */
export function runLog(drafts: { ms: number; event: Draft }[]): RunEvent[] {
  const start = Date.parse('2026-11-21T10:00:00.000Z');
  return drafts.map(({ ms, event }, index) => ({
    runId: 'run-1',
    traceId: 'a'.repeat(32),
    policyVersion: 'test',
    key: event.key ?? `event-${index + 1}`,
    ...event,
    seq: index + 1,
    at: new Date(start + ms).toISOString(),
  })) as RunEvent[];
}

export const step = (state: string, id: string, output?: string) =>
  ({
    type: 'step.completed',
    actor: { kind: 'step', id },
    data: output ? { step: state, output } : { step: state, value: null },
  }) as const;

export const runState = (
  state: 'received' | 'running' | 'waiting_for_approval' | 'completed' | 'rejected' | 'failed',
  reason?: string,
) =>
  ({
    type: 'run.state',
    actor: { kind: 'system', id: 'test' },
    data: { state, ...(reason && { reason }) },
  }) as const;

export const requestReceived: Draft = {
  type: 'request.received',
  actor: { kind: 'system', id: 'intake' },
  data: {
    raw: hash('raw request'),
    request: EngineeringRequest.parse({
      id: 'req-1',
      source: 'file',
      repository: { name: 'billing-service' },
      requester: 'maria.lopez',
      capability: 'low-risk-bugfix',
      title: 'Invoice total is wrong',
      acceptanceCriteria: ['zero discount gives no discount'],
      receivedAt: '2026-11-21T10:00:00.000Z',
    }),
  },
};

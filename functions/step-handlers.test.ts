import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SfnTaskTokens } from '../src/adapters/aws/sfn-approvals.js';
import { getApproval } from '../src/approvals/approval-records.js';
import { setKillSwitch } from '../src/policy/kill-switch.js';
import { journalFor } from '../src/steps/run-context.js';
import { lambdaSteps } from '../src/workflows/issue-resolver.js';
import { recordStepOutput } from '../src/workflows/step-journal.js';
import { stepEntries } from './entries.js';
import { lambdaStepDeps, observability } from './lambda-runtime.js';
import {
  createStepHandlers,
  type LambdaStepName,
  lambdaStepNames,
  type StepHandler,
  stepInputs,
} from './step-handlers.js';
import {
  type LocalStage,
  lambdaContext,
  standInCredentials,
  startAwsStandIn,
  startLocalStage,
} from './testing/local-stage.js';

describe('Lambda step handlers on the real middy and Powertools stack', () => {
  let stage: LocalStage;
  let sfn: Awaited<ReturnType<typeof startAwsStandIn>>;
  let handlers: Record<LambdaStepName, StepHandler>;

  beforeAll(async () => {
    stage = await startLocalStage();
    sfn = await startAwsStandIn(() => ({}));
    const tokens = new SfnTaskTokens(
      new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: standInCredentials }),
    );
    handlers = createStepHandlers({
      deps: async () => stage.deps,
      idempotency: { tableName: 'stage-idempotency', client: stage.engines.dynamo },
      tokens: () => tokens,
      observability: observability('gantry-steps-test'),
    });
  });
  afterAll(async () => {
    await sfn.close();
    await stage.stop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers a repeated checkRequest from the idempotency table without running the step again', async () => {
    // Prepare: a submitted run, and stdout captured to read the metric Powertools emits
    const run = await stage.submit();
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    // Act: the first invocation runs the step; then every run is stopped, then the same input again
    const first = await handlers.checkRequest({ run }, lambdaContext('StepCheckRequest'));
    await setKillSwitch(stage.deps.log, stage.deps.records, {
      scope: 'global',
      engaged: true,
      by: 'ops',
      reason: 'proving the second call does not run',
    });
    const second = await handlers.checkRequest({ run }, lambdaContext('StepCheckRequest'));
    await setKillSwitch(stage.deps.log, stage.deps.records, {
      scope: 'global',
      engaged: false,
      by: 'ops',
      reason: 'done',
    });
    vi.restoreAllMocks();
    // Assess: the stored result came back, and the guard that would now stop the step never ran
    expect(first).toEqual({ accepted: true, reason: '' });
    expect(second).toEqual(first);
    const events = await stage.deps.log.read(run.runId);
    expect(events.map((e) => e.key)).toEqual(['request', 'run:received', 'run:started']);
    const stored = await stage.engines.dynamo.send(new ScanCommand({ TableName: 'stage-idempotency' }));
    expect(
      stored.Items?.some(
        (item) => item.status?.S === 'COMPLETED' && item.id?.S?.startsWith('gantry.checkRequest#'),
      ),
    ).toBe(true);
    const metric = written.map((line) => line.trim()).find((line) => line.includes('"StepSucceeded"'));
    expect(metric, written.join('')).toBeDefined();
    const emf = JSON.parse(metric as string) as {
      step: string;
      _aws: { CloudWatchMetrics: { Namespace: string }[] };
    };
    expect(emf.step).toBe('checkRequest');
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('Gantry');
  });

  it('has a handler, an input schema and a deployed entry for every Lambda step of both workflows', () => {
    // Assess
    expect([...lambdaStepNames].sort()).toEqual([...lambdaSteps].sort());
    expect(Object.keys(handlers).sort()).toEqual([...lambdaSteps].sort());
    expect([...stepEntries].sort()).toEqual([...lambdaSteps].sort());
    expect(
      stepInputs.escalateRollback.parse({ run: { runId: 'r', traceId: 'a'.repeat(32) }, reason: 'x' }),
    ).toEqual({ run: { runId: 'r', traceId: 'a'.repeat(32) }, reason: 'x' });
    expect(
      stepInputs.finishRun.safeParse({ run: { runId: 'r', traceId: 'a'.repeat(32) }, outcome: 'rolled_back' })
        .success,
    ).toBe(true);
  });

  it('fails a delivery step clearly on a stage that names no pipelines', async () => {
    // Prepare
    const run = await stage.submit();
    // Act
    const call = handlers.prepareRelease({ run }, lambdaContext('StepPrepareRelease'));
    // Assess
    await expect(call).rejects.toThrow(/this runtime has no deployer or merge queue configured/);
  });

  it('refuses an input the step cannot use, naming the field, and stores nothing for it', async () => {
    // Prepare
    const bad = { run: { runId: 'r-1', traceId: 'not-hex' } };
    // Act
    const call = handlers.classifyRisk(bad, lambdaContext('StepClassifyRisk'));
    // Assess
    await expect(call).rejects.toThrow(/step classifyRisk got an input it cannot use: run\.traceId/);
    await expect(call).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it('records a gate and returns at once: on AWS the execution, not the Lambda, waits', async () => {
    // Prepare
    const run = await stage.submit();
    await handlers.checkRequest({ run }, lambdaContext('StepCheckRequest'));
    await handlers.classifyRisk({ run }, lambdaContext('StepClassifyRisk'));
    const input = { run, kind: 'plan', state: 'AwaitPlanApproval', taskToken: 'token-gate-1' };
    // Act
    const output = await handlers.requestApproval(input, lambdaContext('StepRequestApproval'));
    // Assess: waiting, the approval stored with its token, and no token sent yet
    expect(output).toMatchObject({ awaitingApproval: expect.stringMatching(/^apv-/) });
    const approval = await getApproval(
      stage.deps.records,
      (output as { awaitingApproval: string }).awaitingApproval,
    );
    expect(approval).toMatchObject({ status: 'pending', taskToken: 'token-gate-1', kind: 'plan' });
    expect(sfn.calls).toEqual([]);
    const summary = await stage.deps.log.getRunSummary(run.runId);
    expect(summary?.state).toBe('waiting_for_approval');
  });

  it('loadStepResult returns a finished sandbox step output, inline or stored by hash', async () => {
    // Prepare: two journaled outputs, one small and one over the inline limit
    const run = await stage.submit();
    const journal = await journalFor(lambdaStepDeps(stage.deps), run);
    const small = { repository: 'billing-service', workspace: '/workspace/x' };
    const large = { transcript: 'x'.repeat(5000), workspaceCommit: 'abc', outcome: 'finished' };
    await recordStepOutput(
      journal,
      stage.deps.artifactsForRun(run.runId),
      'step:RunMapRepository',
      'RunMapRepository',
      'mapRepository',
      small,
    );
    await recordStepOutput(
      journal,
      stage.deps.artifactsForRun(run.runId),
      'step:RunPatch#2',
      'RunPatch',
      'patch',
      large,
    );
    // Act
    const loadedSmall = await handlers.loadStepResult(
      { run, state: 'RunMapRepository' },
      lambdaContext('StepLoadStepResult'),
    );
    const loadedLarge = await handlers.loadStepResult(
      { run, state: 'RunPatch', iteration: 2 },
      lambdaContext('StepLoadStepResult'),
    );
    // Assess
    expect(loadedSmall).toEqual(small);
    expect(loadedLarge).toEqual(large);
    const event = (await stage.deps.log.read(run.runId)).find((e) => e.key === 'step:RunPatch#2');
    expect(event?.type === 'step.completed' && event.data.output).toMatch(/^[a-f0-9]{64}$/);
  });

  it('loadStepResult fails clearly when the sandbox step never journaled its output', async () => {
    // Prepare
    const run = await stage.submit();
    // Act
    const call = handlers.loadStepResult(
      { run, state: 'RunVerify', iteration: 1 },
      lambdaContext('StepLoadStepResult'),
    );
    // Assess: the message names the state and the key, for RecordFailure to record
    await expect(call).rejects.toThrow(
      /state RunVerify finished without recording its result \(step:RunVerify#1\)/,
    );
    // and the failure was not stored as the answer: once the output is there, the same call returns it
    const journal = await journalFor(lambdaStepDeps(stage.deps), run);
    await recordStepOutput(
      journal,
      stage.deps.artifactsForRun(run.runId),
      'step:RunVerify#1',
      'RunVerify',
      'verify',
      {
        passed: true,
      },
    );
    const retried = await handlers.loadStepResult(
      { run, state: 'RunVerify', iteration: 1 },
      lambdaContext('StepLoadStepResult'),
    );
    expect(retried).toEqual({ passed: true });
  });
});

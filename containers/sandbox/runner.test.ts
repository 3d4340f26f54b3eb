import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaStepDeps, observability } from '../../functions/lambda-runtime.js';
import { createStepHandlers } from '../../functions/step-handlers.js';
import {
  issueOpenedPayload,
  type LocalStage,
  lambdaContext,
  repositoryRoot,
  startLocalStage,
} from '../../functions/testing/local-stage.js';
import { createAwsStepDeps } from '../../src/adapters/aws/aws-runtime.js';
import { asSandboxPort, ProcessSandbox } from '../../src/adapters/aws/process-sandbox.js';
import { AwsSandboxGrants } from '../../src/adapters/aws/sandbox-grants.js';
import { startFakeStsKms } from '../../src/adapters/aws/testing/fake-sts-kms.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { LocalForge } from '../../src/forge/local-forge.js';
import { MergeQueue } from '../../src/forge/merge-queue.js';
import { requestFromGitHubIssueOpened } from '../../src/intake/github-issue.js';
import { checkRequest } from '../../src/steps/check-request.js';
import { classifyRisk } from '../../src/steps/classify-risk.js';
import type { StepDeps } from '../../src/steps/step-deps.js';
import { main, readSandboxTask, runClients, runSandboxTask, sandboxTaskDeps } from './runner.js';

const run = { runId: '01JTEST00000000000000000000', traceId: 'a'.repeat(32) };

describe('reading the sandbox task from the container environment', () => {
  it('reads the step, the state and the checked input', () => {
    // Prepare
    const env = {
      GANTRY_STEP: 'mapRepository',
      GANTRY_STATE: 'RunMapRepository',
      GANTRY_INPUT: JSON.stringify({ run, extra: 'dropped' }),
    };
    // Act
    const task = readSandboxTask(env);
    // Assess
    expect(task).toEqual({ step: 'mapRepository', state: 'RunMapRepository', input: { run } });
  });

  it('refuses a missing input, an input that is not JSON, and one the step cannot use', () => {
    // Prepare
    const base = { GANTRY_STEP: 'verify', GANTRY_STATE: 'RunVerify' };
    // Act
    const read = (env: NodeJS.ProcessEnv) => () => readSandboxTask(env);
    // Assess
    expect(read(base)).toThrow(InvalidInputError);
    expect(read(base)).toThrow(/GANTRY_INPUT is not set/);
    expect(read({ ...base, GANTRY_INPUT: '{"run":' })).toThrow(/GANTRY_INPUT is not JSON/);
    expect(read({ ...base, GANTRY_INPUT: JSON.stringify({ run }) })).toThrow(
      /GANTRY_INPUT is not an input of verify: repo: .*; iteration: .*; maxIterations: /,
    );
  });

  it('reads the delivery loop and rollback workspace steps, each with its own input', () => {
    // Prepare
    const repo = {
      repository: 'billing-service',
      workspace: '/workspace/rb-inc-dep-1',
      baseCommit: 'a'.repeat(40),
      defaultBranch: 'main',
      branch: 'gantry/revert-3',
      context: '',
      testCommand: ['npm', 'test'],
    };
    const read = (step: string, state: string, input: unknown) => () =>
      readSandboxTask({ GANTRY_STEP: step, GANTRY_STATE: state, GANTRY_INPUT: JSON.stringify(input) });
    // Act + Assess: the rollback merges its revert through the same mergeChange step, from its own state
    expect(read('mergeChange', 'RunMergeRevert', { run, repo })()).toEqual({
      step: 'mergeChange',
      state: 'RunMergeRevert',
      input: { run, repo },
    });
    expect(read('revertChange', 'RunRevertChange', { run })().input).toEqual({ run });
    expect(read('openRevertPullRequest', 'RunOpenRevertPullRequest', { run, repo })().step).toBe(
      'openRevertPullRequest',
    );
    expect(read('reviewPullRequest', 'RunReviewPullRequest', { run })).toThrow(
      /GANTRY_INPUT is not an input of reviewPullRequest: repo: /,
    );
  });

  it('refuses a step that is not a workspace step', () => {
    // Prepare
    const env = {
      GANTRY_STEP: 'checkRequest',
      GANTRY_STATE: 'CheckRequest',
      GANTRY_INPUT: JSON.stringify({ run }),
    };
    // Act / Assess
    expect(() => readSandboxTask(env)).toThrow(
      /GANTRY_STEP must name a workspace step \(mapRepository, .*\), got "checkRequest"/,
    );
  });

  it('exits non-zero with the error on stderr when the task cannot be read', async () => {
    // Prepare
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    // Act
    const code = await main({ GANTRY_STEP: 'mapRepository', GANTRY_STATE: 'RunMapRepository' });
    vi.restoreAllMocks();
    // Assess
    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(
      /gantry sandbox runner: GANTRY_INPUT is not set[\s\S]*what to do: the state machine sets/,
    );
  });
});

describe("the task's run grant", () => {
  let fake: Awaited<ReturnType<typeof startFakeStsKms>>;

  beforeAll(async () => {
    fake = await startFakeStsKms();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('builds its data-plane clients from the grant of its own run, and refuses a grant for another run', async () => {
    // Prepare: a grant issued for run A, as the GrantX state would
    const grants = new AwsSandboxGrants({
      roleArn: 'arn:aws:iam::123456789012:role/gantry-dev-sandbox-run',
      keyArn: 'arn:aws:kms:us-east-1:123456789012:key/grant',
      sts: fake.sts,
      kms: fake.kms,
    });
    const { grant } = await grants.grant(run.runId);
    const env = { GANTRY_RUN_GRANT: grant };
    // Act
    const own = await runClients(env, run.runId, fake.kms);
    const foreign = await runClients(env, '01JOTHER000000000000000000', fake.kms).catch((e: unknown) => e);
    // Assess: the clients sign with the run's session, not the task role's
    expect(await own.s3.config.credentials()).toMatchObject({
      accessKeyId: 'ASIARUNTEST',
      sessionToken: 'run-session-token',
    });
    expect(await own.dynamo.config.credentials()).toMatchObject({ accessKeyId: 'ASIARUNTEST' });
    expect(own.credentials.runId).toBe(run.runId);
    expect(foreign).toBeInstanceOf(InvalidInputError);
    expect((foreign as Error).message).toMatch(/does not open for run 01JOTHER/);
  });

  it('exits non-zero, naming the grant, when the task has none', async () => {
    // Prepare
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    // Act
    const code = await main({
      GANTRY_STEP: 'mapRepository',
      GANTRY_STATE: 'RunMapRepository',
      GANTRY_INPUT: JSON.stringify({ run }),
    });
    vi.restoreAllMocks();
    // Assess
    expect(code).toBe(1);
    expect(stderr.join('')).toMatch(/gantry sandbox runner: GANTRY_RUN_GRANT is not set/);
  });
});

describe('running a workspace step in the task', () => {
  let stage: LocalStage;
  let deps: StepDeps;

  beforeAll(async () => {
    // The local forge lives in the stage's directory and goes with it.
    stage = await startLocalStage({ forge: (dir) => new LocalForge({ root: join(dir, 'forge') }) });
    deps = {
      ...lambdaStepDeps(stage.deps),
      sandbox: asSandboxPort(new ProcessSandbox({ commandUser: { uid: 1987, gid: 1987 } })),
    };
  });
  afterAll(async () => {
    await stage.stop();
  });

  it('maps the repository, journals the output under the state, and loadStepResult reads it back', async () => {
    // Prepare: a run past CheckRequest and ClassifyRisk, for the example repository
    const request = requestFromGitHubIssueOpened(issueOpenedPayload(), {
      repositoryPath: join(repositoryRoot, 'examples', 'billing-service'),
    });
    const ref = await stage.submit(request);
    await checkRequest(deps, { run: ref });
    await classifyRisk(deps, { run: ref });
    const task = readSandboxTask({
      GANTRY_STEP: 'mapRepository',
      GANTRY_STATE: 'RunMapRepository',
      GANTRY_INPUT: JSON.stringify({ run: ref }),
    });
    // Act: the task runs, then runs again (a restarted task), then the next state reads the result
    const output = await runSandboxTask(deps, task);
    const again = await runSandboxTask(deps, task);
    const handlers = createStepHandlers({
      deps: async () => stage.deps,
      idempotency: { tableName: 'stage-idempotency', client: stage.engines.dynamo },
      tokens: () => {
        throw new Error('no gate here');
      },
      observability: observability('gantry-runner-test'),
    });
    const loaded = await handlers.loadStepResult(
      { run: ref, state: 'RunMapRepository' },
      lambdaContext('StepLoadStepResult'),
    );
    // Assess
    expect(output).toMatchObject({
      repository: 'billing-service',
      workspace: join(stage.env.GANTRY_WORKSPACES_DIR as string, ref.runId),
      testCommand: expect.any(Array),
    });
    expect(again).toEqual(output);
    expect(loaded).toEqual(output);
    const events = await stage.deps.log.read(ref.runId);
    expect(events.filter((e) => e.key === 'step:RunMapRepository')).toHaveLength(1);
    expect(events.find((e) => e.key === 'step:RunMapRepository')?.actor).toEqual({
      kind: 'step',
      id: 'mapRepository',
    });
  });

  it('gives the task the delivery ports with a merge queue when the stage names its pipelines', async () => {
    // Prepare
    const pipelines = { 'billing-service': { staging: { name: 's' }, production: { name: 'p' } } };
    const env = { ...stage.env, GANTRY_PIPELINES: JSON.stringify(pipelines) };
    const aws = await createAwsStepDeps(env, {
      requireSigningKey: false,
      dynamo: stage.engines.dynamo,
      s3: stage.engines.s3,
    });
    // Act
    const withDelivery = await sandboxTaskDeps(env, aws, run.runId);
    const without = await sandboxTaskDeps(stage.env, stage.deps, run.runId);
    // Assess
    expect(withDelivery.delivery?.mergeQueue).toBeInstanceOf(MergeQueue);
    expect(withDelivery.delivery?.services.has('billing-service')).toBe(true);
    expect(withDelivery.sandbox.kind).toBe('process');
    expect(without.delivery).toBeUndefined();
  });
});

/**
 * The sandbox task's entry point. Step Functions starts the task with `ecs:runTask.sync` and passes the
 * step in the container overrides: `GANTRY_STEP` (a workspace step), `GANTRY_STATE` (the state running
 * it) and `GANTRY_INPUT` (the step's input as JSON). The runner runs the step with the AWS adapters,
 * a Bedrock model and the process sandbox, and journals the output as `step.completed` under
 * `step:<state>` or `step:<state>#<iteration>`, exactly as the local executor does; `.sync` returns
 * task metadata, not output, so the state after it (`loadStepResult`) reads it from the journal.
 *
 * Every data-plane client (DynamoDB, S3, Bedrock) uses the run's temporary credentials from
 * `GANTRY_RUN_GRANT`: KMS ciphertext the grantSandbox step issued, which decrypts only with this run's
 * id as encryption context. The task role itself may only decrypt grants and mount the run store, so
 * the task reaches its own run's journal rows and `runs/<runId>/` artifacts and nothing else.
 *
 * Exit status 0 when the step finished (or had already finished); 1 with the error on stderr otherwise
 * (a missing or foreign grant included).
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import {
  type AwsStepDeps,
  bedrockModelFor,
  createAwsStepDeps,
  deliveryWith,
  forRun,
  RUN_MODEL_KIND,
} from '../../src/adapters/aws/aws-runtime.js';
import { asSandboxPort, ProcessSandbox } from '../../src/adapters/aws/process-sandbox.js';
import { openRunGrant, type RunCredentials } from '../../src/adapters/aws/sandbox-grants.js';
import { formatZodIssues, GantryError, InvalidInputError } from '../../src/domain/errors.js';
import { assembleEvidence } from '../../src/steps/assemble-evidence.js';
import { mapRepository } from '../../src/steps/map-repository.js';
import { mergeChange } from '../../src/steps/merge-change.js';
import { openPullRequest } from '../../src/steps/open-pull-request.js';
import { patch } from '../../src/steps/patch.js';
import { reproduce } from '../../src/steps/reproduce.js';
import { reviewPullRequest } from '../../src/steps/review-pull-request.js';
import { openRevertPullRequest, revertChange } from '../../src/steps/rollback-run.js';
import { journalFor } from '../../src/steps/run-context.js';
import { assertRunMayContinue } from '../../src/steps/run-guard.js';
import { AgentState, RepoState, RunRef, type StepDeps } from '../../src/steps/step-deps.js';
import { verify } from '../../src/steps/verify.js';
import { SANDBOX_ENV, type WorkspaceStep, workspaceSteps } from '../../src/workflows/issue-resolver.js';
import { readStepOutput, recordStepOutput, stepKey } from '../../src/workflows/step-journal.js';
import { RunStore } from './run-store.js';

/** Each workspace step's input, as the workflow's Pass state shapes it. */
export const workspaceStepInputs = {
  mapRepository: z.object({ run: RunRef }),
  reproduce: z.object({ run: RunRef, repo: RepoState }),
  patch: z.object({
    run: RunRef,
    repo: RepoState,
    iteration: z.number().int().positive(),
    agent: AgentState,
  }),
  verify: z.object({
    run: RunRef,
    repo: RepoState,
    iteration: z.number().int().positive(),
    maxIterations: z.number().int().positive(),
  }),
  assembleEvidence: z.object({ run: RunRef, repo: RepoState }),
  openPullRequest: z.object({
    run: RunRef,
    repo: RepoState,
    evidence: z.object({ markdown: z.string(), complete: z.boolean() }),
  }),
  reviewPullRequest: z.object({ run: RunRef, repo: RepoState }),
  mergeChange: z.object({ run: RunRef, repo: RepoState }),
  revertChange: z.object({ run: RunRef }),
  openRevertPullRequest: z.object({ run: RunRef, repo: RepoState }),
} satisfies Record<WorkspaceStep, z.ZodType>;

type StepInput = { run: RunRef; iteration?: number } & Record<string, unknown>;

const workspaceStepFunctions: Record<WorkspaceStep, (deps: StepDeps, input: never) => Promise<unknown>> = {
  mapRepository,
  reproduce,
  patch,
  verify,
  assembleEvidence,
  openPullRequest,
  reviewPullRequest,
  mergeChange,
  revertChange,
  openRevertPullRequest,
};

/** One sandbox task: the step, the state that runs it, and its checked input. */
export interface SandboxTask {
  step: WorkspaceStep;
  state: string;
  input: StepInput;
}

const taskHint = `the state machine sets ${SANDBOX_ENV.step}, ${SANDBOX_ENV.state} and ${SANDBOX_ENV.input} in the container overrides; deploy the definition and the image together`;

/**
 * Reads the task from the container environment, refusing a missing or unknown step, a missing state,
 * or an input that is not the step's JSON.
 *
 * @example
 * const task = readSandboxTask({ GANTRY_STEP: 'mapRepository', GANTRY_STATE: 'RunMapRepository', GANTRY_INPUT: '{"run":{...}}' });
 */
export function readSandboxTask(env: NodeJS.ProcessEnv): SandboxTask {
  const step = env[SANDBOX_ENV.step];
  if (!step || !(workspaceSteps as readonly string[]).includes(step)) {
    throw new InvalidInputError(
      `${SANDBOX_ENV.step} must name a workspace step (${workspaceSteps.join(', ')}), got ${step ? `"${step}"` : 'nothing'}`,
      { input: SANDBOX_ENV.step, hint: taskHint },
    );
  }
  const state = env[SANDBOX_ENV.state];
  if (!state)
    throw new InvalidInputError(`${SANDBOX_ENV.state} is not set`, {
      input: SANDBOX_ENV.state,
      hint: taskHint,
    });
  const raw = env[SANDBOX_ENV.input];
  if (!raw)
    throw new InvalidInputError(`${SANDBOX_ENV.input} is not set`, {
      input: SANDBOX_ENV.input,
      hint: taskHint,
    });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new InvalidInputError(`${SANDBOX_ENV.input} is not JSON`, {
      input: raw.length > 80 ? `${raw.slice(0, 80)}...` : raw,
      hint: taskHint,
      cause,
    });
  }
  const parsed = workspaceStepInputs[step as WorkspaceStep].safeParse(json);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${SANDBOX_ENV.input} is not an input of ${step}: ${formatZodIssues(parsed.error.issues)}`,
      { input: SANDBOX_ENV.input, hint: taskHint },
    );
  }
  return { step: step as WorkspaceStep, state, input: parsed.data as StepInput };
}

/**
 * Runs one workspace step and journals its output. A step already journaled (the task started again)
 * returns its recorded output without running; otherwise the kill switches and the budget are checked
 * first, as before every step of the embedded runtime.
 *
 * @example
 * const output = await runSandboxTask(deps, readSandboxTask(process.env));
 */
export async function runSandboxTask(deps: StepDeps, task: SandboxTask): Promise<unknown> {
  const journal = await journalFor(deps, task.input.run);
  const key = stepKey(task.state, task.input.iteration);
  const done = await readStepOutput(journal, deps.artifacts, key);
  if (done) return done.output;
  await assertRunMayContinue(deps, journal);
  const output = await workspaceStepFunctions[task.step](deps, task.input as never);
  await recordStepOutput(journal, deps.artifacts, key, task.state, task.step, output);
  return output;
}

/**
 * The step dependencies inside the task: the AWS adapters, the Bedrock model the run recorded (if the
 * stage allows it) and the process sandbox, which must be able to run commands as the sandbox user.
 * When the stage names its pipelines, the delivery ports too, with the merge queue testing in that
 * sandbox: the queue's clones live under the workspaces directory, the only place it may run commands.
 */
export async function sandboxTaskDeps(
  env: NodeJS.ProcessEnv,
  aws: AwsStepDeps,
  runId: string,
  credentials?: RunCredentials,
): Promise<StepDeps> {
  const sandbox = new ProcessSandbox({
    requireUserSwitch: env.GANTRY_SANDBOX_REQUIRE_USER_SWITCH === '1',
    workspacesDir: aws.settings.workspacesDir,
  });
  const recorded = await aws.records.get<{ spec: string }>(RUN_MODEL_KIND, runId);
  const model = bedrockModelFor(aws.config, recorded?.spec, {
    region: env.AWS_REGION,
    ...(credentials ? { credentials: clientCredentials(credentials) } : {}),
  });
  const port = asSandboxPort(sandbox);
  const { delivery: _delivery, ...rest } = forRun(aws, runId);
  const delivery = deliveryWith(aws, port, join(aws.settings.workspacesDir, '.merge-queue'));
  return { ...rest, model, sandbox: port, ...(delivery ? { delivery } : {}) };
}

const clientCredentials = (c: RunCredentials) => ({
  accessKeyId: c.accessKeyId,
  secretAccessKey: c.secretAccessKey,
  sessionToken: c.sessionToken,
  expiration: new Date(c.expiration),
});

/**
 * The run's credentials from `GANTRY_RUN_GRANT`, and the DynamoDB and S3 clients built with them. The
 * task role's own credentials are used for one call only: KMS Decrypt of the grant.
 *
 * @example
 * const { credentials, dynamo, s3 } = await runClients(process.env, runId);
 */
export async function runClients(
  env: NodeJS.ProcessEnv,
  runId: string,
  kms: KMSClient = new KMSClient({}),
): Promise<{ credentials: RunCredentials; dynamo: DynamoDBClient; s3: S3Client }> {
  const credentials = await openRunGrant(kms, env[SANDBOX_ENV.grant], runId, env.GANTRY_GRANT_KEY_ARN);
  const forClients = clientCredentials(credentials);
  return {
    credentials,
    dynamo: new DynamoDBClient({ credentials: forClients }),
    s3: new S3Client({ credentials: forClients }),
  };
}

/** Runs the task the environment names; returns the process exit status. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const task = readSandboxTask(env);
    const runId = task.input.run.runId;
    const { credentials, dynamo, s3 } = await runClients(env, runId);
    // The task never signs approval links, so it is not given the key.
    const aws = await createAwsStepDeps(env, { requireSigningKey: false, dynamo, s3 });
    const deps = await sandboxTaskDeps(env, aws, runId, credentials);
    const store = new RunStore(env.GANTRY_RUN_STORE_DIR ?? '/runs', aws.settings.workspacesDir);
    await store.restore(task.input.run.runId);
    try {
      await runSandboxTask(deps, task);
    } finally {
      // Saved even when the step fails: a retried task resumes on the files the phase had.
      await store.save(task.input.run.runId);
    }
    process.stdout.write(
      `${JSON.stringify({ level: 'INFO', message: 'step finished', step: task.step, state: task.state, runId: task.input.run.runId })}\n`,
    );
    return 0;
  } catch (error) {
    const text =
      error instanceof GantryError
        ? error.describe()
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error);
    process.stderr.write(`gantry sandbox runner: ${text}\n`);
    return 1;
  }
}

const invokedDirectly = (() => {
  try {
    return (
      process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
    );
  } catch {
    return false;
  }
})();
if (invokedDirectly) process.exitCode = await main();

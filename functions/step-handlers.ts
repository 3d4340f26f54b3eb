import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { type AwsStepDeps, forRun } from '../src/adapters/aws/aws-runtime.js';
import { AwsSandboxGrants } from '../src/adapters/aws/sandbox-grants.js';
import type { SfnTaskTokens } from '../src/adapters/aws/sfn-approvals.js';
import { formatZodIssues, InvalidInputError } from '../src/domain/errors.js';
import { ApprovalKind } from '../src/domain/risk.js';
import type { SandboxGrants } from '../src/ports/sandbox-grants.js';
import { checkRequest } from '../src/steps/check-request.js';
import { classifyRisk } from '../src/steps/classify-risk.js';
import { createPlan } from '../src/steps/create-plan.js';
import { decideMerge } from '../src/steps/decide-merge.js';
import { deployStaging } from '../src/steps/deploy-staging.js';
import { finishRun } from '../src/steps/finish-run.js';
import { grantSandbox } from '../src/steps/grant-sandbox.js';
import { loadStepResult } from '../src/steps/load-step-result.js';
import { prepareRelease } from '../src/steps/prepare-release.js';
import { AwaitingApproval, requestApproval } from '../src/steps/request-approval.js';
import { observeProduction, rollOutProduction } from '../src/steps/roll-out-production.js';
import {
  confirmRecovery,
  escalateRollback,
  fileFixForward,
  finishRollback,
  redeploy,
  startRollback,
} from '../src/steps/rollback-run.js';
import { forgetJournals, journalFor } from '../src/steps/run-context.js';
import { assertRunMayContinue } from '../src/steps/run-guard.js';
import { RepoState, RunRef, type StepDeps } from '../src/steps/step-deps.js';
import { forStepFunctions, lambdaStepDeps, type Observability } from './lambda-runtime.js';
import { publishPendingApprovals, publishRunMetrics } from './run-metrics.js';

/**
 * The idempotency key of a step invocation: its run, the state that called it and the loop iteration.
 * Fields a state does not pass are null, so a step called from one state per execution is keyed by the
 * run alone; the key prefix names the step (`gantry.<step>`), so different steps never share a key.
 */
export const STEP_IDEMPOTENCY_KEY = '[run.runId, state, iteration]';

/** Stored results answer repeated invocations for a day: longer than any retry or redrive of a state. */
const IDEMPOTENCY_SECONDS = 24 * 3600;

/** Each Lambda step's input, checked before the step runs. Extra fields (added by the workflow) are dropped. */
export const stepInputs = {
  checkRequest: z.object({ run: RunRef }),
  classifyRisk: z.object({ run: RunRef }),
  createPlan: z.object({ run: RunRef, repo: RepoState }),
  requestApproval: z.object({
    run: RunRef,
    kind: ApprovalKind,
    state: z.string().min(1),
    taskToken: z.string().min(1),
  }),
  finishRun: z.object({
    run: RunRef,
    outcome: z.enum(['completed', 'rejected', 'failed', 'aborted', 'rolled_back']),
    reason: z.string().optional(),
    error: z.unknown().optional(),
  }),
  loadStepResult: z.object({
    run: RunRef,
    state: z.string().min(1),
    iteration: z.number().int().positive().optional(),
  }),
  grantSandbox: z.object({ run: RunRef }),
  // The delivery loop after the pull request, and the rollback workflow's Lambda steps.
  decideMerge: z.object({ run: RunRef }),
  prepareRelease: z.object({ run: RunRef }),
  deployStaging: z.object({ run: RunRef }),
  rollOutProduction: z.object({ run: RunRef }),
  observeProduction: z.object({ run: RunRef }),
  startRollback: z.object({ run: RunRef }),
  finishRollback: z.object({ run: RunRef }),
  redeploy: z.object({ run: RunRef }),
  confirmRecovery: z.object({ run: RunRef }),
  fileFixForward: z.object({ run: RunRef }),
  escalateRollback: z.object({ run: RunRef, reason: z.string().optional(), error: z.unknown().optional() }),
} as const;
export type LambdaStepName = keyof typeof stepInputs;
export const lambdaStepNames = Object.keys(stepInputs) as LambdaStepName[];

type Input<S extends LambdaStepName> = z.infer<(typeof stepInputs)[S]>;
type StepBody<S extends LambdaStepName> = (deps: StepDeps, input: Input<S>) => Promise<StepResult>;
type StepResult = { outcome: 'succeeded' | 'waiting'; output: unknown };

export interface StepHandlerOptions {
  /** The AWS step dependencies, created once per cold start. */
  deps: () => Promise<AwsStepDeps>;
  /** The idempotency table (pk `id`) and, for tests, a client pointed elsewhere. */
  idempotency: { tableName: string; client?: DynamoDBClient };
  /** Resumes a gate that already has its answer when its step runs. */
  tokens: () => SfnTaskTokens;
  /** Issues sandbox grants; default {@link AwsSandboxGrants} from the environment, on first use. */
  grants?: () => SandboxGrants;
  observability: Observability;
}

export type StepHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Runs a step after the kill switches and the budget allow it, as the embedded runtime does. */
const guarded =
  <S extends LambdaStepName>(step: (deps: StepDeps, input: Input<S>) => Promise<unknown>): StepBody<S> =>
  async (deps, input) => {
    await assertRunMayContinue(deps, await journalFor(deps, input.run));
    return { outcome: 'succeeded', output: await step(deps, input) };
  };

/**
 * On AWS the gate's Lambda must not wait: the execution waits on the task token. A gate still pending
 * returns at once; a gate that already has its answer (a redriven execution) resumes its own token.
 */
const gate =
  (tokens: () => SfnTaskTokens): StepBody<'requestApproval'> =>
  async (deps, input) => {
    await assertRunMayContinue(deps, await journalFor(deps, input.run));
    try {
      const decision = await requestApproval(deps, input);
      await tokens().succeed(input.taskToken, decision);
      return { outcome: 'succeeded', output: decision };
    } catch (error) {
      if (error instanceof AwaitingApproval) {
        return { outcome: 'waiting', output: { awaitingApproval: error.approvalId } };
      }
      throw error;
    }
  };

function parseInput<S extends LambdaStepName>(step: S, event: unknown): Input<S> {
  const parsed = stepInputs[step].safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(
      `step ${step} got an input it cannot use: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: JSON.stringify(event)?.slice(0, 200),
        hint: 'the state machine definition and the function disagree; deploy them together',
      },
    );
  }
  return parsed.data as Input<S>;
}

/**
 * Builds every Lambda step's handler: the zod-checked input, then the step from `src/steps/`, wrapped in
 * middy with Powertools logging (the Lambda context), metrics (`StepSucceeded`, `StepWaiting` or
 * `StepFailed` with the `step` dimension, namespace `Gantry`), tracing, and idempotency keyed by
 * {@link STEP_IDEMPOTENCY_KEY}: a repeated invocation returns the stored result without running the step.
 * `grantSandbox` has no idempotency: its output is a credentials grant, never stored nor logged.
 *
 * @example
 * const handlers = createStepHandlers({ deps, idempotency: { tableName: 'gantry-idempotency' }, tokens, observability: observability('steps') });
 * await handlers.checkRequest({ run }, context);
 */
export function createStepHandlers(options: StepHandlerOptions): Record<LambdaStepName, StepHandler> {
  const { logger, metrics, tracer } = options.observability;
  const config = new IdempotencyConfig({
    eventKeyJmesPath: STEP_IDEMPOTENCY_KEY,
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });

  const wrap = <S extends LambdaStepName>(
    step: S,
    body: StepBody<S>,
    { idempotent = true }: { idempotent?: boolean } = {},
  ): StepHandler => {
    const handler = async (event: unknown): Promise<unknown> => {
      metrics.addDimension('step', step);
      try {
        const input = parseInput(step, event);
        // Every component that serves a run uses that run's artifact prefix (runs/<runId>/).
        const deps = lambdaStepDeps(forRun(await options.deps(), input.run.runId));
        // A warm function must see what the sandbox task and other functions recorded since.
        forgetJournals(deps);
        logger.appendKeys({ runId: input.run.runId, traceId: input.run.traceId, step });
        const { outcome, output } = await body(deps, input);
        metrics.addMetric(outcome === 'waiting' ? 'StepWaiting' : 'StepSucceeded', MetricUnit.Count, 1);
        if (step === 'finishRun') await publishRunMetrics(metrics, deps, input.run);
        if (step === 'requestApproval' || step === 'finishRun') await publishPendingApprovals(metrics, deps);
        return output;
      } catch (error) {
        metrics.addMetric('StepFailed', MetricUnit.Count, 1);
        logger.error(`step ${step} failed`, error as Error);
        throw forStepFunctions(error);
      }
    };
    const observed = middy(handler)
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics))
      // The tracer must not record a grant as the handler's response metadata either.
      .use(captureLambdaHandler(tracer, { captureResponse: idempotent }));
    if (!idempotent) return observed as unknown as StepHandler;
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: options.idempotency.tableName,
      ...(options.idempotency.client ? { awsSdkV3Client: options.idempotency.client } : {}),
    });
    return observed.use(
      makeHandlerIdempotent({ persistenceStore, config, keyPrefix: `gantry.${step}` }),
    ) as unknown as StepHandler;
  };
  let grants: SandboxGrants | undefined;
  const grantsOf = () => (grants ??= options.grants?.() ?? AwsSandboxGrants.fromEnvironment(process.env));

  return {
    checkRequest: wrap('checkRequest', guarded(checkRequest)),
    classifyRisk: wrap('classifyRisk', guarded(classifyRisk)),
    createPlan: wrap('createPlan', guarded(createPlan)),
    requestApproval: wrap('requestApproval', gate(options.tokens)),
    // The step that records the end runs whatever the guards say, as in the embedded runtime.
    finishRun: wrap('finishRun', async (deps, input) => ({
      outcome: 'succeeded',
      output: await finishRun(deps, input),
    })),
    loadStepResult: wrap('loadStepResult', async (deps, input) => ({
      outcome: 'succeeded',
      output: await loadStepResult(deps, input),
    })),
    // No idempotency: its output (a credentials grant, ciphertext) must never be stored in the
    // idempotency table, and a repeated invocation needs a fresh grant anyway. Nothing logs the output.
    grantSandbox: wrap(
      'grantSandbox',
      guarded((_deps, input) => grantSandbox(grantsOf(), input)),
      {
        idempotent: false,
      },
    ),
    decideMerge: wrap('decideMerge', guarded(decideMerge)),
    prepareRelease: wrap('prepareRelease', guarded(prepareRelease)),
    deployStaging: wrap('deployStaging', guarded(deployStaging)),
    rollOutProduction: wrap('rollOutProduction', guarded(rollOutProduction)),
    observeProduction: wrap('observeProduction', guarded(observeProduction)),
    startRollback: wrap('startRollback', guarded(startRollback)),
    redeploy: wrap('redeploy', guarded(redeploy)),
    confirmRecovery: wrap('confirmRecovery', guarded(confirmRecovery)),
    fileFixForward: wrap('fileFixForward', guarded(fileFixForward)),
    // These two record how a rollback ended, so they run whatever the guards say (as finishRun does).
    finishRollback: wrap('finishRollback', async (deps, input) => ({
      outcome: 'succeeded',
      output: await finishRollback(deps, input),
    })),
    escalateRollback: wrap('escalateRollback', async (deps, input) => ({
      outcome: 'succeeded',
      output: await escalateRollback(deps, input),
    })),
  };
}

/**
 * The Lambda-side steps of the issue resolver: one file, one export per step. The infrastructure
 * deploys one function per export (see `entries.ts`), so each step has its own role, timeout, logs and
 * idempotency key prefix, while sharing one bundle.
 *
 * Environment: everything `createAwsStepDeps` reads (src/adapters/aws/aws-runtime.ts), plus
 * `GANTRY_IDEMPOTENCY_TABLE` (pk `id` (S), TTL attribute `expiration`); `grantSandbox` also reads
 * `GANTRY_SANDBOX_RUN_ROLE_ARN` and `GANTRY_GRANT_KEY_ARN`; the delivery steps read `GANTRY_PIPELINES`.
 */
import { createAwsStepDeps } from '../src/adapters/aws/aws-runtime.js';
import { SfnTaskTokens } from '../src/adapters/aws/sfn-approvals.js';
import { InvalidInputError } from '../src/domain/errors.js';
import { observability, once } from './lambda-runtime.js';
import { createStepHandlers, type LambdaStepName, type StepHandler } from './step-handlers.js';

// Created on first use, not at import: importing this module (tests, bundling checks) needs no environment.
let handlers: Record<LambdaStepName, StepHandler> | undefined;

function handlersFromEnvironment(): Record<LambdaStepName, StepHandler> {
  if (handlers) return handlers;
  const tableName = process.env.GANTRY_IDEMPOTENCY_TABLE;
  if (!tableName) {
    throw new InvalidInputError('GANTRY_IDEMPOTENCY_TABLE is not set', {
      input: 'GANTRY_IDEMPOTENCY_TABLE',
      hint: 'link the idempotency table to the step functions (infra/)',
    });
  }
  const tokens = new SfnTaskTokens();
  handlers = createStepHandlers({
    deps: once(() => createAwsStepDeps(process.env)),
    idempotency: { tableName },
    tokens: () => tokens,
    observability: observability('gantry-steps'),
  });
  return handlers;
}

const entry =
  (step: LambdaStepName): StepHandler =>
  (event, context) =>
    handlersFromEnvironment()[step](event, context);

export const checkRequest = entry('checkRequest');
export const classifyRisk = entry('classifyRisk');
export const createPlan = entry('createPlan');
export const requestApproval = entry('requestApproval');
export const finishRun = entry('finishRun');
export const loadStepResult = entry('loadStepResult');
export const grantSandbox = entry('grantSandbox');
export const decideMerge = entry('decideMerge');
export const prepareRelease = entry('prepareRelease');
export const deployStaging = entry('deployStaging');
export const rollOutProduction = entry('rollOutProduction');
export const observeProduction = entry('observeProduction');
export const startRollback = entry('startRollback');
export const finishRollback = entry('finishRollback');
export const redeploy = entry('redeploy');
export const confirmRecovery = entry('confirmRecovery');
export const fileFixForward = entry('fileFixForward');
export const escalateRollback = entry('escalateRollback');

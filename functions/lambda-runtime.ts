import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { type AwsStepDeps, bedrockModelFor, deliveryWith } from '../src/adapters/aws/aws-runtime.js';
import { GantryError, SandboxError } from '../src/domain/errors.js';
import type { Sandbox } from '../src/ports/sandbox.js';
import type { StepDeps } from '../src/steps/step-deps.js';

/** Powertools instances of one function: logs, metrics (namespace `Gantry`) and traces. */
export interface Observability {
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
}

/**
 * The function's Powertools instances, created once per cold start.
 *
 * @example
 * const { logger, metrics, tracer } = observability('steps');
 */
export function observability(serviceName: string): Observability {
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ namespace: 'Gantry', serviceName }),
    tracer: new Tracer({ serviceName }),
  };
}

/**
 * Lambda steps never run commands: they have no workspace. A step that tried would be a bug, so it is
 * told so. The port's `kind` union has no value for "none"; no step reads `kind`.
 */
const noSandbox = {
  kind: 'none',
  workspaceMount: '/nonexistent',
  run: async () => {
    throw new SandboxError('Lambda steps have no sandbox: workspace steps run in the sandbox task', {
      hint: 'this step belongs in the sandbox task (containers/sandbox); see docs/aws.md',
    });
  },
} as unknown as Sandbox;

/**
 * The complete step dependencies a Lambda step gets: the AWS adapters, the stage's default model (for
 * actor names; Lambda steps do not call it), no sandbox, and — when the stage names its pipelines — the
 * delivery ports. Their merge queue has no sandbox either: mergeChange runs in the sandbox task.
 *
 * @example
 * const deps = lambdaStepDeps(await createAwsStepDeps());
 */
export function lambdaStepDeps(aws: AwsStepDeps): StepDeps {
  const { delivery: _delivery, ...rest } = aws;
  const delivery = deliveryWith(aws, noSandbox, join(tmpdir(), 'gantry-merge-queue'));
  return {
    ...rest,
    model: bedrockModelFor(aws.config),
    sandbox: noSandbox,
    ...(delivery ? { delivery } : {}),
  };
}

/** Memoises a promise-returning factory, and forgets a rejection so the next invocation tries again. */
export function once<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * Step Functions keeps a Lambda error's name and message; the message must carry what to do as well,
 * as the local executor's does.
 */
export function forStepFunctions(error: unknown): unknown {
  if (!(error instanceof GantryError)) return error;
  const described = new Error(error.describe().replace(/\n\s*/g, '; '), { cause: error });
  described.name = error.name;
  return described;
}

import '../runtime-polyfills.js';
import { StateMachine } from 'aws-local-stepfunctions';
import { GantryError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import { AwaitingApproval } from '../steps/request-approval.js';
import type { StateMachineDefinition } from './asl.js';
import {
  type IssueResolverStep,
  localResources,
  SANDBOX_ENV,
  type StepResources,
  type TaskKind,
  taskSteps,
} from './issue-resolver.js';
import { readStepOutput, recordStepOutput, stepKey } from './step-journal.js';

export type StepHandler = (input: Record<string, unknown>) => Promise<unknown>;

export type ExecutionOutcome =
  | { status: 'succeeded'; output: unknown }
  | { status: 'failed'; error: string; cause: string }
  | { status: 'waiting'; approvalId: string };

/**
 * Runs a definition with aws-local-stepfunctions, every Task state calling its step in-process.
 * Each finished step is journaled (`step.completed` with its output, inline or stored by hash), so running the
 * execution again after a crash or an approval replays finished steps from the log and continues.
 */
export async function executeLocally(options: {
  definition: StateMachineDefinition;
  handlers: Record<IssueResolverStep, StepHandler>;
  input: Record<string, unknown>;
  journal: RunJournal;
  artifacts: ArtifactStore;
  resources?: StepResources;
}): Promise<ExecutionOutcome> {
  const { journal, artifacts } = options;
  let waitingFor: string | undefined;
  let abort: () => void = () => {};

  const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const task of taskSteps(options.definition, options.resources ?? localResources)) {
    const handler = options.handlers[task.step];
    overrides[task.state] = async (raw) => {
      const input = stepInput(task.kind, raw);
      // loadStepResult only reads the journal: journaling it too would record the same output twice.
      // A sandbox grant is issued afresh for every task (it expires), so it is never replayed either;
      // the in-process sandbox steps ignore it (GANTRY_RUN_GRANT is read by the AWS sandbox task only).
      if (task.step === 'loadStepResult' || task.step === 'grantSandbox') return handler(input);
      const key = stepKey(task.state, input.iteration);
      const done = await readStepOutput(journal, artifacts, key);
      if (done) return done.output;
      try {
        const output = await handler(input);
        await recordStepOutput(journal, artifacts, key, task.state, task.step, output);
        return output;
      } catch (error) {
        if (error instanceof AwaitingApproval) {
          // Pause: the execution stops after this state, and settling the task clears its timeout timer.
          waitingFor = error.approvalId;
          abort();
          return { awaitingApproval: error.approvalId };
        }
        // Step Functions keeps an error's name and message; the message must carry what to do as well.
        if (error instanceof GantryError) {
          const described = new Error(error.describe().replace(/\n\s*/g, '; '));
          described.name = error.name;
          throw described;
        }
        throw error;
      }
    };
  }

  const machine = new StateMachine(options.definition as never, { validationOptions: { checkArn: false } });
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: overrides as never },
    noThrowOnAbort: true,
    context: {
      Task: { Token: `local:${journal.runId}` },
      Execution: { Id: `arn:aws:states:local:000000000000:execution:gantry:${journal.runId}` },
    },
  });
  abort = execution.abort;
  try {
    const output = await execution.result;
    if (waitingFor) return { status: 'waiting', approvalId: waitingFor };
    return { status: 'succeeded', output };
  } catch (error) {
    const failure = error as { name?: string; message?: string; cause?: { Error?: string; Cause?: string } };
    return {
      status: 'failed',
      error: failure.cause?.Error ?? failure.name ?? 'Error',
      cause: failure.cause?.Cause ?? failure.message ?? String(error),
    };
  }
}

/**
 * What a Task state hands its step: the Lambda payload, the payload of a token task, or the JSON the
 * sandbox task receives in its container environment.
 */
function stepInput(kind: TaskKind, raw: unknown): Record<string, unknown> {
  if (kind === 'token') return (raw as { Payload: Record<string, unknown> }).Payload;
  if (kind === 'execution') return (raw as { Input: Record<string, unknown> }).Input;
  if (kind === 'sandbox') {
    const environment =
      (raw as { Overrides: { ContainerOverrides: { Environment: { Name: string; Value: string }[] }[] } })
        .Overrides.ContainerOverrides[0]?.Environment ?? [];
    const json = environment.find((e) => e.Name === SANDBOX_ENV.input)?.Value;
    if (!json) throw new Error(`the sandbox task has no ${SANDBOX_ENV.input} in its container environment`);
    try {
      return JSON.parse(json) as Record<string, unknown>;
    } catch (error) {
      // aws-local-stepfunctions' States.JsonToString does not escape quotes: inputs must carry no free text.
      throw new Error(
        `the sandbox task's ${SANDBOX_ENV.input} is not valid JSON (${(error as Error).message}): ${json.slice(0, 200)}`,
      );
    }
  }
  return raw as Record<string, unknown>;
}

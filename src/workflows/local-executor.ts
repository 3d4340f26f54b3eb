import '../runtime-polyfills.js';
import { StateMachine } from 'aws-local-stepfunctions';
import { GantryError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import { AwaitingApproval } from '../steps/request-approval.js';
import type { StateMachineDefinition } from './asl.js';
import {
  type FunctionArnResolver,
  type IssueResolverStep,
  localFunctionArn,
  taskSteps,
} from './issue-resolver.js';

/** Step outputs up to this size (JSON characters) sit in their event; larger ones are artifacts. */
const INLINE_OUTPUT_LIMIT = 4096;

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
  arn?: FunctionArnResolver;
}): Promise<ExecutionOutcome> {
  const { journal, artifacts } = options;
  let waitingFor: string | undefined;
  let abort: () => void = () => {};

  const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const task of taskSteps(options.definition, options.arn ?? localFunctionArn)) {
    const handler = options.handlers[task.step];
    overrides[task.state] = async (raw) => {
      // A .waitForTaskToken task receives the Lambda-invoke parameters; its step reads the payload.
      const input = (
        task.waitsForToken ? (raw as { Payload: Record<string, unknown> }).Payload : raw
      ) as Record<string, unknown>;
      const key = `step:${task.state}${typeof input.iteration === 'number' ? `#${input.iteration}` : ''}`;
      const done = journal.find(key, 'step.completed');
      if (done)
        return done.data.output ? JSON.parse(await artifacts.getText(done.data.output)) : done.data.value;
      try {
        const output = await handler(input);
        const json = JSON.stringify(output ?? null);
        const data =
          json.length <= INLINE_OUTPUT_LIMIT
            ? { step: task.state, value: output ?? null }
            : { step: task.state, output: await artifacts.put(json, 'application/json') };
        await journal.record(key, 'step.completed', { kind: 'step', id: task.step }, data);
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
    context: { Task: { Token: `local:${journal.runId}` } },
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

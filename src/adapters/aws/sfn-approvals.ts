import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { GantryError } from '../../domain/errors.js';

/** Step Functions limits: error names to 256 characters, causes to 32 768. */
const MAX_ERROR_CHARS = 256;
const MAX_CAUSE_CHARS = 32_768;

/**
 * Resumes executions waiting on a `.waitForTaskToken` gate: a decided approval sends its token
 * `SendTaskSuccess` with the gate's output, a gate that cannot be answered sends `SendTaskFailure`.
 *
 * @example
 * const tokens = new SfnTaskTokens(new SFNClient({}));
 * await tokens.succeed(approval.taskToken, { decision: 'approved', by: 'sam', reason: '' });
 */
export class SfnTaskTokens {
  constructor(private readonly client: SFNClient = new SFNClient({})) {}

  /** Resumes the execution with `output` as the gate task's result. */
  async succeed(token: string, output: unknown): Promise<void> {
    await this.send(
      token,
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output ?? null) }),
    );
  }

  /** Fails the gate task with an error name the workflow's Catch sees, and a cause a person reads. */
  async fail(token: string, error: string, cause: string): Promise<void> {
    await this.send(
      token,
      new SendTaskFailureCommand({
        taskToken: token,
        error: error.slice(0, MAX_ERROR_CHARS),
        cause: cause.slice(0, MAX_CAUSE_CHARS),
      }),
    );
  }

  private async send(token: string, command: SendTaskSuccessCommand | SendTaskFailureCommand): Promise<void> {
    try {
      await this.client.send(command as SendTaskSuccessCommand);
    } catch (error) {
      if (error instanceof TaskDoesNotExist || error instanceof TaskTimedOut) {
        throw new GantryError('the execution is no longer waiting on this approval', {
          input: `${token.slice(0, 16)}...`,
          hint: 'the gate timed out or the execution ended; see the run with `gantry show`',
          cause: error,
        });
      }
      throw error;
    }
  }
}

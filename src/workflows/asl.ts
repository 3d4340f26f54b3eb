/**
 * The subset of Amazon States Language (JSONPath) Gantry writes, typed so a definition that
 * names a missing state or a misspelt field does not compile.
 */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
}
export interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface Transition {
  Next?: string;
  End?: true;
}
export interface TaskState extends Transition {
  Type: 'Task';
  Comment?: string;
  Resource: string;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  HeartbeatSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
}
export interface PassState extends Transition {
  Type: 'Pass';
  Comment?: string;
  Parameters?: Record<string, unknown>;
  Result?: unknown;
  ResultPath?: string | null;
}
export interface ChoiceRule {
  Variable: string;
  BooleanEquals?: boolean;
  StringEquals?: string;
  NumericLessThanPath?: string;
  NumericGreaterThanEquals?: number;
  IsPresent?: boolean;
  Next: string;
}
export interface ChoiceState {
  Type: 'Choice';
  Comment?: string;
  Choices: ChoiceRule[];
  Default?: string;
}
export interface SucceedState {
  Type: 'Succeed';
  Comment?: string;
}
export interface FailState {
  Type: 'Fail';
  Comment?: string;
  Error?: string;
  Cause?: string;
  ErrorPath?: string;
  CausePath?: string;
}
export type State = TaskState | PassState | ChoiceState | SucceedState | FailState;

export interface StateMachineDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

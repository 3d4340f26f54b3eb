import type { RunEvent } from '../domain/events.js';
import type { RunState } from '../domain/run.js';
import type { State, StateMachineDefinition, TaskState } from '../workflows/asl.js';
import { issueResolverSteps, workspaceSteps } from '../workflows/issue-resolver.js';
import { workflowFor } from '../workflows/rollback.js';

/**
 * Steps that run in the sandbox's Fargate task on AWS (docs/aws.md): they need the run's workspace and
 * run the repository's code. The rest run as Lambda functions.
 */
export const sandboxSteps: ReadonlySet<string> = new Set(workspaceSteps);

/**
 * A Task that starts another state machine's execution (`states:startExecution`, the nested rollback):
 * one state transition of this execution, no Lambda or task of its own. The child run has its own log
 * and is priced on its own.
 */
const isNestedExecution = (state: TaskState) =>
  state.Resource.startsWith('arn:aws:states:::states:startExecution');

/**
 * The workflow a run executes, as the runtimes choose it: a rollback run (capability `rollback`, for an
 * incident) runs the rollback workflow, every other run the issue resolver.
 *
 * @example
 * const path = walkExecution(workflowDefinitionFor(events), events);
 */
export function workflowDefinitionFor(events: readonly RunEvent[]): StateMachineDefinition {
  const received = events.find((e) => e.type === 'request.received');
  return workflowFor(received?.type === 'request.received' ? received.data.request : undefined);
}

/** Where a Task state's step runs on AWS, and whether Step Functions waits for a task token. */
export type TaskCompute = 'lambda' | 'token' | 'fargate';

/** A finished step as the run's log records it (`step.completed`). */
export interface RecordedStep {
  /** The state that ran it, e.g. `Patch` or `RunPatch`. */
  state: string;
  /** The step, e.g. `patch`. */
  step: string;
  event: Extract<RunEvent, { type: 'step.completed' }>;
}

/** One state the execution entered: each is one Step Functions state transition. */
export interface VisitedState {
  state: string;
  type: State['Type'];
  /** For Task states: the step it calls and where that step runs. */
  task?: { step: string; compute: TaskCompute; timeoutSeconds?: number };
  /** The log's record of this Task's step; absent for a task the log does not journal (loadStepResult). */
  recorded?: RecordedStep;
}

export interface ExecutionPath {
  states: VisitedState[];
  /** Why parts of the path are approximations, when the log and the definition disagree. */
  notes: string[];
}

const terminalTypeOf: Partial<Record<RunState, { type: 'Succeed' | 'Fail'; name: string }>> = {
  completed: { type: 'Succeed', name: 'Completed' },
  rejected: { type: 'Succeed', name: 'Rejected' },
  failed: { type: 'Fail', name: 'Failed' },
  aborted: { type: 'Fail', name: 'Failed' },
  rolled_back: { type: 'Succeed', name: 'RolledBack' },
};

/**
 * The step a Task state calls, and where it runs; `undefined` for a resource that is no Gantry step (a
 * nested execution included: it is priced as the state transition it is). Lambda functions are named
 * `<prefix>-<step>`, and a step this module does not know is priced as a Lambda; a sandbox task names its
 * step in its container environment.
 */
export function taskTargetOf(state: TaskState): { step: string; compute: TaskCompute } | undefined {
  if (isNestedExecution(state)) return undefined;
  if (state.Resource.includes(':ecs:runTask')) {
    const overrides = (
      state.Parameters as { Overrides?: { ContainerOverrides?: { Environment?: unknown[] }[] } }
    )?.Overrides?.ContainerOverrides;
    const environment = (overrides ?? []).flatMap(
      (o) => (o.Environment ?? []) as { Name?: string; Value?: string }[],
    );
    const step =
      environment.find((e) => e.Name === 'GANTRY_STEP')?.Value ??
      environment
        .map((e) => e.Value)
        .find((v) => (issueResolverSteps as readonly (string | undefined)[]).includes(v));
    return step ? { step, compute: 'fargate' } : undefined;
  }
  const token = state.Resource.endsWith('.waitForTaskToken');
  const viaIntegration = state.Resource.startsWith('arn:aws:states:::lambda:invoke');
  const functionArn = viaIntegration
    ? String((state.Parameters as { FunctionName?: string } | undefined)?.FunctionName ?? '')
    : state.Resource;
  if (!functionArn.includes(':function:')) return undefined;
  const step = functionArn.split(':function:')[1]?.split(':')[0]?.split('-').at(-1);
  if (!step) return undefined;
  return { step, compute: token ? 'token' : sandboxSteps.has(step) ? 'fargate' : 'lambda' };
}

/** The finished steps of a run, in the order its log recorded them. */
export function recordedSteps(events: readonly RunEvent[]): RecordedStep[] {
  return events
    .filter((e): e is Extract<RunEvent, { type: 'step.completed' }> => e.type === 'step.completed')
    .map((event) => ({ state: event.data.step, step: event.actor.id, event }));
}

/**
 * The states an execution of `definition` entered to produce the run's log: from the start, along the
 * shortest route through Choice and Pass states (and Task states the log never journals) to each
 * recorded step in turn, then on to the terminal state of the run's final state. Choices are decided
 * by where the next recorded step is, so the path is what Step Functions would have counted.
 *
 * @example
 * const path = walkExecution(buildIssueResolver(), await gantry.log.read(runId));
 * path.states.length // the run's state transitions
 */
export function walkExecution(
  definition: StateMachineDefinition,
  events: readonly RunEvent[],
): ExecutionPath {
  const recorded = recordedSteps(events);
  const journaledSteps = new Set(recorded.map((r) => r.step));
  const journaledStates = new Set(recorded.map((r) => r.state));
  const states: VisitedState[] = [];
  const notes: string[] = [];
  let cursor: string | undefined;

  const visit = (name: string, record?: RecordedStep) => {
    const state = definition.States[name] as State;
    const target = state.Type === 'Task' ? taskTargetOf(state) : undefined;
    states.push({
      state: name,
      type: state.Type,
      ...(target && {
        task: { ...target, ...(state.Type === 'Task' && { timeoutSeconds: state.TimeoutSeconds }) },
      }),
      ...(record && { recorded: record }),
    });
  };
  // How the execution may pass a state the log does not show: decisions and Pass states lead on;
  // a task whose step the log never journals (loadStepResult) ran and led on; any other task the log
  // does not show at this point must have failed, so only its Catch leads on.
  const passage = (name: string): Passage => {
    const state = definition.States[name];
    if (!state) return 'none';
    if (state.Type === 'Choice' || state.Type === 'Pass') return 'all';
    if (state.Type !== 'Task') return 'none';
    // A nested execution journals nothing in this run's log; when it fails, its Catch leads on as well.
    if (isNestedExecution(state)) return journaledStates.has(name) ? 'catch' : 'all';
    const target = taskTargetOf(state);
    return target !== undefined && !journaledSteps.has(target.step) ? 'all' : 'catch';
  };

  for (const record of recorded) {
    const matches = (name: string) => {
      const state = definition.States[name];
      if (state?.Type !== 'Task') return false;
      if (name === record.state) return true;
      // A log recorded under an older shape of the definition names the state that ran the step then.
      return definition.States[record.state]?.Type !== 'Task' && taskTargetOf(state)?.step === record.step;
    };
    const found = shortestRoute(definition, cursor, matches, passage);
    if (!found) {
      notes.push(
        `step ${record.step} (state ${record.state}) is not reachable in the definition from ${cursor ?? 'the start'}: counted as one Task state`,
      );
      if (definition.States[record.state]?.Type === 'Task') {
        visit(record.state, record);
        cursor = record.state;
      } else {
        states.push({ state: record.state, type: 'Task', recorded: record });
      }
      continue;
    }
    const { route, failedAt } = found;
    if (failedAt) notes.push(failureNote(failedAt, route.at(-1) as string));
    for (const name of route.slice(0, -1)) visit(name);
    visit(route.at(-1) as string, record);
    cursor = route.at(-1);
  }

  const final = events.filter((e) => e.type === 'run.state').at(-1);
  const terminal = final?.type === 'run.state' ? terminalTypeOf[final.data.state] : undefined;
  if (terminal) {
    const named = definition.States[terminal.name]?.Type === terminal.type;
    const isTerminal = (name: string) =>
      definition.States[name]?.Type === terminal.type && (!named || name === terminal.name);
    const found = shortestRoute(definition, cursor, isTerminal, passage);
    if (found) {
      if (found.failedAt) notes.push(failureNote(found.failedAt, found.route.at(-1) as string));
      for (const name of found.route) visit(name);
    } else {
      notes.push(
        `no route from ${cursor ?? 'the start'} to a ${terminal.type} state: the terminal state is counted once`,
      );
      states.push({ state: terminal.name, type: terminal.type });
    }
  } else if (final?.type === 'run.state') {
    notes.push(`the run is ${final.data.state}, not finished: priced up to its last finished step`);
  }
  return { states, notes };
}

function failureNote(failedAt: string, caughtBy: string): string {
  return `the log does not say which step failed before ${caughtBy}: taken to be ${failedAt}, the nearest on the way`;
}

type Passage = 'all' | 'catch' | 'none';
interface Route {
  name: string;
  cost: number;
  route: string[];
  /** The task whose Catch the route takes, if any. */
  failedAt?: string;
}

/**
 * Shortest route from the state after `from` (a task that succeeded, so its Next; or the start) to a state
 * `isTarget` accepts, through states as `passage` allows. A Catch edge costs more than any normal route,
 * so an error path is taken only when the log leaves no other way.
 */
function shortestRoute(
  definition: StateMachineDefinition,
  from: string | undefined,
  isTarget: (name: string) => boolean,
  passage: (name: string) => Passage,
): { route: string[]; failedAt?: string } | undefined {
  const CATCH_COST = 1_000;
  const start =
    from === undefined ? [{ name: definition.StartAt, cost: 1 }] : edgesOf(definition, from, 'next');
  const best = new Map<string, number>();
  const queue: Route[] = start.map((edge) => ({ name: edge.name, cost: edge.cost, route: [edge.name] }));
  while (queue.length > 0) {
    queue.sort((a, b) => a.cost - b.cost);
    const next = queue.shift() as Route;
    if (isTarget(next.name)) return { route: next.route, failedAt: next.failedAt };
    if ((best.get(next.name) ?? Number.POSITIVE_INFINITY) <= next.cost) continue;
    best.set(next.name, next.cost);
    const allowed = passage(next.name);
    if (allowed === 'none') continue;
    // Which step failed is not in the log: one that never finished anywhere in the run is likelier
    // than one that finished before (a later loop iteration), so its Catch costs less.
    const catchCost = allowed === 'all' ? CATCH_COST : CATCH_COST + CATCH_COST / 2;
    for (const edge of edgesOf(definition, next.name, allowed === 'all' ? 'both' : 'catch')) {
      const cost = next.cost + (edge.viaCatch ? catchCost : 1);
      const failedAt = edge.viaCatch ? next.name : next.failedAt;
      queue.push({ name: edge.name, cost, route: [...next.route, edge.name], failedAt });
    }
  }
  return undefined;
}

function edgesOf(definition: StateMachineDefinition, name: string, which: 'next' | 'catch' | 'both') {
  const state = definition.States[name];
  const edges: { name: string; cost: number; viaCatch: boolean }[] = [];
  if (!state) return edges;
  const normal = which !== 'catch';
  if (state.Type === 'Choice' && normal) {
    for (const choice of state.Choices) edges.push({ name: choice.Next, cost: 1, viaCatch: false });
    if (state.Default) edges.push({ name: state.Default, cost: 1, viaCatch: false });
  } else if (state.Type === 'Task' || state.Type === 'Pass') {
    if (state.Next && normal) edges.push({ name: state.Next, cost: 1, viaCatch: false });
    if (state.Type === 'Task' && which !== 'next') {
      for (const c of state.Catch ?? []) edges.push({ name: c.Next, cost: 1, viaCatch: true });
    }
  }
  return edges;
}

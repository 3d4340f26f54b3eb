import type { Catcher, State, StateMachineDefinition, TaskState } from './asl.js';

/** The steps the issue resolver invokes; each is a Lambda on AWS and an in-process function locally. */
export const issueResolverSteps = [
  'checkRequest',
  'classifyRisk',
  'mapRepository',
  'createPlan',
  'requestApproval',
  'reproduce',
  'patch',
  'verify',
  'assembleEvidence',
  'openPullRequest',
  'finishRun',
] as const;
export type IssueResolverStep = (typeof issueResolverSteps)[number];

/** Returns the ARN of a step's function: real ARNs on AWS, placeholders locally. */
export type FunctionArnResolver = (step: IssueResolverStep) => string;

export const localFunctionArn: FunctionArnResolver = (step) =>
  `arn:aws:lambda:us-east-1:000000000000:function:gantry-${step}`;

/** Error name a step throws for a run that must fail with a reason rather than crash. */
export const RUN_HALTED = 'Gantry.RunHalted';

const onFailure: Catcher[] = [{ ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' }];
const run = { 'run.$': '$.run' };

/**
 * How long each step may take. Agent phases and test runs get a Lambda's 15 minutes; the rest are quick.
 * Without an explicit value Step Functions would wait for years and the local engine only 60 s.
 */
const stepTimeoutSeconds: Record<IssueResolverStep, number> = {
  checkRequest: 60,
  classifyRisk: 60,
  mapRepository: 600,
  createPlan: 60,
  requestApproval: 60,
  reproduce: 900,
  patch: 900,
  verify: 900,
  assembleEvidence: 120,
  openPullRequest: 120,
  finishRun: 60,
};

function step(
  arn: FunctionArnResolver,
  name: IssueResolverStep,
  fields: Omit<TaskState, 'Type' | 'Resource'>,
): TaskState {
  return {
    Type: 'Task',
    Resource: arn(name),
    TimeoutSeconds: stepTimeoutSeconds[name],
    Catch: onFailure,
    ...fields,
  };
}

/**
 * A gate: a Choice that skips it when the risk does not ask for it, the `.waitForTaskToken` task whose
 * token a person's answer resumes, and a Choice on the answer. A rejection, or no answer before the
 * deadline, ends the run as rejected with the reason.
 */
function gate(
  arn: FunctionArnResolver,
  options: { name: string; kind: string; requiredWhen: string; next: string; timeoutSeconds: number },
): Record<string, State> {
  const { name, kind, requiredWhen, next } = options;
  const result = `$.approvals.${kind.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}`;
  return {
    [`${name}Required?`]: {
      Type: 'Choice',
      Choices: [{ Variable: requiredWhen, BooleanEquals: true, Next: `Await${name}` }],
      Default: next,
    },
    [`Await${name}`]: {
      Type: 'Task',
      Comment: `Gate (${kind}): the execution waits until a person answers; the task token resumes it.`,
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: arn('requestApproval'),
        Payload: { ...run, kind, state: `Await${name}`, 'taskToken.$': '$$.Task.Token' },
      },
      ResultPath: result,
      TimeoutSeconds: options.timeoutSeconds,
      Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'RecordExpiry', ResultPath: '$.error' }, ...onFailure],
      Next: `${name}Granted?`,
    },
    [`${name}Granted?`]: {
      Type: 'Choice',
      Choices: [{ Variable: `${result}.decision`, StringEquals: 'approved', Next: next }],
      Default: `Record${name}Refusal`,
    },
    [`Record${name}Refusal`]: step(arn, 'finishRun', {
      Parameters: { ...run, outcome: 'rejected', 'reason.$': `${result}.reason` },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
  };
}

const DAY = 24 * 3600;

/**
 * The issue-resolver lifecycle in Amazon States Language (JSONPath). The same definition is deployed to
 * Step Functions and run locally by aws-local-stepfunctions; the workflow only decides, steps do the I/O.
 *
 * It cannot reach `Completed` without passing `EvidenceComplete?`, and `finishRun` checks the packet again.
 *
 * @example
 * const definition = buildIssueResolver(localFunctionArn);
 * new StateMachine(definition).run({ run: { runId, traceId } });
 */
export function buildIssueResolver(arn: FunctionArnResolver = localFunctionArn): StateMachineDefinition {
  const states: Record<string, State> = {
    CheckRequest: step(arn, 'checkRequest', {
      Parameters: run,
      ResultPath: '$.check',
      Next: 'RequestAccepted?',
    }),
    'RequestAccepted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.accepted', BooleanEquals: true, Next: 'ClassifyRisk' }],
      Default: 'RecordRejection',
    },
    RecordRejection: step(arn, 'finishRun', {
      Parameters: { ...run, outcome: 'rejected', 'reason.$': '$.check.reason' },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
    ClassifyRisk: step(arn, 'classifyRisk', {
      Parameters: run,
      ResultPath: '$.risk',
      Next: 'AutonomyAllowsChange?',
    }),
    'AutonomyAllowsChange?': {
      Type: 'Choice',
      Comment: 'At autonomy tier 0 (advisory) Gantry may not change code: the run ends with its reason.',
      Choices: [{ Variable: '$.risk.autonomyTier', NumericGreaterThanEquals: 1, Next: 'MapRepository' }],
      Default: 'RecordAdvisoryOnly',
    },
    RecordAdvisoryOnly: step(arn, 'finishRun', {
      Parameters: { ...run, outcome: 'rejected', 'reason.$': '$.risk.autonomyReason' },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
    MapRepository: step(arn, 'mapRepository', { Parameters: run, ResultPath: '$.repo', Next: 'CreatePlan' }),
    CreatePlan: step(arn, 'createPlan', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.plan',
      Next: 'PlanApprovalRequired?',
    }),
    ...gate(arn, {
      name: 'PlanApproval',
      kind: 'plan',
      requiredWhen: '$.risk.approvals.plan',
      next: 'StartPatchLoop',
      timeoutSeconds: 3 * DAY,
    }),
    StartPatchLoop: {
      Type: 'Pass',
      Comment: 'The patch/verify loop starts at iteration 1 with no feedback.',
      Result: { iteration: 1, feedback: '', passed: false, exhausted: false },
      ResultPath: '$.loop',
      Next: 'Reproduce',
    },
    Reproduce: step(arn, 'reproduce', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.agent',
      Next: 'Patch',
    }),
    Patch: step(arn, 'patch', {
      Parameters: {
        ...run,
        'repo.$': '$.repo',
        'iteration.$': '$.loop.iteration',
        'feedback.$': '$.loop.feedback',
        'agent.$': '$.agent',
      },
      ResultPath: '$.agent',
      Next: 'Verify',
    }),
    Verify: step(arn, 'verify', {
      Parameters: {
        ...run,
        'repo.$': '$.repo',
        'iteration.$': '$.loop.iteration',
        'maxIterations.$': '$.plan.maxPatchIterations',
      },
      ResultPath: '$.loop',
      Next: 'VerifyPassed?',
    }),
    'VerifyPassed?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.loop.passed', BooleanEquals: true, Next: 'AssembleEvidence' },
        { Variable: '$.loop.exhausted', BooleanEquals: true, Next: 'RecordExhaustion' },
      ],
      Default: 'Patch',
    },
    RecordExhaustion: step(arn, 'finishRun', {
      Parameters: {
        ...run,
        outcome: 'failed',
        reason: 'the patch still fails verification after the last allowed iteration',
      },
      ResultPath: '$.outcome',
      Next: 'Failed',
    }),
    AssembleEvidence: step(arn, 'assembleEvidence', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.evidence',
      Next: 'EvidenceComplete?',
    }),
    'EvidenceComplete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.evidence.complete', BooleanEquals: true, Next: 'CodeOwnerApprovalRequired?' }],
      Default: 'RecordIncompleteEvidence',
    },
    ...gate(arn, {
      name: 'CodeOwnerApproval',
      kind: 'code-owner',
      requiredWhen: '$.risk.approvals.codeOwner',
      next: 'SecurityOwnerApprovalRequired?',
      timeoutSeconds: 3 * DAY,
    }),
    ...gate(arn, {
      name: 'SecurityOwnerApproval',
      kind: 'security-owner',
      requiredWhen: '$.risk.approvals.securityOwner',
      next: 'DomainOwnerApprovalRequired?',
      timeoutSeconds: 3 * DAY,
    }),
    ...gate(arn, {
      name: 'DomainOwnerApproval',
      kind: 'domain-owner',
      requiredWhen: '$.risk.approvals.domainOwner',
      next: 'OpenPullRequest',
      timeoutSeconds: 3 * DAY,
    }),
    RecordIncompleteEvidence: step(arn, 'finishRun', {
      Parameters: { ...run, outcome: 'failed', 'reason.$': '$.evidence.reason' },
      ResultPath: '$.outcome',
      Next: 'Failed',
    }),
    OpenPullRequest: step(arn, 'openPullRequest', {
      Parameters: { ...run, 'repo.$': '$.repo', 'evidence.$': '$.evidence' },
      ResultPath: '$.pr',
      Next: 'CompleteRun',
    }),
    CompleteRun: step(arn, 'finishRun', {
      Parameters: { ...run, outcome: 'completed', 'pr.$': '$.pr' },
      ResultPath: '$.outcome',
      Next: 'Completed',
    }),
    RecordExpiry: step(arn, 'finishRun', {
      Comment: 'Nobody answered a gate before its deadline: the run ends rejected, saying so.',
      Parameters: {
        ...run,
        outcome: 'rejected',
        reason: 'an approval gate expired before anyone answered it',
      },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
    RecordFailure: {
      Type: 'Task',
      Comment: 'Any step error ends the run as failed, with the error recorded as its reason.',
      Resource: arn('finishRun'),
      TimeoutSeconds: stepTimeoutSeconds.finishRun,
      Parameters: { ...run, outcome: 'failed', 'error.$': '$.error' },
      ResultPath: '$.outcome',
      Next: 'Failed',
    },
    Completed: { Type: 'Succeed' },
    Rejected: { Type: 'Succeed', Comment: 'A rejected request is a finished run, not a failed execution.' },
    Failed: {
      Type: 'Fail',
      Error: 'Gantry.RunFailed',
      Cause: 'the run failed; its reason is the last event of its log',
    },
  };
  return {
    Comment: 'Gantry issue resolver: intake to an evidenced pull request.',
    StartAt: 'CheckRequest',
    TimeoutSeconds: 8 * 24 * 3600,
    States: states,
  };
}

/** The Task states of a definition with the step each one calls. */
export function taskSteps(definition: StateMachineDefinition, arn: FunctionArnResolver = localFunctionArn) {
  const byArn = new Map(issueResolverSteps.map((s) => [arn(s), s] as const));
  const tasks: { state: string; step: IssueResolverStep; waitsForToken: boolean }[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const waitsForToken = state.Resource.endsWith('.waitForTaskToken');
    const target = waitsForToken
      ? String((state.Parameters as { FunctionName: string }).FunctionName)
      : state.Resource;
    const stepName = byArn.get(target);
    if (!stepName) throw new Error(`state ${name} calls ${target}, which is not a Gantry step`);
    tasks.push({ state: name, step: stepName, waitsForToken });
  }
  return tasks;
}

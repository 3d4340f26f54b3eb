import type { Catcher, State, StateMachineDefinition, TaskState } from './asl.js';

/** The steps the issue resolver invokes; each is a Lambda or a sandbox task on AWS and an in-process function locally. */
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
  'loadStepResult',
  'grantSandbox',
  // The delivery loop after the pull request.
  'reviewPullRequest',
  'decideMerge',
  'mergeChange',
  'prepareRelease',
  'deployStaging',
  'rollOutProduction',
  'observeProduction',
  'startRollback',
  'runRollback',
  'finishRollback',
  // The rollback workflow (src/workflows/rollback.ts).
  'revertChange',
  'openRevertPullRequest',
  'redeploy',
  'confirmRecovery',
  'fileFixForward',
  'escalateRollback',
] as const;
/** Every step Gantry's workflows invoke (the issue resolver and the rollback workflow share them). */
export type IssueResolverStep = (typeof issueResolverSteps)[number];

/**
 * Steps that need the run's workspace and run the repository's code. On AWS each runs as a Fargate task
 * in the sandbox network, started with the ECS `.sync` integration; the task records its output in the
 * run journal and `loadStepResult` brings it back into the execution.
 */
export const workspaceSteps = [
  'mapRepository',
  'reproduce',
  'patch',
  'verify',
  'assembleEvidence',
  'openPullRequest',
  'reviewPullRequest',
  'mergeChange',
  'revertChange',
  'openRevertPullRequest',
] as const;
export type WorkspaceStep = (typeof workspaceSteps)[number];

/**
 * Steps that are another state machine's execution (`states:startExecution.sync:2`): the rollback
 * workflow, started by the issue resolver when its deployment hurts production.
 */
export const executionSteps = ['runRollback'] as const;
export type ExecutionStep = (typeof executionSteps)[number];
export type LambdaStep = Exclude<IssueResolverStep, WorkspaceStep | ExecutionStep>;

/** The Lambda steps: neither sandbox tasks nor nested executions. */
export const lambdaSteps = issueResolverSteps.filter(
  (step): step is LambdaStep =>
    !(workspaceSteps as readonly string[]).includes(step) &&
    !(executionSteps as readonly string[]).includes(step),
);

/** Where the sandbox tasks run: the cluster, task definition and the sandbox network. */
export interface SandboxTaskTarget {
  cluster: string;
  taskDefinition: string;
  container: string;
  subnets: string[];
  securityGroups: string[];
}

/** The AWS resources a definition refers to: real ARNs when deployed, placeholders locally. */
export interface StepResources {
  functionArn: (step: LambdaStep) => string;
  sandboxTask: SandboxTaskTarget;
  /** The rollback state machine the issue resolver starts when a deployment hurts production. */
  rollbackMachineArn: string;
}

/** The nested-execution integration: the parent waits until the child execution ends. */
export const START_EXECUTION_SYNC = 'arn:aws:states:::states:startExecution.sync:2';

export const localResources: StepResources = {
  functionArn: (step) => `arn:aws:lambda:us-east-1:000000000000:function:gantry-${step}`,
  sandboxTask: {
    cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/gantry-local',
    taskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/gantry-sandbox:1',
    container: 'sandbox',
    subnets: ['subnet-local'],
    securityGroups: ['sg-local'],
  },
  rollbackMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:gantry-rollback',
};

/**
 * Container environment variables that carry a sandbox task's step, state and input, and the grant
 * (KMS ciphertext of the run's credentials on AWS) the task's data-plane clients use.
 */
export const SANDBOX_ENV = {
  step: 'GANTRY_STEP',
  state: 'GANTRY_STATE',
  input: 'GANTRY_INPUT',
  grant: 'GANTRY_RUN_GRANT',
} as const;

/** Where the grant state puts the grant; the sandbox task reads `<this>.grant`. */
export const SANDBOX_GRANT_PATH = '$.sandboxGrant';

export const onFailure: Catcher[] = [
  { ErrorEquals: ['States.ALL'], Next: 'RecordFailure', ResultPath: '$.error' },
];
export const run = { 'run.$': '$.run' };

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
  loadStepResult: 60,
  grantSandbox: 30,
  reviewPullRequest: 300,
  decideMerge: 60,
  mergeChange: 900,
  prepareRelease: 120,
  deployStaging: 300,
  rollOutProduction: 900,
  observeProduction: 600,
  startRollback: 60,
  runRollback: 3600,
  finishRollback: 60,
  revertChange: 900,
  openRevertPullRequest: 120,
  redeploy: 300,
  confirmRecovery: 300,
  fileFixForward: 60,
  escalateRollback: 60,
};

export function step(
  res: StepResources,
  name: LambdaStep,
  fields: Omit<TaskState, 'Type' | 'Resource'>,
): TaskState {
  return {
    Type: 'Task',
    Resource: res.functionArn(name),
    TimeoutSeconds: stepTimeoutSeconds[name],
    Catch: onFailure,
    ...fields,
  };
}

/**
 * A workspace step: a Pass state that shapes the step's input, `grantSandbox`, which issues the run's
 * credentials grant (ciphertext only), the sandbox task (`ecs:runTask.sync`) that runs the step with
 * those credentials and journals its output, and `loadStepResult`, which reads that output back.
 * Other states enter through `entry`, the Pass state.
 */
export function workspaceStep(
  res: StepResources,
  name: WorkspaceStep,
  entry: string,
  fields: { Parameters: Record<string, unknown>; ResultPath: string; Next: string },
): Record<string, State> {
  const task = res.sandboxTask;
  const iteration =
    'iteration.$' in fields.Parameters ? { 'iteration.$': fields.Parameters['iteration.$'] } : {};
  return {
    [entry]: {
      Type: 'Pass',
      Comment: `The input of the ${name} step, handed to the sandbox task as JSON.`,
      Parameters: fields.Parameters,
      ResultPath: '$.stepInput',
      Next: `Grant${entry}`,
    },
    [`Grant${entry}`]: step(res, 'grantSandbox', {
      Comment: `Issues the ${name} task's credentials for this run only, encrypted: the history holds ciphertext.`,
      Parameters: run,
      ResultPath: SANDBOX_GRANT_PATH,
      Next: `Run${entry}`,
    }),
    [`Run${entry}`]: {
      Type: 'Task',
      Comment: `Runs ${name} in the sandbox task: no internet, the run's workspace only.`,
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: {
        LaunchType: 'FARGATE',
        Cluster: task.cluster,
        TaskDefinition: task.taskDefinition,
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            Subnets: task.subnets,
            SecurityGroups: task.securityGroups,
            AssignPublicIp: 'DISABLED',
          },
        },
        Overrides: {
          ContainerOverrides: [
            {
              Name: task.container,
              Environment: [
                { Name: SANDBOX_ENV.step, Value: name },
                { Name: SANDBOX_ENV.state, Value: `Run${entry}` },
                { Name: SANDBOX_ENV.input, 'Value.$': 'States.JsonToString($.stepInput)' },
                { Name: SANDBOX_ENV.grant, 'Value.$': `${SANDBOX_GRANT_PATH}.grant` },
              ],
            },
          ],
        },
      },
      ResultPath: null,
      TimeoutSeconds: stepTimeoutSeconds[name],
      Catch: onFailure,
      Next: `${entry}Result`,
    },
    [`${entry}Result`]: step(res, 'loadStepResult', {
      Parameters: { ...run, state: `Run${entry}`, ...iteration },
      ResultPath: fields.ResultPath,
      Next: fields.Next,
    }),
  };
}

/**
 * A gate: a Choice that skips it when the risk does not ask for it, the `.waitForTaskToken` task whose
 * token a person's answer resumes, and a Choice on the answer. A rejection, or no answer before the
 * deadline, ends the run as rejected with the reason.
 */
export function gate(
  res: StepResources,
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
        FunctionName: res.functionArn('requestApproval'),
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
    [`Record${name}Refusal`]: step(res, 'finishRun', {
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
 * const definition = buildIssueResolver(localResources);
 * new StateMachine(definition).run({ run: { runId, traceId } });
 */
export function buildIssueResolver(res: StepResources = localResources): StateMachineDefinition {
  const states: Record<string, State> = {
    CheckRequest: step(res, 'checkRequest', {
      Parameters: run,
      ResultPath: '$.check',
      Next: 'RequestAccepted?',
    }),
    'RequestAccepted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.accepted', BooleanEquals: true, Next: 'ClassifyRisk' }],
      Default: 'RecordRejection',
    },
    RecordRejection: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'rejected', 'reason.$': '$.check.reason' },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
    ClassifyRisk: step(res, 'classifyRisk', {
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
    RecordAdvisoryOnly: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'rejected', 'reason.$': '$.risk.autonomyReason' },
      ResultPath: '$.outcome',
      Next: 'Rejected',
    }),
    ...workspaceStep(res, 'mapRepository', 'MapRepository', {
      Parameters: run,
      ResultPath: '$.repo',
      Next: 'CreatePlan',
    }),
    CreatePlan: step(res, 'createPlan', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.plan',
      Next: 'PlanApprovalRequired?',
    }),
    ...gate(res, {
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
    ...workspaceStep(res, 'reproduce', 'Reproduce', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.agent',
      Next: 'Patch',
    }),
    ...workspaceStep(res, 'patch', 'Patch', {
      Parameters: {
        ...run,
        'repo.$': '$.repo',
        'iteration.$': '$.loop.iteration',
        'agent.$': '$.agent',
      },
      ResultPath: '$.agent',
      Next: 'Verify',
    }),
    ...workspaceStep(res, 'verify', 'Verify', {
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
    RecordExhaustion: step(res, 'finishRun', {
      Parameters: {
        ...run,
        outcome: 'failed',
        reason: 'the patch still fails verification after the last allowed iteration',
      },
      ResultPath: '$.outcome',
      Next: 'Failed',
    }),
    ...workspaceStep(res, 'assembleEvidence', 'AssembleEvidence', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.evidence',
      Next: 'EvidenceComplete?',
    }),
    'EvidenceComplete?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.evidence.complete', BooleanEquals: true, Next: 'CodeOwnerApprovalRequired?' }],
      Default: 'RecordIncompleteEvidence',
    },
    ...gate(res, {
      name: 'CodeOwnerApproval',
      kind: 'code-owner',
      requiredWhen: '$.risk.approvals.codeOwner',
      next: 'SecurityOwnerApprovalRequired?',
      timeoutSeconds: 3 * DAY,
    }),
    ...gate(res, {
      name: 'SecurityOwnerApproval',
      kind: 'security-owner',
      requiredWhen: '$.risk.approvals.securityOwner',
      next: 'DomainOwnerApprovalRequired?',
      timeoutSeconds: 3 * DAY,
    }),
    ...gate(res, {
      name: 'DomainOwnerApproval',
      kind: 'domain-owner',
      requiredWhen: '$.risk.approvals.domainOwner',
      next: 'OpenPullRequest',
      timeoutSeconds: 3 * DAY,
    }),
    RecordIncompleteEvidence: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'failed', 'reason.$': '$.evidence.reason' },
      ResultPath: '$.outcome',
      Next: 'Failed',
    }),
    ...workspaceStep(res, 'openPullRequest', 'OpenPullRequest', {
      // Only what the step needs: free text never travels through a sandbox task's input.
      Parameters: {
        ...run,
        'repo.$': '$.repo',
        evidence: { 'markdown.$': '$.evidence.markdown', 'complete.$': '$.evidence.complete' },
      },
      ResultPath: '$.pr',
      Next: 'ReviewPullRequest',
    }),
    ...deliveryStates(res),
    CompleteRun: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'completed', 'pr.$': '$.pr' },
      ResultPath: '$.outcome',
      Next: 'Completed',
    }),
    RecordExpiry: step(res, 'finishRun', {
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
      Resource: res.functionArn('finishRun'),
      TimeoutSeconds: stepTimeoutSeconds.finishRun,
      Parameters: { ...run, outcome: 'failed', 'error.$': '$.error' },
      ResultPath: '$.outcome',
      Next: 'Failed',
    },
    Completed: { Type: 'Succeed' },
    RolledBack: {
      Type: 'Succeed',
      Comment: 'The change hurt production and was reverted and redeployed: a finished run, audited.',
    },
    Rejected: { Type: 'Succeed', Comment: 'A rejected request is a finished run, not a failed execution.' },
    Failed: {
      Type: 'Fail',
      Error: 'Gantry.RunFailed',
      Cause: 'the run failed; its reason is the last event of its log',
    },
  };
  return {
    Comment:
      'Gantry issue resolver: intake to an evidenced pull request, review, merge queue, staged and progressive deploy, observation, and rollback.',
    StartAt: 'CheckRequest',
    TimeoutSeconds: 8 * 24 * 3600,
    States: states,
  };
}

/** How a Task state reaches its step: a Lambda, a Lambda holding a task token, or a sandbox task. */
export type TaskKind = 'lambda' | 'token' | 'sandbox' | 'execution';

/** The Task states of a definition with the step each one calls; an unknown target is an error. */
export function taskSteps(definition: StateMachineDefinition, res: StepResources = localResources) {
  const byArn = new Map(lambdaSteps.map((s) => [res.functionArn(s), s] as const));
  const tasks: { state: string; step: IssueResolverStep; kind: TaskKind }[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource === 'arn:aws:states:::ecs:runTask.sync') {
      const step = sandboxEnvironmentOf(state)[SANDBOX_ENV.step];
      if (!step || !(workspaceSteps as readonly string[]).includes(step)) {
        throw new Error(
          `state ${name} runs a sandbox task for ${step ?? 'no step'}, which is not a workspace step`,
        );
      }
      tasks.push({ state: name, step: step as WorkspaceStep, kind: 'sandbox' });
      continue;
    }
    if (state.Resource === START_EXECUTION_SYNC) {
      const target = String((state.Parameters as { StateMachineArn?: string }).StateMachineArn);
      if (target !== res.rollbackMachineArn) {
        throw new Error(`state ${name} starts ${target}, which is not a Gantry workflow`);
      }
      tasks.push({ state: name, step: 'runRollback', kind: 'execution' });
      continue;
    }
    const token = state.Resource.endsWith('.waitForTaskToken');
    const target = token
      ? String((state.Parameters as { FunctionName: string }).FunctionName)
      : state.Resource;
    const stepName = byArn.get(target);
    if (!stepName) throw new Error(`state ${name} calls ${target}, which is not a Gantry step`);
    tasks.push({ state: name, step: stepName, kind: token ? 'token' : 'lambda' });
  }
  return tasks;
}

/** The literal container environment of a sandbox task state (values given with `.$` are paths). */
export function sandboxEnvironmentOf(state: TaskState): Record<string, string> {
  const overrides =
    (
      state.Parameters as {
        Overrides?: { ContainerOverrides?: { Environment?: Record<string, string>[] }[] };
      }
    ).Overrides?.ContainerOverrides?.[0]?.Environment ?? [];
  return Object.fromEntries(overrides.flatMap((e) => (e.Name && e.Value ? [[e.Name, e.Value]] : [])));
}

/**
 * The delivery loop after the pull request opens: review, the merge decision (hand-off to people, a
 * merge approval gate, or automatic), the merge queue, the release packet, staging, the progressive
 * production rollout, the observation window, and — when the change hurts production — the rollback
 * workflow as a nested execution. `Completed` after a merge needs a promoted rollout and a healthy
 * observation; `finishRun` checks that again.
 */
function deliveryStates(res: StepResources): Record<string, State> {
  const failWith = (reasonPath: string): TaskState =>
    step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'failed', 'reason.$': reasonPath },
      ResultPath: '$.outcome',
      Next: 'Failed',
    });
  return {
    ...workspaceStep(res, 'reviewPullRequest', 'ReviewPullRequest', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.review',
      Next: 'DecideMerge',
    }),
    DecideMerge: step(res, 'decideMerge', {
      Comment:
        'Merge rules from the contract and policy: risk, autonomy, approvals, checks, evidence, review.',
      Parameters: run,
      ResultPath: '$.merge',
      Next: 'MergeMode?',
    }),
    'MergeMode?': {
      Type: 'Choice',
      Comment: 'A contract that never merges hands the pull request to people; so does a refused merge.',
      Choices: [
        { Variable: '$.merge.mode', StringEquals: 'automatic', Next: 'MergeChange' },
        { Variable: '$.merge.mode', StringEquals: 'approval', Next: 'MergeApprovalRequired?' },
      ],
      Default: 'CompleteRun',
    },
    ...gate(res, {
      name: 'MergeApproval',
      kind: 'merge',
      requiredWhen: '$.merge.approvalRequired',
      next: 'MergeChange',
      timeoutSeconds: 3 * DAY,
    }),
    ...workspaceStep(res, 'mergeChange', 'MergeChange', {
      Parameters: { ...run, 'repo.$': '$.repo' },
      ResultPath: '$.merged',
      Next: 'Merged?',
    }),
    'Merged?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.merged.merged', BooleanEquals: true, Next: 'DeliveryAllowed?' }],
      Default: 'RecordMergeEjection',
    },
    RecordMergeEjection: failWith('$.merged.reason'),
    'DeliveryAllowed?': {
      Type: 'Choice',
      Comment: 'A contract that merges but never deploys ends at the merge: the pipeline ships it.',
      Choices: [{ Variable: '$.merge.deploy', BooleanEquals: true, Next: 'PrepareRelease' }],
      Default: 'CompleteRun',
    },
    PrepareRelease: step(res, 'prepareRelease', {
      Comment:
        'The release-readiness packet: changes, risk, checks, approvals, rollout plan, monitors, rollback.',
      Parameters: run,
      ResultPath: '$.release',
      Next: 'ReleaseReady?',
    }),
    'ReleaseReady?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.release.ready', BooleanEquals: true, Next: 'DeployStaging' }],
      Default: 'RecordReleaseNotReady',
    },
    RecordReleaseNotReady: failWith('$.release.reason'),
    DeployStaging: step(res, 'deployStaging', {
      Parameters: run,
      ResultPath: '$.staging',
      Next: 'StagingHealthy?',
    }),
    'StagingHealthy?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.staging.passed', BooleanEquals: true, Next: 'RollOutProduction' }],
      Default: 'RecordStagingFailure',
    },
    RecordStagingFailure: failWith('$.staging.reason'),
    RollOutProduction: step(res, 'rollOutProduction', {
      Comment:
        'Production by steps of traffic, each analysed against the previous version: promote, pause or abort.',
      Parameters: run,
      ResultPath: '$.rollout',
      Next: 'Promoted?',
    }),
    'Promoted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.rollout.outcome', StringEquals: 'promoted', Next: 'ObserveProduction' }],
      Default: 'StartRollback',
    },
    ObserveProduction: step(res, 'observeProduction', {
      Comment: 'Watches production under traffic for the observation window; an alarm opens an incident.',
      Parameters: run,
      ResultPath: '$.observation',
      Next: 'ProductionHealthy?',
    }),
    'ProductionHealthy?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.observation.healthy', BooleanEquals: true, Next: 'CompleteRun' }],
      Default: 'StartRollback',
    },
    StartRollback: step(res, 'startRollback', {
      Comment: 'Records the rollback request under the rollback capability, linked to the incident.',
      Parameters: run,
      ResultPath: '$.rollback',
      Next: 'RunRollback',
    }),
    RunRollback: {
      Type: 'Task',
      Comment:
        'The rollback workflow as a nested execution: revert PR, merge, redeploy, recovery, fix forward.',
      Resource: START_EXECUTION_SYNC,
      Parameters: {
        StateMachineArn: res.rollbackMachineArn,
        Input: {
          'run.$': '$.rollback.run',
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      ResultPath: null,
      TimeoutSeconds: stepTimeoutSeconds.runRollback,
      // A rollback that stopped for a person is a failed child execution: the outcome is read below.
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'FinishRollback', ResultPath: '$.rollbackError' }],
      Next: 'FinishRollback',
    },
    FinishRollback: step(res, 'finishRollback', {
      Parameters: run,
      ResultPath: '$.rolledBack',
      Next: 'Recovered?',
    }),
    'Recovered?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.rolledBack.outcome', StringEquals: 'recovered', Next: 'RecordRolledBack' }],
      Default: 'RecordRollbackNeedsHuman',
    },
    RecordRolledBack: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'rolled_back', 'reason.$': '$.rolledBack.reason' },
      ResultPath: '$.outcome',
      Next: 'RolledBack',
    }),
    RecordRollbackNeedsHuman: failWith('$.rolledBack.reason'),
  };
}

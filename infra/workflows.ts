/**
 * Gantry's two workflows on Step Functions: the issue resolver and the rollback workflow, the same ASL
 * the embedded runtime runs (src/workflows/issue-resolver.ts, src/workflows/rollback.ts), with the
 * Lambda steps' ARNs and the sandbox task filled in. Standard type, every execution logged (level ALL)
 * and traced with X-Ray; each has its own role that may invoke exactly the functions its definition
 * calls and run exactly the sandbox task. The issue resolver runs the rollback as a nested execution
 * (`states:startExecution.sync:2`), so its role may also start and follow rollback executions.
 */
import type { StateMachineDefinition } from '../src/workflows/asl.js';
import {
  buildIssueResolver,
  type LambdaStep,
  lambdaSteps,
  localResources,
  type StepResources,
  taskSteps,
} from '../src/workflows/issue-resolver.js';
import { buildRollback } from '../src/workflows/rollback.js';
import { bus, REQUEST_SUBMITTED } from './bus.js';
import { sandboxTarget } from './sandbox.js';
import {
  accountId,
  partition,
  policyDocument,
  prefix,
  region,
  type Statement,
  settings,
  trustPolicy,
} from './stage.js';
import { issueResolverName, rollbackArn, rollbackName, stepFunction } from './steps.js';

/** The Lambda steps a definition calls (its Task states and gates), in a stable order. */
function lambdaStepsOf(build: (res: StepResources) => StateMachineDefinition): LambdaStep[] {
  const called = new Set(
    taskSteps(build(localResources)).flatMap((task) =>
      task.kind === 'lambda' || task.kind === 'token' ? [task.step] : [],
    ),
  );
  return lambdaSteps.filter((step) => called.has(step));
}

/** The definition, built when every ARN it names is known. */
function definitionOf(
  build: (res: StepResources) => StateMachineDefinition,
  steps: LambdaStep[],
  rollbackMachineArn: $util.Input<string>,
) {
  return $resolve([
    $resolve(steps.map((step) => stepFunction(step).arn)),
    sandboxTarget.cluster,
    sandboxTarget.taskDefinition,
    $resolve(sandboxTarget.subnets),
    $resolve(sandboxTarget.securityGroups),
    rollbackMachineArn,
  ]).apply(([arns, clusterArn, taskDefinition, subnets, securityGroups, rollbackArnResolved]) => {
    const arnOf = new Map(steps.map((step, index) => [step, arns[index] as string]));
    return JSON.stringify(
      build({
        functionArn: (step) => {
          const arn = arnOf.get(step);
          if (!arn) throw new Error(`no function ARN for step ${step}`);
          return arn;
        },
        sandboxTask: {
          cluster: clusterArn,
          taskDefinition,
          container: sandboxTarget.container,
          subnets,
          securityGroups,
        },
        rollbackMachineArn: rollbackArnResolved,
      }),
    );
  });
}

/** What every workflow role needs besides its functions: the sandbox task, its `.sync` rule, logs and traces. */
function workflowStatements(stepArns: $util.Input<string>[]): Statement[] {
  return [
    {
      Sid: 'InvokeSteps',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: stepArns,
    },
    {
      Sid: 'RunSandboxTask',
      Effect: 'Allow',
      Action: ['ecs:RunTask'],
      // The task definition family at any revision: `.sync` passes the ARN the definition names.
      Resource: [sandboxTarget.taskDefinition],
      Condition: { ArnEquals: { 'ecs:cluster': sandboxTarget.cluster } },
    },
    {
      Sid: 'WatchSandboxTask',
      Effect: 'Allow',
      Action: ['ecs:StopTask', 'ecs:DescribeTasks'],
      Resource: [
        $interpolate`arn:${partition}:ecs:${region}:${accountId}:task/${sandboxTarget.clusterName}/*`,
      ],
    },
    {
      Sid: 'PassSandboxRoles',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: [sandboxTarget.taskRoleArn, sandboxTarget.executionRoleArn],
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      // The ECS `.sync` integration watches the task through this managed rule (AWS documents the
      // statement: https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html).
      Sid: 'SyncIntegrationRule',
      Effect: 'Allow',
      Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      Resource: [
        $interpolate`arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForECSTaskRule`,
      ],
    },
    {
      // Logging to CloudWatch Logs goes through log deliveries, which have no resource-level permissions.
      Sid: 'ExecutionLogs',
      Effect: 'Allow',
      Action: [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      Resource: ['*'],
    },
    {
      Sid: 'XRayWrite',
      Effect: 'Allow',
      Action: [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
      ],
      Resource: ['*'],
    },
  ];
}

/** One workflow: its log group, its role and its state machine. */
function workflow(id: string, name: string, definition: $util.Output<string>, statements: Statement[]) {
  const logs = new aws.cloudwatch.LogGroup(`${id}Logs`, {
    name: `/aws/vendedlogs/states/${name}`,
    retentionInDays: settings.logRetentionDays,
  });
  const role = new aws.iam.Role(`${id}Role`, {
    name,
    assumeRolePolicy: trustPolicy('states.amazonaws.com'),
  });
  const policy = new aws.iam.RolePolicy(`${id}Access`, {
    role: role.name,
    policy: policyDocument(statements),
  });
  const machine = new aws.sfn.StateMachine(
    id,
    {
      name,
      type: 'STANDARD',
      roleArn: role.arn,
      definition,
      loggingConfiguration: {
        level: 'ALL',
        includeExecutionData: true,
        logDestination: $interpolate`${logs.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
    },
    // Step Functions checks the role when the machine is created: its policy must be there first.
    { dependsOn: [policy] },
  );
  return { logs, role, machine };
}

const rollbackSteps = lambdaStepsOf(buildRollback);
const issueResolverSteps = lambdaStepsOf(buildIssueResolver);

// The rollback workflow starts no other execution: its definition names its own (fixed) ARN, unused.
export const rollbackDefinition = definitionOf(buildRollback, rollbackSteps, rollbackArn);
export const rollback = workflow(
  'Rollback',
  rollbackName,
  rollbackDefinition,
  workflowStatements(rollbackSteps.map((step) => stepFunction(step).arn)),
);

export const issueResolverDefinition = definitionOf(
  buildIssueResolver,
  issueResolverSteps,
  rollback.machine.arn,
);
const resolver = workflow('IssueResolver', issueResolverName, issueResolverDefinition, [
  ...workflowStatements(issueResolverSteps.map((step) => stepFunction(step).arn)),
  {
    Sid: 'StartRollback',
    Effect: 'Allow',
    Action: ['states:StartExecution'],
    Resource: [rollback.machine.arn],
  },
  {
    // `.sync:2` follows the child execution and stops it when the parent stops (AWS documents these
    // statements: https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html).
    Sid: 'FollowRollback',
    Effect: 'Allow',
    Action: ['states:DescribeExecution', 'states:StopExecution'],
    Resource: [$interpolate`arn:${partition}:states:${region}:${accountId}:execution:${rollbackName}:*`],
  },
  {
    Sid: 'SyncExecutionRule',
    Effect: 'Allow',
    Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
    Resource: [
      $interpolate`arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
    ],
  },
]);

export const workflowLogs = resolver.logs;
export const workflowRole = resolver.role;
export const issueResolver = resolver.machine;
export const rollbackMachine = rollback.machine;

/** `Engineering Request Submitted` on the bus starts an execution with the event's detail (`{ run }`). */
export const requestSubmittedRule = new aws.cloudwatch.EventRule('RequestSubmittedRule', {
  name: `${prefix}-request-submitted`,
  eventBusName: bus.name,
  eventPattern: JSON.stringify({
    source: [REQUEST_SUBMITTED.source],
    'detail-type': [REQUEST_SUBMITTED.detailType],
  }),
});

export const startExecutionRole = new aws.iam.Role('RequestSubmittedTargetRole', {
  name: `${prefix}-start-issue-resolver`,
  assumeRolePolicy: trustPolicy('events.amazonaws.com'),
});

new aws.iam.RolePolicy('RequestSubmittedTargetAccess', {
  role: startExecutionRole.name,
  policy: policyDocument([
    {
      Sid: 'StartResolver',
      Effect: 'Allow',
      Action: ['states:StartExecution'],
      Resource: [issueResolver.arn],
    },
  ]),
});

new aws.cloudwatch.EventTarget('RequestSubmittedStartsResolver', {
  rule: requestSubmittedRule.name,
  eventBusName: bus.name,
  arn: issueResolver.arn,
  roleArn: startExecutionRole.arn,
  inputPath: '$.detail',
});

/**
 * The issue resolver on Step Functions: the same ASL the embedded runtime runs
 * (src/workflows/issue-resolver.ts), with the Lambda steps' ARNs and the sandbox task filled in.
 * Standard type, every execution logged (level ALL) and traced with X-Ray; a role that may invoke
 * exactly those functions and run exactly that task.
 */
import {
  buildIssueResolver,
  issueResolverSteps,
  type LambdaStep,
  workspaceSteps,
} from '../src/workflows/issue-resolver.js';
import { bus, REQUEST_SUBMITTED } from './bus.js';
import { sandboxTarget } from './sandbox.js';
import { accountId, partition, policyDocument, prefix, region, settings, trustPolicy } from './stage.js';
import { issueResolverName, stepFunction } from './steps.js';

const lambdaSteps = issueResolverSteps.filter(
  (step): step is LambdaStep => !(workspaceSteps as readonly string[]).includes(step),
);
const stepArns = lambdaSteps.map((step) => stepFunction(step).arn);

export const workflowLogs = new aws.cloudwatch.LogGroup('IssueResolverLogs', {
  name: `/aws/vendedlogs/states/${issueResolverName}`,
  retentionInDays: settings.logRetentionDays,
});

export const workflowRole = new aws.iam.Role('IssueResolverRole', {
  name: `${prefix}-issue-resolver`,
  assumeRolePolicy: trustPolicy('states.amazonaws.com'),
});

new aws.iam.RolePolicy('IssueResolverAccess', {
  role: workflowRole.name,
  policy: policyDocument([
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
  ]),
});

/** The definition, built when every ARN is known. */
export const issueResolverDefinition = $resolve([
  $resolve(stepArns),
  sandboxTarget.cluster,
  sandboxTarget.taskDefinition,
  $resolve(sandboxTarget.subnets),
  $resolve(sandboxTarget.securityGroups),
]).apply(([arns, clusterArn, taskDefinition, subnets, securityGroups]) => {
  const arnOf = new Map(lambdaSteps.map((step, index) => [step, arns[index] as string]));
  return JSON.stringify(
    buildIssueResolver({
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
    }),
  );
});

export const issueResolver = new aws.sfn.StateMachine('IssueResolver', {
  name: issueResolverName,
  type: 'STANDARD',
  roleArn: workflowRole.arn,
  definition: issueResolverDefinition,
  loggingConfiguration: {
    level: 'ALL',
    includeExecutionData: true,
    logDestination: $interpolate`${workflowLogs.arn}:*`,
  },
  tracingConfiguration: { enabled: true },
});

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

/**
 * What operators watch: a CloudWatch dashboard over the Powertools metrics (namespace `Gantry`) and
 * Step Functions' own metrics, three alarms with the stage's thresholds, an SNS topic they notify, and
 * the default-bus rule that routes alarm state changes to the platform (functions/alarm-router.ts).
 * CloudWatch puts alarm state changes on the default bus only, so that rule cannot live on Gantry's bus.
 */

import { METRICS_NAMESPACE, prefix, region, settings } from './stage.js';
import { functions } from './steps.js';
import { issueResolver } from './workflows.js';

export const alarmTopic = new aws.sns.Topic('AlarmTopic', { name: `${prefix}-alarms` });
for (const [index, email] of settings.alarms.emails.entries()) {
  new aws.sns.TopicSubscription(`AlarmEmail${index}`, {
    topic: alarmTopic.arn,
    protocol: 'email',
    endpoint: email,
  });
}

const service = { Service: 'gantry-steps' };

export const policyViolationAlarm = new aws.cloudwatch.MetricAlarm('PolicyViolationAlarm', {
  name: `${prefix}-policy-violations`,
  alarmDescription: 'Tool calls or lifecycle actions denied by policy: an agent is trying what it may not.',
  namespace: METRICS_NAMESPACE,
  metricName: 'PolicyDenials',
  statistic: 'Sum',
  period: 300,
  evaluationPeriods: 1,
  threshold: settings.alarms.policyViolations,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  alarmActions: [alarmTopic.arn],
});

export const costSpikeAlarm = new aws.cloudwatch.MetricAlarm('CostSpikeAlarm', {
  name: `${prefix}-cost-spike`,
  alarmDescription: 'Model spend in the last day passed the stage threshold.',
  namespace: METRICS_NAMESPACE,
  metricName: 'ModelCostUsd',
  statistic: 'Sum',
  period: 86_400,
  evaluationPeriods: 1,
  threshold: settings.alarms.dailyCostUsd,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  alarmActions: [alarmTopic.arn],
});

export const failedRunsAlarm = new aws.cloudwatch.MetricAlarm('FailedRunsAlarm', {
  name: `${prefix}-failed-runs`,
  alarmDescription: 'Issue-resolver executions failed within the last hour.',
  namespace: 'AWS/States',
  metricName: 'ExecutionsFailed',
  dimensions: { StateMachineArn: issueResolver.arn },
  statistic: 'Sum',
  period: 3600,
  evaluationPeriods: 1,
  threshold: settings.alarms.failedRunsPerHour,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  alarmActions: [alarmTopic.arn],
});

const metric = (name: string, stat: string, label: string) => [
  METRICS_NAMESPACE,
  name,
  'service',
  service.Service,
  { stat, label },
];

export const dashboard = new aws.cloudwatch.Dashboard('Dashboard', {
  dashboardName: `${prefix}`,
  dashboardBody: $resolve([region, issueResolver.arn]).apply(([regionName, machineArn]) =>
    JSON.stringify({
      widgets: [
        {
          type: 'metric',
          width: 12,
          height: 6,
          properties: {
            title: 'Runs by state',
            region: regionName,
            stat: 'Sum',
            period: 3600,
            metrics: [
              ['AWS/States', 'ExecutionsStarted', 'StateMachineArn', machineArn, { label: 'started' }],
              ['AWS/States', 'ExecutionsSucceeded', 'StateMachineArn', machineArn, { label: 'finished' }],
              ['AWS/States', 'ExecutionsFailed', 'StateMachineArn', machineArn, { label: 'failed' }],
              ['AWS/States', 'ExecutionsAborted', 'StateMachineArn', machineArn, { label: 'aborted' }],
              metric('RunsCompleted', 'Sum', 'completed'),
              metric('RunsRejected', 'Sum', 'rejected'),
              metric('RunsFailed', 'Sum', 'failed runs'),
              metric('RunsAborted', 'Sum', 'aborted'),
            ],
          },
        },
        {
          type: 'metric',
          width: 12,
          height: 6,
          properties: {
            title: 'Run duration p50 / p95',
            region: regionName,
            period: 3600,
            metrics: [
              ['AWS/States', 'ExecutionTime', 'StateMachineArn', machineArn, { stat: 'p50', label: 'p50' }],
              ['AWS/States', 'ExecutionTime', 'StateMachineArn', machineArn, { stat: 'p95', label: 'p95' }],
            ],
          },
        },
        {
          type: 'metric',
          width: 8,
          height: 6,
          properties: {
            title: 'Policy denials',
            region: regionName,
            period: 300,
            metrics: [[METRICS_NAMESPACE, 'PolicyDenials', { stat: 'Sum', label: 'denials' }]],
            annotations: { horizontal: [{ label: 'alarm', value: settings.alarms.policyViolations }] },
          },
        },
        {
          type: 'metric',
          width: 8,
          height: 6,
          properties: {
            title: 'Model cost (USD)',
            region: regionName,
            period: 86_400,
            metrics: [[METRICS_NAMESPACE, 'ModelCostUsd', { stat: 'Sum', label: 'cost' }]],
            annotations: { horizontal: [{ label: 'alarm', value: settings.alarms.dailyCostUsd }] },
          },
        },
        {
          type: 'metric',
          width: 8,
          height: 6,
          properties: {
            title: 'Pending approvals',
            region: regionName,
            period: 300,
            metrics: [[METRICS_NAMESPACE, 'ApprovalsPending', { stat: 'Maximum', label: 'pending' }]],
          },
        },
      ],
    }),
  ),
});

export const alarmStateRule = new aws.cloudwatch.EventRule('AlarmStateChangeRule', {
  name: `${prefix}-alarm-state-change`,
  eventPattern: $jsonStringify({
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    resources: [policyViolationAlarm.arn, costSpikeAlarm.arn, failedRunsAlarm.arn],
  }),
});

const alarmRouter = functions.AlarmRouter;
if (!alarmRouter) throw new Error('functions/entries.ts has no AlarmRouter entry');

new aws.cloudwatch.EventTarget('AlarmStateChangeToRouter', {
  rule: alarmStateRule.name,
  arn: alarmRouter.arn,
});
new aws.lambda.Permission('AlarmRouterInvokePermission', {
  action: 'lambda:InvokeFunction',
  function: alarmRouter.name,
  principal: 'events.amazonaws.com',
  sourceArn: alarmStateRule.arn,
});

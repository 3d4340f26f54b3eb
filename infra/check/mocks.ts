/**
 * What the Pulumi mocks answer: a resource's state is its inputs plus the identifiers AWS would compute
 * (id, name, ARN, endpoint), shaped like the real ones so ARNs built from them can be checked; invokes
 * answer the few data sources the app and SST's components read.
 */
import { MOCK_ACCOUNT, MOCK_REGION } from './resources.js';

const arnParts: Record<string, (physical: string, inputs: Record<string, unknown>) => string> = {
  'aws:lambda/function:Function': (n) => `arn:aws:lambda:${MOCK_REGION}:${MOCK_ACCOUNT}:function:${n}`,
  'aws:sfn/stateMachine:StateMachine': (n) =>
    `arn:aws:states:${MOCK_REGION}:${MOCK_ACCOUNT}:stateMachine:${n}`,
  'aws:s3/bucket:Bucket': (n) => `arn:aws:s3:::${n}`,
  'aws:dynamodb/table:Table': (n) => `arn:aws:dynamodb:${MOCK_REGION}:${MOCK_ACCOUNT}:table/${n}`,
  'aws:ecs/cluster:Cluster': (n) => `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:cluster/${n}`,
  'aws:ecs/taskDefinition:TaskDefinition': (_n, i) =>
    `arn:aws:ecs:${MOCK_REGION}:${MOCK_ACCOUNT}:task-definition/${String(i.family)}:1`,
  'aws:iam/role:Role': (n) => `arn:aws:iam::${MOCK_ACCOUNT}:role/${n}`,
  'aws:cloudwatch/logGroup:LogGroup': (n) => `arn:aws:logs:${MOCK_REGION}:${MOCK_ACCOUNT}:log-group:${n}`,
  'aws:cloudwatch/eventBus:EventBus': (n) => `arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:event-bus/${n}`,
  'aws:cloudwatch/eventRule:EventRule': (n) => `arn:aws:events:${MOCK_REGION}:${MOCK_ACCOUNT}:rule/${n}`,
  'aws:cloudwatch/metricAlarm:MetricAlarm': (n) =>
    `arn:aws:cloudwatch:${MOCK_REGION}:${MOCK_ACCOUNT}:alarm:${n}`,
  'aws:sns/topic:Topic': (n) => `arn:aws:sns:${MOCK_REGION}:${MOCK_ACCOUNT}:${n}`,
};

/** The physical name a resource would get: its `name` (or bucket/family) input, else the logical name. */
function physicalName(name: string, inputs: Record<string, unknown>): string {
  for (const key of ['name', 'bucket', 'family', 'dashboardName']) {
    if (typeof inputs[key] === 'string') return inputs[key] as string;
  }
  return `${name}-mock`;
}

/** The mocked state of a new resource. */
export function mockState(type: string, name: string, inputs: Record<string, unknown>) {
  const physical = physicalName(name, inputs);
  const id = `${name.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}-id`;
  const state: Record<string, unknown> = { ...inputs, name: inputs.name ?? physical };
  const arn = arnParts[type]?.(physical, inputs);
  state.arn = arn ?? `arn:aws:mock:${MOCK_REGION}:${MOCK_ACCOUNT}:${type.split(':')[1] ?? type}/${physical}`;
  if (type === 'aws:s3/bucket:Bucket') state.bucket = physical;
  if (type === 'aws:apigatewayv2/api:Api')
    state.apiEndpoint = `https://${id}.execute-api.${MOCK_REGION}.amazonaws.com`;
  if (type === 'aws:ec2/vpcEndpoint:VpcEndpoint' && inputs.vpcEndpointType === 'Gateway')
    state.prefixListId = `pl-${id}`;
  if (type === 'aws:cloudwatch/dashboard:Dashboard') state.dashboardName = inputs.dashboardName;
  if (type === 'docker-build:index:Image')
    state.digest = 'sha256:0000000000000000000000000000000000000000000000000000000000000000';
  return { id, state };
}

type PolicyStatementInput = {
  sid?: string;
  effect?: string;
  actions?: string[];
  resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  conditions?: { test: string; variable: string; values: string[] }[];
};

/** `aws.iam.getPolicyDocument` rendered as the JSON AWS would: SST's components build policies with it. */
export function policyJson(statements: PolicyStatementInput[] = []) {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      ...(s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? 'Allow',
      Action: s.actions ?? [],
      Resource: s.resources ?? [],
      ...(s.principals
        ? { Principal: Object.fromEntries(s.principals.map((p) => [p.type, p.identifiers])) }
        : {}),
      ...(s.conditions?.length
        ? {
            Condition: Object.fromEntries(s.conditions.map((c) => [c.test, { [c.variable]: c.values }])),
          }
        : {}),
    })),
  });
}

/** Answers for the data sources (invokes) the app reads. */
export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case 'aws:index/getRegion:getRegion':
      return {
        id: MOCK_REGION,
        name: MOCK_REGION,
        region: MOCK_REGION,
        endpoint: `ec2.${MOCK_REGION}.amazonaws.com`,
      };
    case 'aws:index/getCallerIdentity:getCallerIdentity':
      return {
        id: MOCK_ACCOUNT,
        accountId: MOCK_ACCOUNT,
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/ci`,
        userId: 'AIDAMOCK',
      };
    case 'aws:index/getPartition:getPartition':
      return { id: 'aws', partition: 'aws', dnsSuffix: 'amazonaws.com', reverseDnsPrefix: 'com.amazonaws' };
    case 'aws:iam/getPolicyDocument:getPolicyDocument':
      return { id: 'policy', json: policyJson(inputs.statements as PolicyStatementInput[]) };
    case 'aws:ecr/getAuthorizationToken:getAuthorizationToken':
      return {
        id: MOCK_ACCOUNT,
        proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.${MOCK_REGION}.amazonaws.com`,
        userName: 'AWS',
        password: 'mock',
        authorizationToken: 'mock',
      };
    default:
      return {};
  }
}

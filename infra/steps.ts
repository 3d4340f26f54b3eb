/**
 * The Lambda functions: one per entry of functions/entries.ts. Each gets the Gantry runtime environment
 * (src/adapters/aws/aws-runtime.ts), Powertools settings, active tracing, a log group with the stage's
 * retention, and only the permissions its trigger needs (the deploy steps: the stage's pipelines; the
 * alarm router: starting the rollback workflow). The workspace steps are not here: they run in
 * the sandbox task (sandbox.ts), with the credentials of the sandbox run role defined here, which only
 * the grantSandbox function may assume, tagged with the run.
 */
import { deployStepEntries, functionEntries, longStepEntries } from '../functions/entries.js';
import { artifactBucket, artifactObjectsArn } from './artifacts.js';
import { bedrockInvokeStatement, modelIds } from './bedrock.js';
import { bus } from './bus.js';
import { pipelineArns, pipelinesJson } from './delivery.js';
import { apiUrl } from './http.js';
import { SANDBOX_WRITABLE_RECORD_KINDS } from './record-kinds.js';
import { grantKey } from './sandbox.js';
import {
  accountId,
  logRetention,
  METRICS_NAMESPACE,
  partition,
  policyDocument,
  prefix,
  region,
  type Statement,
} from './stage.js';
import { eventsTable, idempotencyTable, journalIndexArns, recordsTable, runsTable } from './tables.js';

/** The state machine's name is fixed so functions can name its ARN without a dependency cycle. */
export const issueResolverName = `${prefix}-issue-resolver`;
export const issueResolverArn = $interpolate`arn:${partition}:states:${region}:${accountId}:stateMachine:${issueResolverName}`;
/** The rollback workflow's name, fixed for the same reason: the alarm router starts it. */
export const rollbackName = `${prefix}-rollback`;
export const rollbackArn = $interpolate`arn:${partition}:states:${region}:${accountId}:stateMachine:${rollbackName}`;

/** The sandbox run role's name is fixed so the grantSandbox function can name its ARN before it exists. */
export const sandboxRunRoleName = `${prefix}-sandbox-run`;
export const sandboxRunRoleArn = $interpolate`arn:${partition}:iam::${accountId}:role/${sandboxRunRoleName}`;

/** IAM's variable for the run a session was tagged with (sts:TagSession by grantSandbox). */
export const PRINCIPAL_RUN = '$' + '{aws:PrincipalTag/run}';

export const signingKey = new sst.Secret('ApprovalSigningKey');
export const webhookSecret = new sst.Secret('GitHubWebhookSecret');

const runtimeEnvironment = {
  GANTRY_STAGE: $app.stage,
  GANTRY_EVENTS_TABLE: eventsTable.name,
  GANTRY_RUNS_TABLE: runsTable.name,
  GANTRY_RECORDS_TABLE: recordsTable.name,
  GANTRY_ARTIFACT_BUCKET: artifactBucket.bucket,
  GANTRY_MODEL_IDS: modelIds,
  GANTRY_APPROVAL_BASE_URL: apiUrl,
  GANTRY_SIGNING_KEY: signingKey.value,
  GANTRY_PIPELINES: pipelinesJson,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  NODE_OPTIONS: '--enable-source-maps',
};

const journal: Statement = {
  Sid: 'RunJournal',
  Effect: 'Allow',
  Action: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
  ],
  Resource: [eventsTable.arn, runsTable.arn, recordsTable.arn, ...journalIndexArns],
};
const artifacts: Statement = {
  Sid: 'ArtifactObjects',
  Effect: 'Allow',
  Action: ['s3:GetObject', 's3:PutObject'],
  // Runs' artifacts are under runs/<runId>/; sha256/* holds objects written before run prefixes.
  Resource: [artifactObjectsArn, $interpolate`${artifactBucket.arn}/runs/*`],
};
const taskTokens: Statement = {
  Sid: 'AnswerGates',
  Effect: 'Allow',
  Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
  Resource: [issueResolverArn],
};
const idempotency: Statement = {
  Sid: 'Idempotency',
  Effect: 'Allow',
  Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  Resource: [idempotencyTable.arn],
};
const putRequests: Statement = {
  Sid: 'PutRequests',
  Effect: 'Allow',
  Action: ['events:PutEvents'],
  Resource: [bus.arn],
};

/** What each function may do besides logging and tracing. */
const accessByFunction: Record<
  string,
  { statements: Statement[]; environment: Record<string, $util.Input<string>> }
> = {
  ApprovalApi: { statements: [journal, artifacts, taskTokens], environment: {} },
  GitHubWebhook: {
    statements: [journal, artifacts, putRequests],
    environment: { GANTRY_BUS_NAME: bus.name, GANTRY_WEBHOOK_SECRET: webhookSecret.value },
  },
  AlarmRouter: {
    statements: [
      journal,
      artifacts,
      {
        Sid: 'StartRollback',
        Effect: 'Allow',
        Action: ['states:StartExecution'],
        Resource: [rollbackArn],
      },
    ],
    environment: { GANTRY_ROLLBACK_MACHINE_ARN: rollbackArn },
  },
};
const stepAccess = {
  statements: [journal, artifacts, idempotency, taskTokens],
  environment: { GANTRY_IDEMPOTENCY_TABLE: idempotencyTable.name },
};
/** The steps that ship a commit start the target's pipelines and follow their executions. */
for (const step of deployStepEntries) {
  accessByFunction[`Step${step[0]?.toUpperCase()}${step.slice(1)}`] = {
    statements: [
      ...stepAccess.statements,
      {
        Sid: 'RunPipelines',
        Effect: 'Allow',
        Action: ['codepipeline:StartPipelineExecution', 'codepipeline:GetPipelineExecution'],
        Resource: pipelineArns,
      },
    ],
    environment: stepAccess.environment,
  };
}
/** Steps that wait on a pipeline execution or an observation window get a Lambda's full 15 minutes. */
const longRunning = new Set(longStepEntries.map((step) => `Step${step[0]?.toUpperCase()}${step.slice(1)}`));
/** grantSandbox: no idempotency table (its output is never stored); it reads the journal for the guards. */
accessByFunction.StepGrantSandbox = {
  statements: [
    journal,
    {
      Sid: 'AssumeSandboxRunRole',
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: [sandboxRunRoleArn],
    },
    {
      Sid: 'SealRunGrant',
      Effect: 'Allow',
      Action: ['kms:Encrypt'],
      Resource: [grantKey.arn],
      Condition: { 'ForAnyValue:StringEquals': { 'kms:EncryptionContextKeys': ['run'] } },
    },
  ],
  environment: {
    GANTRY_IDEMPOTENCY_TABLE: idempotencyTable.name,
    GANTRY_SANDBOX_RUN_ROLE_ARN: sandboxRunRoleArn,
    GANTRY_GRANT_KEY_ARN: grantKey.arn,
  },
};

/** Lambda has no resource-level permission for X-Ray writes: AWS requires `*` here. */
const tracing: Statement = {
  Sid: 'XRayWrite',
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: ['*'],
};

function handlerPath(file: string, handler: string) {
  return `${file.replace(/\.ts$/, '')}.${handler}`;
}

export const functions = Object.fromEntries(
  functionEntries.map((entry) => {
    const access = accessByFunction[entry.name] ?? stepAccess;
    const fn = new sst.aws.Function(entry.name, {
      name: `${prefix}-${entry.name}`,
      handler: handlerPath(entry.file, entry.handler),
      runtime: 'nodejs20.x',
      architecture: 'arm64',
      memory: '1024 MB',
      timeout:
        entry.trigger === 'http' ? '29 seconds' : longRunning.has(entry.name) ? '900 seconds' : '60 seconds',
      environment: {
        ...runtimeEnvironment,
        ...access.environment,
        POWERTOOLS_SERVICE_NAME: `gantry-${entry.name}`,
      },
      // cedar-wasm reads its .wasm beside itself at run time, so it is installed, not bundled.
      nodejs: { format: 'esm', install: ['@cedar-policy/cedar-wasm'] },
      copyFiles: [{ from: 'policies', to: 'policies' }],
      logging: { retention: logRetention, format: 'json' },
      permissions: [],
      transform: {
        function: (args: aws.lambda.FunctionArgs) => {
          args.tracingConfig = { mode: 'Active' };
        },
        role: (args: aws.iam.RoleArgs) => {
          // No AWSLambdaBasicExecutionRole (logs on `*`): the inline policy below names the log group.
          args.managedPolicyArns = [];
        },
      },
    });
    const logGroupArn = $interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:/aws/lambda/${prefix}-${entry.name}:*`;
    new aws.iam.RolePolicy(`${entry.name}Access`, {
      role: fn.nodes.role.name,
      policy: policyDocument([
        ...access.statements,
        tracing,
        {
          Sid: 'WriteLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: [logGroupArn],
        },
      ]),
    });
    return [entry.name, fn] as const;
  }),
);

/**
 * The sandbox run role: what a sandbox task may do, for one run. Only the grantSandbox function may
 * assume it, and only with the session tag `run`; every data statement names `${PRINCIPAL_RUN}`, so the
 * session reaches that run's journal rows (DynamoDB leading keys) and `runs/<runId>/` artifacts. The
 * records table (pk `kind`) cannot be keyed by run: the session may only read it (model spec, switches,
 * budgets), never write.
 */
export const sandboxRunRole = new aws.iam.Role('SandboxRunRole', {
  name: sandboxRunRoleName,
  maxSessionDuration: 3600,
  assumeRolePolicy: $jsonStringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GrantSandboxOnly',
        Effect: 'Allow',
        Principal: { AWS: functions.StepGrantSandbox?.nodes.role.arn },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          Null: { 'aws:RequestTag/run': 'false' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['run'] },
        },
      },
    ],
  }),
  inlinePolicies: [
    {
      name: 'one-run',
      policy: policyDocument([
        bedrockInvokeStatement,
        {
          Sid: 'RunArtifacts',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: [$interpolate`${artifactBucket.arn}/runs/${PRINCIPAL_RUN}/*`],
        },
        {
          Sid: 'RunJournal',
          Effect: 'Allow',
          Action: [
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
            'dynamodb:Query',
            'dynamodb:ConditionCheckItem',
          ],
          Resource: [eventsTable.arn, runsTable.arn],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PRINCIPAL_RUN] } },
        },
        {
          // pk `kind`: no condition can name the run here, so the session only reads...
          Sid: 'ReadRecords',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:Query'],
          Resource: [recordsTable.arn],
        },
        {
          // ...and writes only the kinds the delivery steps in the task keep (infra/record-kinds.ts).
          Sid: 'DeliveryRecords',
          Effect: 'Allow',
          Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
          Resource: [recordsTable.arn],
          Condition: {
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...SANDBOX_WRITABLE_RECORD_KINDS] },
          },
        },
      ]),
    },
  ],
});

/** The function ARN of each Lambda-side workflow step. */
export function stepFunction(step: string) {
  const name = `Step${step[0]?.toUpperCase()}${step.slice(1)}`;
  const fn = functions[name];
  if (!fn)
    throw new Error(`there is no function for step ${step} (expected ${name} in functions/entries.ts)`);
  return fn;
}

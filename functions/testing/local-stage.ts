import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { ulid } from 'ulid';
import { type AwsStepDeps, createAwsStepDeps, RUN_MODEL_KIND } from '../../src/adapters/aws/aws-runtime.js';
import { defaultTableNames, ensureEventLogTables } from '../../src/adapters/aws/dynamodb-event-log.js';
import { ensureBucket } from '../../src/adapters/aws/s3-artifact-store.js';
import type { EngineeringRequest } from '../../src/domain/request.js';
import { redactRequest } from '../../src/gateway/redact.js';
import { requestFromGitHubIssueOpened } from '../../src/intake/github-issue.js';
import { type LocalEngines, startLocalEngines } from '../../src/local/engines.js';
import type { Forge } from '../../src/ports/forge.js';
import { journalFor, refreshSummary } from '../../src/steps/run-context.js';
import type { RunRef } from '../../src/steps/step-deps.js';
import { lambdaStepDeps } from '../lambda-runtime.js';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A stage on the local engines: the tables, bucket and environment the infrastructure would provide. */
export interface LocalStage {
  dir: string;
  engines: LocalEngines;
  env: NodeJS.ProcessEnv;
  deps: AwsStepDeps;
  /** Records a request as a new run, as intake does. */
  submit(request?: EngineeringRequest): Promise<RunRef>;
  stop(): Promise<void>;
}

/** The issue body of the billing example: acceptance criteria, so checkRequest accepts it. */
export function issueOpenedPayload(overrides: { title?: string; login?: string } = {}) {
  return {
    action: 'opened',
    issue: {
      title: overrides.title ?? 'Invoice total is wrong when the discount is zero',
      body: [
        'Customers with a negotiated 0% discount are billed with the 5% loyalty discount (src/invoice.js).',
        '',
        '## Acceptance criteria',
        '- An invoice with discountPercent 0 gets no discount',
      ].join('\n'),
      html_url: 'https://github.com/acme/billing-service/issues/7',
      user: { login: overrides.login ?? 'maria.lopez' },
      labels: [{ name: 'gantry:low-risk-bugfix' }],
    },
    repository: { name: 'billing-service', owner: { login: 'acme' }, default_branch: 'main' },
    sender: { login: overrides.login ?? 'maria.lopez' },
  };
}

/**
 * Starts dynalite and s3rver, creates the stage's tables (the idempotency table included) and bucket,
 * and builds the AWS step dependencies against them.
 *
 * @example
 * const stage = await startLocalStage();
 * const run = await stage.submit();
 * await stage.stop();
 */
export async function startLocalStage(
  options: { forge?: (dir: string) => Forge; env?: NodeJS.ProcessEnv } = {},
): Promise<LocalStage> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-stage-'));
  // Like the task's /workspace: traversable, so a command user the process sandbox switches to reaches
  // its workspace (it owns nothing above it).
  await chmod(dir, 0o755);
  const engines = await startLocalEngines(join(dir, 'data'));
  const tables = defaultTableNames('stage');
  await ensureEventLogTables(engines.dynamo, tables);
  await ensureBucket(engines.s3, 'stage-artifacts');
  await engines.dynamo.send(
    new CreateTableCommand({
      TableName: 'stage-idempotency',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GANTRY_STAGE: 'test',
    GANTRY_EVENTS_TABLE: tables.events,
    GANTRY_RUNS_TABLE: tables.runs,
    GANTRY_RECORDS_TABLE: tables.records,
    GANTRY_ARTIFACT_BUCKET: 'stage-artifacts',
    GANTRY_MODEL_IDS: 'anthropic.claude-test-v1:0, anthropic.claude-other-v1:0',
    GANTRY_APPROVAL_BASE_URL: 'https://approvals.example.test',
    GANTRY_SIGNING_KEY: randomBytes(32).toString('base64'),
    GANTRY_POLICIES_DIR: join(repositoryRoot, 'policies'),
    GANTRY_WORKSPACES_DIR: join(dir, 'workspaces'),
    GANTRY_EVIDENCE_DIR: join(dir, 'evidence'),
    GANTRY_IDEMPOTENCY_TABLE: 'stage-idempotency',
    ...options.env,
  };
  const deps = await createAwsStepDeps(env, {
    dynamo: engines.dynamo,
    s3: engines.s3,
    forge: options.forge?.(dir),
  });
  return {
    dir,
    engines,
    env,
    deps,
    async submit(request = requestFromGitHubIssueOpened(issueOpenedPayload())) {
      const run = { runId: ulid(), traceId: randomBytes(16).toString('hex') };
      const stepDeps = lambdaStepDeps(deps);
      const journal = await journalFor(stepDeps, run);
      const raw = await deps
        .artifactsForRun(run.runId)
        .put(JSON.stringify(request), 'text/plain; charset=utf-8');
      await deps.records.put(RUN_MODEL_KIND, run.runId, {
        spec: `bedrock:${deps.config.GANTRY_MODEL_IDS[0]}`,
      });
      const intake = { kind: 'system', id: 'intake' } as const;
      await journal.record('request', 'request.received', intake, {
        request: redactRequest(request, deps.redactor),
        raw,
      });
      await journal.record('run:received', 'run.state', intake, { state: 'received' });
      await refreshSummary(stepDeps, journal);
      return run;
    },
    async stop() {
      await engines.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Lambda context as the runtime passes it; idempotency reads the remaining time from it. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: ulid(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** One request an AWS API stand-in received. */
export interface RecordedCall {
  target: string | undefined;
  path: string;
  body: unknown;
}

/** A reply that makes the stand-in answer as AWS answers an error: the status and `{ __type, message }`. */
export class AwsErrorReply {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
  ) {}
}

/**
 * A local HTTP endpoint standing in for an AWS JSON-protocol service (Step Functions, EventBridge): it
 * records each call and answers with `reply(target)`, or with an error for an {@link AwsErrorReply}.
 *
 * @example
 * const sfn = await startAwsStandIn(() => ({}));
 * new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials });
 */
export async function startAwsStandIn(reply: (target: string | undefined, body: unknown) => unknown) {
  const calls: RecordedCall[] = [];
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer((request, response) => {
    read(request).then((text) => {
      const target = request.headers['x-amz-target'] as string | undefined;
      const body = text ? (JSON.parse(text) as unknown) : undefined;
      calls.push({ target, path: request.url ?? '/', body });
      const answer = reply(target, body);
      if (answer instanceof AwsErrorReply) {
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: answer.type, message: answer.message }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Credentials for the stand-ins only: they accept any. */
export const standInCredentials = { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' };

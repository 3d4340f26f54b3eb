/**
 * GitHub webhook intake: an API Gateway v2 (HTTP API) function. It verifies `X-Hub-Signature-256`,
 * accepts `issues` events with action `opened`, records the request as a new run exactly as
 * `Gantry.submit` does (src/local/runtime.ts), and puts `Engineering Request Submitted` on the bus,
 * whose rule starts the issue resolver with `{ run }`.
 *
 * Environment: everything `createAwsStepDeps` reads, plus `GANTRY_BUS_NAME` and the webhook secret
 * as `GANTRY_WEBHOOK_SECRET` or `GANTRY_WEBHOOK_SECRET_PARAM` (an SSM SecureString parameter).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ulid } from 'ulid';
import {
  type AwsStepDeps,
  createAwsStepDeps,
  RUN_MODEL_KIND,
  resolveSecret,
} from '../src/adapters/aws/aws-runtime.js';
import { GantryError, InvalidInputError } from '../src/domain/errors.js';
import { redactRequest } from '../src/gateway/redact.js';
import { requestFromGitHubIssueOpened } from '../src/intake/github-issue.js';
import { journalFor, refreshSummary } from '../src/steps/run-context.js';
import { lambdaStepDeps, type Observability, observability, once } from './lambda-runtime.js';

/** What the bus carries: the rule matching it starts the issue resolver with `detail` as input. */
export const REQUEST_SUBMITTED = {
  source: 'gantry.intake',
  detailType: 'Engineering Request Submitted',
} as const;

export interface GitHubWebhookOptions {
  deps: () => Promise<AwsStepDeps>;
  /** The webhook secret configured on the GitHub App or repository webhook. */
  secret: () => Promise<string>;
  bus: { client: EventBridgeClient; name: string };
  observability: Observability;
}

export type GitHubWebhookHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** One record per GitHub delivery, so a redelivered webhook never starts a second run. */
const DELIVERY_KIND = 'github-delivery';
const intake = { kind: 'system', id: 'intake' } as const;

const reply = (statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/**
 * Checks `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body, compared in constant time.
 *
 * @example
 * verifyGitHubSignature(rawBody, request.headers['x-hub-signature-256'], secret); // true or false
 */
export function verifyGitHubSignature(body: Buffer, header: string | undefined, secret: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1] as string, 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.byteLength === expected.byteLength && timingSafeEqual(given, expected);
}

/**
 * Builds the webhook handler.
 *
 * @example
 * export const handler = createGitHubWebhook({ deps, secret, bus: { client: new EventBridgeClient({}), name: 'gantry' }, observability: observability('intake') });
 */
export function createGitHubWebhook(options: GitHubWebhookOptions): GitHubWebhookHandler {
  const { logger, tracer } = options.observability;
  const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const headers = event.headers ?? {};
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    // Nothing from the request is read before the signature is known to be GitHub's.
    if (!verifyGitHubSignature(body, headers['x-hub-signature-256'], await options.secret())) {
      logger.warn('webhook refused: missing or invalid signature');
      return reply(401, {
        error: 'invalid-signature',
        message: 'X-Hub-Signature-256 is missing or does not match',
      });
    }
    const eventName = headers['x-github-event'];
    const delivery = headers['x-github-delivery'];
    if (eventName !== 'issues')
      return reply(202, { status: 'ignored', reason: `event ${eventName ?? '(none)'}` });
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(400, { error: 'bad-payload', message: 'the webhook body is not JSON' });
    }
    const action = (payload as { action?: unknown } | null)?.action;
    if (action !== 'opened')
      return reply(202, { status: 'ignored', reason: `issues action ${String(action)}` });
    if (!delivery) return reply(400, { error: 'no-delivery', message: 'X-GitHub-Delivery is missing' });

    const aws = await options.deps();
    let request: ReturnType<typeof requestFromGitHubIssueOpened>;
    try {
      request = requestFromGitHubIssueOpened(payload, { eventName, now: aws.now() });
    } catch (error) {
      if (error instanceof InvalidInputError) {
        return reply(422, { error: 'invalid-request', message: error.message, hint: error.hint });
      }
      throw error;
    }

    const claim = { runId: ulid(), traceId: randomBytes(16).toString('hex'), published: false };
    const claimed = await aws.records.put(DELIVERY_KIND, delivery, claim, { ifAbsent: true });
    const run = claimed ? claim : ((await aws.records.get<typeof claim>(DELIVERY_KIND, delivery)) ?? claim);
    const runRef = { runId: run.runId, traceId: run.traceId };
    logger.appendKeys({ runId: run.runId, delivery });
    if (run.published) return reply(200, { status: 'duplicate', runId: run.runId });

    // As Gantry.submit: the raw request, the run's model, request.received and the received state.
    const deps = lambdaStepDeps(aws);
    const journal = await journalFor(deps, runRef);
    const raw = await aws
      .artifactsForRun(run.runId)
      .put(aws.redactor.redact(body.toString('utf8')).text, 'text/plain; charset=utf-8');
    await aws.records.put(
      RUN_MODEL_KIND,
      run.runId,
      { spec: `bedrock:${aws.config.GANTRY_MODEL_IDS[0]}` },
      { ifAbsent: true },
    );
    await journal.record('request', 'request.received', intake, {
      request: redactRequest(request, deps.redactor),
      raw,
    });
    await journal.record('run:received', 'run.state', intake, { state: 'received' });
    await refreshSummary(deps, journal);

    const sent = await options.bus.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: REQUEST_SUBMITTED.source,
            DetailType: REQUEST_SUBMITTED.detailType,
            EventBusName: options.bus.name,
            Detail: JSON.stringify({ run: runRef }),
          },
        ],
      }),
    );
    if (sent.FailedEntryCount) {
      const entry = sent.Entries?.[0];
      throw new GantryError(
        `the bus refused the request of run ${run.runId}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
        {
          input: options.bus.name,
          hint: 'redeliver the webhook from GitHub once the bus accepts events; the run is recorded and will not be duplicated',
        },
      );
    }
    await aws.records.put(DELIVERY_KIND, delivery, { ...run, published: true });
    logger.info('request accepted', { repository: request.repository.name });
    return reply(202, { status: 'accepted', runId: run.runId });
  };
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer)) as unknown as GitHubWebhookHandler;
}

let built: GitHubWebhookHandler | undefined;

/** The deployed entry: built on first use, so importing this module needs no environment. */
export const handler: GitHubWebhookHandler = (event, context) => {
  if (!built) {
    const busName = process.env.GANTRY_BUS_NAME;
    if (!busName) {
      throw new InvalidInputError('GANTRY_BUS_NAME is not set', {
        input: 'GANTRY_BUS_NAME',
        hint: 'link the event bus to the webhook function (infra/)',
      });
    }
    built = createGitHubWebhook({
      // Intake signs no approval links, so it is not given the signing key.
      deps: once(() => createAwsStepDeps(process.env, { requireSigningKey: false })),
      secret: once(async () => {
        const secret = await resolveSecret(process.env, 'WEBHOOK_SECRET');
        if (!secret) {
          throw new InvalidInputError('the GitHub webhook secret is not configured', {
            input: 'GANTRY_WEBHOOK_SECRET_PARAM',
            hint: 'set GANTRY_WEBHOOK_SECRET_PARAM to the SSM SecureString parameter holding the secret set on the GitHub webhook',
          });
        }
        return secret;
      }),
      bus: { client: new EventBridgeClient({}), name: busName },
      observability: observability('gantry-intake'),
    });
  }
  return built(event, context);
};

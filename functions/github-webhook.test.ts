import { createHmac } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubWebhook, type GitHubWebhookHandler, verifyGitHubSignature } from './github-webhook.js';
import { observability } from './lambda-runtime.js';
import {
  issueOpenedPayload,
  type LocalStage,
  lambdaContext,
  standInCredentials,
  startAwsStandIn,
  startLocalStage,
} from './testing/local-stage.js';

const SECRET = 'webhook-secret-for-tests';
const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

function webhookEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /github',
    rawPath: '/github',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'hooks.example.test',
      domainPrefix: 'hooks',
      http: {
        method: 'POST',
        path: '/github',
        protocol: 'HTTP/1.1',
        sourceIp: '140.82.112.1',
        userAgent: 'GitHub-Hookshot/1',
      },
      requestId: 'req',
      routeKey: 'POST /github',
      stage: '$default',
      time: '21/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    // API Gateway may hand the body over base64-encoded; the signature covers the raw bytes.
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

describe('the GitHub webhook', () => {
  let stage: LocalStage;
  let bus: Awaited<ReturnType<typeof startAwsStandIn>>;
  let webhook: GitHubWebhookHandler;

  beforeAll(async () => {
    stage = await startLocalStage();
    bus = await startAwsStandIn(() => ({ FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] }));
    webhook = createGitHubWebhook({
      deps: async () => stage.deps,
      secret: async () => SECRET,
      bus: {
        client: new EventBridgeClient({
          endpoint: bus.url,
          region: 'us-east-1',
          credentials: standInCredentials,
        }),
        name: 'gantry-test-bus',
      },
      observability: observability('gantry-intake-test'),
    });
  });
  afterAll(async () => {
    await bus.close();
    await stage.stop();
  });

  it('records an opened issue as a new run and puts Engineering Request Submitted on the bus', async () => {
    // Prepare
    const body = JSON.stringify(issueOpenedPayload());
    const headers = {
      'x-github-event': 'issues',
      'x-github-delivery': 'delivery-1',
      'x-hub-signature-256': sign(body),
    };
    // Act
    const response = await webhook(webhookEvent(body, headers), lambdaContext('GitHubWebhook'));
    // Assess: the run's first events are the ones Gantry.submit records, and the bus got its detail
    expect(response.statusCode, response.body).toBe(202);
    const { runId } = JSON.parse(response.body as string) as { runId: string };
    const events = await stage.deps.log.read(runId);
    expect(events.map((e) => [e.key, e.type])).toEqual([
      ['request', 'request.received'],
      ['run:received', 'run.state'],
    ]);
    const received = events[0];
    expect(received?.type === 'request.received' && received.data.request).toMatchObject({
      source: 'github-issue',
      requester: 'maria.lopez',
      capability: 'low-risk-bugfix',
    });
    expect((await stage.deps.log.getRunSummary(runId))?.state).toBe('received');
    expect(bus.calls).toHaveLength(1);
    expect(bus.calls[0]?.target).toBe('AWSEvents.PutEvents');
    const entry = (bus.calls[0]?.body as { Entries: Record<string, string>[] } | undefined)?.Entries[0];
    expect(entry).toMatchObject({
      Source: 'gantry.intake',
      DetailType: 'Engineering Request Submitted',
      EventBusName: 'gantry-test-bus',
    });
    expect(JSON.parse(entry?.Detail as string)).toEqual({ run: { runId, traceId: events[0]?.traceId } });
  });

  it('answers a redelivery with the same run and puts nothing on the bus again', async () => {
    // Prepare
    const body = JSON.stringify(issueOpenedPayload({ title: 'Redelivered issue title' }));
    const headers = {
      'x-github-event': 'issues',
      'x-github-delivery': 'delivery-2',
      'x-hub-signature-256': sign(body),
    };
    const first = await webhook(webhookEvent(body, headers), lambdaContext('GitHubWebhook'));
    const callsBefore = bus.calls.length;
    // Act
    const again = await webhook(webhookEvent(body, headers), lambdaContext('GitHubWebhook'));
    // Assess
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body as string)).toEqual({
      status: 'duplicate',
      runId: JSON.parse(first.body as string).runId,
    });
    expect(bus.calls.length).toBe(callsBefore);
  });

  it('refuses a missing or wrong signature with 401, recording nothing', async () => {
    // Prepare
    const body = JSON.stringify(issueOpenedPayload({ title: 'Unsigned issue' }));
    const runsBefore = (await stage.deps.log.listRuns()).length;
    const callsBefore = bus.calls.length;
    // Act
    const missing = await webhook(
      webhookEvent(body, { 'x-github-event': 'issues', 'x-github-delivery': 'delivery-3' }),
      lambdaContext('GitHubWebhook'),
    );
    const wrong = await webhook(
      webhookEvent(body, {
        'x-github-event': 'issues',
        'x-github-delivery': 'delivery-4',
        'x-hub-signature-256': sign(body, 'another-secret'),
      }),
      lambdaContext('GitHubWebhook'),
    );
    // Assess
    expect(missing.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect((await stage.deps.log.listRuns()).length).toBe(runsBefore);
    expect(bus.calls.length).toBe(callsBefore);
  });

  it('ignores a signed event that is not an opened issue with 202', async () => {
    // Prepare
    const push = JSON.stringify({ ref: 'refs/heads/main', pusher: { name: 'sam' } });
    const edited = JSON.stringify({ ...issueOpenedPayload(), action: 'edited' });
    const callsBefore = bus.calls.length;
    // Act
    const pushAnswer = await webhook(
      webhookEvent(push, {
        'x-github-event': 'push',
        'x-github-delivery': 'delivery-5',
        'x-hub-signature-256': sign(push),
      }),
      lambdaContext('GitHubWebhook'),
    );
    const editedAnswer = await webhook(
      webhookEvent(edited, {
        'x-github-event': 'issues',
        'x-github-delivery': 'delivery-6',
        'x-hub-signature-256': sign(edited),
      }),
      lambdaContext('GitHubWebhook'),
    );
    // Assess
    expect(pushAnswer.statusCode).toBe(202);
    expect(JSON.parse(pushAnswer.body as string)).toMatchObject({ status: 'ignored' });
    expect(editedAnswer.statusCode).toBe(202);
    expect(bus.calls.length).toBe(callsBefore);
  });

  it('compares signatures exactly: a signature for other bytes or in another shape fails', () => {
    // Prepare
    const body = Buffer.from('{"a":1}');
    // Act / Assess
    expect(verifyGitHubSignature(body, sign('{"a":1}'), SECRET)).toBe(true);
    expect(verifyGitHubSignature(body, sign('{"a":2}'), SECRET)).toBe(false);
    expect(verifyGitHubSignature(body, sign('{"a":1}').replace('sha256=', 'sha1='), SECRET)).toBe(false);
    expect(verifyGitHubSignature(body, `${sign('{"a":1}')}00`, SECRET)).toBe(false);
    expect(verifyGitHubSignature(body, undefined, SECRET)).toBe(false);
  });
});

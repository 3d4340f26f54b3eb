import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SfnTaskTokens } from '../src/adapters/aws/sfn-approvals.js';
import { getApproval } from '../src/approvals/approval-records.js';
import { newLinkNonce, signApprovalLink } from '../src/approvals/signed-links.js';
import { type ApprovalApiHandler, createApprovalApi } from './approval-api.js';
import { observability } from './lambda-runtime.js';
import { createStepHandlers, type LambdaStepName, type StepHandler } from './step-handlers.js';
import {
  type LocalStage,
  lambdaContext,
  standInCredentials,
  startAwsStandIn,
  startLocalStage,
} from './testing/local-stage.js';

function httpEvent(method: string, token: string, body?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{token}`,
    rawPath: `/approvals/${encodeURIComponent(token)}`,
    rawQueryString: '',
    headers: {
      accept: 'application/json',
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'approvals.example.test',
      domainPrefix: 'approvals',
      http: {
        method,
        path: `/approvals/${token}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: 'req',
      routeKey: `${method} /approvals/{token}`,
      stage: '$default',
      time: '21/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: false,
  };
}

describe('the approval API answers signed links and resumes the execution', () => {
  let stage: LocalStage;
  let sfn: Awaited<ReturnType<typeof startAwsStandIn>>;
  let steps: Record<LambdaStepName, StepHandler>;
  let api: ApprovalApiHandler;

  beforeAll(async () => {
    stage = await startLocalStage();
    sfn = await startAwsStandIn(() => ({}));
    const tokens = new SfnTaskTokens(
      new SFNClient({ endpoint: sfn.url, region: 'us-east-1', credentials: standInCredentials }),
    );
    const shared = { deps: async () => stage.deps, tokens: () => tokens };
    steps = createStepHandlers({
      ...shared,
      idempotency: { tableName: 'stage-idempotency', client: stage.engines.dynamo },
      observability: observability('gantry-steps-test'),
    });
    api = createApprovalApi({ ...shared, observability: observability('gantry-approvals-test') });
  });
  afterAll(async () => {
    await sfn.close();
    await stage.stop();
  });

  /** A run waiting at its plan gate, and a link signed for one of the people who may answer it. */
  async function waitingGate(taskToken: string, decision: 'approve' | 'reject' = 'approve') {
    const run = await stage.submit();
    await steps.checkRequest({ run }, lambdaContext('StepCheckRequest'));
    await steps.classifyRisk({ run }, lambdaContext('StepClassifyRisk'));
    const waiting = (await steps.requestApproval(
      { run, kind: 'plan', state: 'AwaitPlanApproval', taskToken },
      lambdaContext('StepRequestApproval'),
    )) as { awaitingApproval: string };
    const approval = await getApproval(stage.deps.records, waiting.awaitingApproval);
    if (!approval) throw new Error('the gate stored no approval');
    const approver = approval.approvers.find((name) => name !== 'maria.lopez') as string;
    const token = signApprovalLink(
      { approvalId: approval.id, decision, approver, expiresAt: approval.expiresAt, nonce: newLinkNonce() },
      stage.deps.approvalLinks.key,
    );
    return { run, approval, approver, token };
  }

  it('GET shows the confirmation page and decides nothing', async () => {
    // Prepare
    const gate = await waitingGate('token-get');
    const before = sfn.calls.length;
    // Act
    const page = await api(
      { ...httpEvent('GET', gate.token), headers: { accept: 'text/html' } },
      lambdaContext('ApprovalApi'),
    );
    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post">');
    expect(sfn.calls.length).toBe(before);
    expect((await getApproval(stage.deps.records, gate.approval.id))?.status).toBe('pending');
  });

  it('POST with a valid link records the decision and sends SendTaskSuccess with the gate output', async () => {
    // Prepare
    const gate = await waitingGate('token-post');
    // Act
    const response = await api(
      httpEvent('POST', gate.token, 'reason=looks+right'),
      lambdaContext('ApprovalApi'),
    );
    // Assess: the answer, the token resumed with { decision, by, reason }, and the events of a decided gate
    expect(response.statusCode, response.body).toBe(200);
    const sent = sfn.calls.filter((c) => c.target === 'AWSStepFunctions.SendTaskSuccess');
    expect(sent).toHaveLength(1);
    const body = sent[0]?.body as { taskToken: string; output: string };
    expect(body.taskToken).toBe('token-post');
    expect(JSON.parse(body.output)).toEqual({
      decision: 'approved',
      by: gate.approver,
      reason: 'looks right',
    });
    const events = await stage.deps.log.read(gate.run.runId);
    const decided = events.find((e) => e.type === 'approval.decided');
    expect(decided?.data).toMatchObject({ decision: 'approved', by: gate.approver, via: 'link' });
    expect((await stage.deps.log.getRunSummary(gate.run.runId))?.state).toBe('running');
  });

  it('refuses a forged link and a replayed one with 403, sending nothing', async () => {
    // Prepare: one link used once, and a copy of it with another signature
    const gate = await waitingGate('token-replay', 'reject');
    const [payload, signature] = gate.token.split('.') as [string, string];
    const forged = `${payload}.${Buffer.from(signature, 'base64url').reverse().toString('base64url')}`;
    const used = await api(httpEvent('POST', gate.token), lambdaContext('ApprovalApi'));
    const sentBefore = sfn.calls.length;
    // Act
    const forgedAnswer = await api(httpEvent('POST', forged), lambdaContext('ApprovalApi'));
    const replayed = await api(httpEvent('POST', gate.token), lambdaContext('ApprovalApi'));
    // Assess
    expect(used.statusCode).toBe(200);
    expect(forgedAnswer.statusCode).toBe(403);
    expect(JSON.parse(forgedAnswer.body as string)).toMatchObject({ error: 'forged' });
    expect(replayed.statusCode).toBe(403);
    expect(JSON.parse(replayed.body as string)).toMatchObject({ error: 'replayed' });
    expect(sfn.calls.length).toBe(sentBefore);
  });

  it('refuses the requester answering their own run, leaving the gate pending', async () => {
    // Prepare: a link signed for the requester (as if the matrix had been bypassed)
    const gate = await waitingGate('token-self');
    const token = signApprovalLink(
      {
        approvalId: gate.approval.id,
        decision: 'approve',
        approver: 'maria.lopez',
        expiresAt: gate.approval.expiresAt,
        nonce: newLinkNonce(),
      },
      stage.deps.approvalLinks.key,
    );
    const before = sfn.calls.length;
    // Act
    const response = await api(httpEvent('POST', token), lambdaContext('ApprovalApi'));
    // Assess
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body as string).message).toMatch(/requester of this run/);
    expect(sfn.calls.length).toBe(before);
    expect((await getApproval(stage.deps.records, gate.approval.id))?.status).toBe('pending');
  });
});

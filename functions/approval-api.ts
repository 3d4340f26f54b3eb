/**
 * The approval API: an API Gateway v2 (HTTP API) function answering signed approval links.
 * `GET /approvals/{token}` shows a confirmation page only (mail and chat scanners fetch links);
 * `POST /approvals/{token}` verifies the link, consumes it, records the decision and resumes the
 * waiting execution with `SendTaskSuccess` (or `SendTaskFailure` when the gate cannot answer).
 *
 * Environment: everything `createAwsStepDeps` reads (src/adapters/aws/aws-runtime.ts).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type AwsStepDeps, createAwsStepDeps } from '../src/adapters/aws/aws-runtime.js';
import { SfnTaskTokens } from '../src/adapters/aws/sfn-approvals.js';
import { mayApprove } from '../src/approvals/approval-matrix.js';
import {
  ApprovalRequestProblem,
  confirmationPage,
  problemPage,
  reasonFromBody,
  recordedPage,
} from '../src/approvals/approval-pages.js';
import { requireApproval, saveApproval } from '../src/approvals/approval-records.js';
import {
  ApprovalLinkError,
  type ApprovalLinkPayload,
  consumeApprovalLink,
  RecordStoreLinkLedger,
  verifyApprovalLink,
} from '../src/approvals/signed-links.js';
import type { Approval } from '../src/domain/approval.js';
import { GantryError } from '../src/domain/errors.js';
import { approverQueryFor } from '../src/steps/approver-query.js';
import { requestApproval } from '../src/steps/request-approval.js';
import { forgetJournals, journalFor } from '../src/steps/run-context.js';
import type { RunRef, StepDeps } from '../src/steps/step-deps.js';
import { lambdaStepDeps, type Observability, observability, once } from './lambda-runtime.js';

export interface ApprovalApiOptions {
  deps: () => Promise<AwsStepDeps>;
  tokens: () => SfnTaskTokens;
  observability: Observability;
}

export type ApprovalApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The token is in the URL, so nothing may leak it by referrer, cache or frame. */
const baseHeaders = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** A refusal shown to the person, with the HTTP status it answers with. */
/**
 * Builds the approval API handler.
 *
 * @example
 * export const handler = createApprovalApi({ deps, tokens: () => new SfnTaskTokens(), observability: observability('approvals') });
 */
export function createApprovalApi(options: ApprovalApiOptions): ApprovalApiHandler {
  const { logger, tracer } = options.observability;
  const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const json = wantsJson(event);
    const match = /\/approvals\/([^/]+)$/.exec(event.rawPath ?? '');
    if (!match)
      return answer(
        json,
        404,
        'not-found',
        'There is nothing here.',
        'Open the link from the approval message.',
      );
    let token = '';
    try {
      token = decodeURIComponent(match[1] ?? '');
    } catch {
      // An undecodable token is reported as malformed by the verification below.
    }
    const method = event.requestContext.http.method.toUpperCase();
    try {
      const aws = await options.deps();
      if (method === 'GET' || method === 'HEAD') {
        const payload = verifyApprovalLink(token, aws.approvalLinks.key, aws.now());
        return html(200, confirmationPage(payload));
      }
      if (method !== 'POST') {
        return {
          ...answer(json, 405, 'method-not-allowed', 'This address answers GET and POST only.'),
          headers: { ...baseHeaders, allow: 'GET, POST' },
        };
      }
      const reason = reasonOf(event);
      const payload = await consumeApprovalLink(
        token,
        aws.approvalLinks.key,
        new RecordStoreLinkLedger(aws.records, aws.now),
        aws.now(),
      );
      const decision = await decide(
        { ...lambdaStepDeps(aws), artifactsForRun: aws.artifactsForRun },
        options.tokens(),
        payload,
        reason,
      );
      logger.info('approval answered', {
        approvalId: payload.approvalId,
        decision: decision.decision,
        by: payload.approver,
      });
      return decided(json, payload, decision.decision, reason);
    } catch (error) {
      if (error instanceof ApprovalLinkError)
        return answer(json, 403, error.reason, error.message, error.hint);
      if (error instanceof ApprovalRequestProblem)
        return answer(json, error.status, error.code, error.message, error.hint);
      if (error instanceof GantryError) return answer(json, 409, 'refused', error.message, error.hint);
      logger.error('approval answer failed', error as Error);
      return answer(
        json,
        500,
        'internal',
        'The answer could not be recorded.',
        'Try the link again in a minute.',
      );
    }
  };
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer)) as unknown as ApprovalApiHandler;
}

/**
 * Records a person's answer and resumes the execution waiting on it. The gate step runs once more: it
 * finds the decision, records `approval.decided` and the run's return to `running` exactly as the
 * embedded runtime does, and returns the gate's output, which becomes the task's result.
 */
async function decide(
  base: StepDeps & Pick<AwsStepDeps, 'artifactsForRun'>,
  tokens: SfnTaskTokens,
  payload: ApprovalLinkPayload,
  reason: string | undefined,
): Promise<{ decision: 'approved' | 'rejected' | 'expired'; by: string; reason: string }> {
  forgetJournals(base);
  const approval = await requireApproval(base.records, payload.approvalId);
  // The approval names its run: from here on, that run's artifact prefix (runs/<runId>/).
  const deps: StepDeps = { ...base, artifacts: base.artifactsForRun(approval.runId) };
  if (approval.status !== 'pending') {
    throw new ApprovalRequestProblem(
      409,
      'already-decided',
      `approval ${approval.id} was already ${approval.status} by ${approval.decidedBy ?? 'nobody'}`,
      'an approval is answered once; see the run with `gantry show`',
    );
  }
  const summary = await deps.log.getRunSummary(approval.runId);
  if (!summary)
    throw new GantryError(`approval ${approval.id} belongs to run ${approval.runId}, which has no summary`);
  const run = { runId: approval.runId, traceId: summary.traceId };
  const now = deps.now().toISOString();
  if (now > approval.expiresAt) {
    // The gate step decides an expired approval itself; the run goes on to be rejected as expired.
    await resume(deps, tokens, approval, run);
    throw new ApprovalRequestProblem(
      409,
      'expired',
      `approval ${approval.id} expired at ${approval.expiresAt}`,
      'the run ended rejected; submit the request again if it is still wanted',
    );
  }
  const journal = await journalFor(deps, run);
  const query = await approverQueryFor(journal, deps.artifacts, approval.kind, deps.approvers);
  const permission = mayApprove(payload.approver, query);
  if (!permission.allowed) {
    throw new ApprovalRequestProblem(
      403,
      'not-an-approver',
      `${payload.approver} may not answer approval ${approval.id}: ${permission.reason}`,
      `ask one of: ${approval.approvers.join(', ') || 'nobody is configured; fix policies/approvers.yaml'}`,
    );
  }
  await saveApproval(deps.records, {
    ...approval,
    status: payload.decision === 'approve' ? 'approved' : 'rejected',
    decidedBy: payload.approver,
    decidedAt: now,
    decidedVia: 'link',
    reason,
  });
  return resume(deps, tokens, approval, run);
}

async function resume(deps: StepDeps, tokens: SfnTaskTokens, approval: Approval, run: RunRef) {
  let output: Awaited<ReturnType<typeof requestApproval>>;
  try {
    output = await requestApproval(deps, {
      run,
      kind: approval.kind,
      state: approval.state,
      taskToken: approval.taskToken,
    });
  } catch (error) {
    const failure = error instanceof GantryError ? error.describe().replace(/\n\s*/g, '; ') : String(error);
    await tokens.fail(approval.taskToken, error instanceof Error ? error.name : 'Error', failure);
    throw error;
  }
  await tokens.succeed(approval.taskToken, output);
  return output;
}

function reasonOf(event: APIGatewayProxyEventV2): string | undefined {
  if (!event.body) return undefined;
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return reasonFromBody(body, event.headers?.['content-type'] ?? '');
}

function wantsJson(event: APIGatewayProxyEventV2): boolean {
  const accept = event.headers?.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function html(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...baseHeaders, 'content-type': 'text/html; charset=utf-8' }, body };
}

function answer(
  json: boolean,
  statusCode: number,
  code: string,
  message: string,
  hint?: string,
): APIGatewayProxyStructuredResultV2 {
  if (json) {
    return {
      statusCode,
      headers: { ...baseHeaders, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ error: code, message, hint }),
    };
  }
  return html(statusCode, problemPage(statusCode, code, message, hint));
}

function decided(
  json: boolean,
  payload: ApprovalLinkPayload,
  decision: string,
  reason: string | undefined,
): APIGatewayProxyStructuredResultV2 {
  if (json) {
    return {
      statusCode: 200,
      headers: { ...baseHeaders, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ approvalId: payload.approvalId, decision, approver: payload.approver, reason }),
    };
  }
  return html(200, recordedPage(payload, decision, reason));
}

const deps = once(() => createAwsStepDeps(process.env));
let tokens: SfnTaskTokens | undefined;
let built: ApprovalApiHandler | undefined;

/** The deployed entry: built on first use, so importing this module needs no environment. */
export const handler: ApprovalApiHandler = (event, context) => {
  built ??= createApprovalApi({
    deps,
    tokens: () => {
      tokens ??= new SfnTaskTokens();
      return tokens;
    },
    observability: observability('gantry-approvals'),
  });
  return built(event, context);
};

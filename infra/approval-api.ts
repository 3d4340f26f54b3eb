/**
 * Routes of the HTTP API: signed approval links (`GET` shows a page, `POST` decides and resumes the
 * execution with SendTaskSuccess/SendTaskFailure) and the GitHub webhook (signature verified in
 * functions/github-webhook.ts with the `GitHubWebhookSecret` secret).
 */
import { apiUrl, httpApi } from './http.js';
import { accountId, partition, region } from './stage.js';
import { functions } from './steps.js';

function route(id: string, routeKeys: string[], functionName: 'ApprovalApi' | 'GitHubWebhook') {
  const fn = functions[functionName];
  if (!fn) throw new Error(`functions/entries.ts has no ${functionName} entry`);
  const integration = new aws.apigatewayv2.Integration(`${id}Integration`, {
    apiId: httpApi.id,
    integrationType: 'AWS_PROXY',
    integrationUri: fn.arn,
    payloadFormatVersion: '2.0',
    timeoutMilliseconds: 29_000,
  });
  for (const key of routeKeys) {
    new aws.apigatewayv2.Route(`${id}${key.split(' ')[0]}Route`, {
      apiId: httpApi.id,
      routeKey: key,
      target: $interpolate`integrations/${integration.id}`,
    });
  }
  new aws.lambda.Permission(`${id}InvokePermission`, {
    action: 'lambda:InvokeFunction',
    function: fn.name,
    principal: 'apigateway.amazonaws.com',
    sourceArn: $interpolate`arn:${partition}:execute-api:${region}:${accountId}:${httpApi.id}/*/*`,
  });
  return integration;
}

export const approvalRoutes = route(
  'Approvals',
  ['GET /approvals/{token}', 'POST /approvals/{token}'],
  'ApprovalApi',
);
export const webhookRoutes = route('GitHubWebhook', ['POST /webhooks/github'], 'GitHubWebhook');

export const approvalUrl = $interpolate`${apiUrl}/approvals`;
export const webhookUrl = $interpolate`${apiUrl}/webhooks/github`;

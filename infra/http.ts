/**
 * The stage's HTTP API (API Gateway v2). Created before the functions because signed approval links
 * carry its URL (`GANTRY_APPROVAL_BASE_URL`); approval-api.ts adds its routes.
 */
import { logRetention, prefix, settings } from './stage.js';

export const httpApi = new aws.apigatewayv2.Api('HttpApi', {
  name: `${prefix}-api`,
  protocolType: 'HTTP',
  description: 'Gantry approval links and GitHub webhooks',
});

export const httpAccessLogs = new aws.cloudwatch.LogGroup('HttpApiAccessLogs', {
  name: `/aws/vendedlogs/apis/${prefix}-api`,
  retentionInDays: settings.logRetentionDays,
});

export const httpStage = new aws.apigatewayv2.Stage('HttpApiStage', {
  apiId: httpApi.id,
  name: '$default',
  autoDeploy: true,
  defaultRouteSettings: { throttlingBurstLimit: 50, throttlingRateLimit: 20 },
  accessLogSettings: {
    destinationArn: httpAccessLogs.arn,
    format: JSON.stringify({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      // The path holds the approval token: log the route, never the raw path.
      route: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
    }),
  },
});

export const apiUrl = httpApi.apiEndpoint;
/** How SST names the log retention of the functions behind the API. */
export const functionLogRetention = logRetention;

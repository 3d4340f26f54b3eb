/// <reference path="./.sst/platform/config.d.ts" />
/**
 * Gantry on AWS. `npx sst deploy --stage <dev|staging|production>`; settings per stage are in stacks/,
 * one infra/ file per concern. `npm run infra:check` verifies all of it offline.
 */
export default $config({
  app(input) {
    const production = input?.stage === 'production';
    return {
      name: 'gantry',
      home: 'aws',
      version: '4.17.1',
      removal: production ? 'retain' : 'remove',
      protect: production,
    };
  },
  async run() {
    // Validate the stage first: a bad setting stops the deploy before anything is planned.
    const { loadStageSettings } = await import('./stacks/index.js');
    loadStageSettings($app.stage);
    // Order matters only for readability: each file imports what it links to.
    await import('./infra/bus.js');
    await import('./infra/tables.js');
    await import('./infra/artifacts.js');
    await import('./infra/network.js');
    await import('./infra/bedrock.js');
    await import('./infra/sandbox.js');
    await import('./infra/http.js');
    const { functions } = await import('./infra/steps.js');
    const { issueResolver } = await import('./infra/workflows.js');
    const { approvalUrl, webhookUrl } = await import('./infra/approval-api.js');
    const { dashboard, alarmTopic } = await import('./infra/dashboard.js');
    const { bus } = await import('./infra/bus.js');
    const { artifactBucket } = await import('./infra/artifacts.js');
    const { httpApi } = await import('./infra/http.js');
    return {
      api: httpApi.apiEndpoint,
      approvals: approvalUrl,
      webhook: webhookUrl,
      bus: bus.name,
      stateMachine: issueResolver.arn,
      bucket: artifactBucket.bucket,
      dashboard: dashboard.dashboardName,
      alarms: alarmTopic.arn,
      functions: Object.keys(functions).length,
    };
  },
});

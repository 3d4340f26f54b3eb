import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeploymentFailedError } from '../../deploy/errors.js';
import { type LocalEngines, startLocalEngines } from '../../local/engines.js';
import type { ReleaseTarget, StepAnalysis } from '../../ports/deployer.js';
import { DynamoEventLog, defaultTableNames, ensureEventLogTables } from './dynamodb-event-log.js';
import { ALARM_STATE_CHANGE_KIND, PipelineDeployer } from './pipeline-deployer.js';

interface SeenRequest {
  target: string;
  body: Record<string, unknown>;
}

/**
 * A CodePipeline stand-in speaking JSON 1.1: StartPipelineExecution hands out execution ids, and
 * GetPipelineExecution walks each execution through the statuses the test queued for its pipeline.
 */
class PipelineStandIn {
  readonly seen: SeenRequest[] = [];
  /** Statuses each new execution of a pipeline goes through, last one final. */
  readonly scripts = new Map<string, Array<{ status: string; statusSummary?: string }>>();
  private readonly executions = new Map<string, Array<{ status: string; statusSummary?: string }>>();
  private server: Server | undefined;
  endpoint = '';

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = JSON.parse(raw || '{}') as Record<string, unknown>;
      this.seen.push({ target, body });
      const reply = (status: number, payload: unknown) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
      if (target === 'CodePipeline_20150709.StartPipelineExecution') {
        const script = this.scripts.get(String(body.name));
        if (!script) {
          reply(400, {
            __type: 'PipelineNotFoundException',
            message: `Account does not have a pipeline with name '${body.name}'`,
          });
          return;
        }
        const id = `exec-${this.executions.size + 1}`;
        this.executions.set(id, [...script]);
        reply(200, { pipelineExecutionId: id });
        return;
      }
      if (target === 'CodePipeline_20150709.GetPipelineExecution') {
        const steps = this.executions.get(String(body.pipelineExecutionId)) ?? [];
        const current = steps.length > 1 ? steps.shift() : steps[0];
        reply(200, {
          pipelineExecution: {
            pipelineName: body.pipelineName,
            pipelineExecutionId: body.pipelineExecutionId,
            ...current,
          },
        });
        return;
      }
      reply(400, { __type: 'UnknownOperationException', message: target });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  calls(operation: string): SeenRequest[] {
    return this.seen.filter((request) => request.target === `CodePipeline_20150709.${operation}`);
  }
}

let scratch: string;
let engines: LocalEngines;
let standIn: PipelineStandIn;
let client: CodePipelineClient;
let records: DynamoEventLog;
let tablePrefix = 0;

const target: ReleaseTarget = {
  service: 'billing-service',
  repository: 'billing-service',
  commit: '0123456789abcdef0123456789abcdef01234567',
  runId: 'run-01',
  pullRequest: 12,
};

function deployer(): PipelineDeployer {
  return new PipelineDeployer({
    client,
    records,
    pollIntervalMs: 5,
    services: {
      'billing-service': {
        staging: { name: 'billing-staging', endpoint: 'https://staging.billing.example' },
        production: { name: 'billing-production', sourceActionName: 'GitHubSource' },
        alarms: [
          { name: 'billing-service-5xx-rate', metric: 'error-rate' },
          { name: 'billing-service-p95', metric: 'latency-p95' },
        ],
      },
    },
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'gantry-pipeline-'));
  engines = await startLocalEngines(path.join(scratch, 'data'));
  standIn = new PipelineStandIn();
  await standIn.start();
  client = new CodePipelineClient({
    endpoint: standIn.endpoint,
    region: 'eu-west-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
});

beforeEach(async () => {
  // A fresh set of tables per test keeps each test's deployment records its own.
  const tables = defaultTableNames(`pipeline-${++tablePrefix}`);
  await ensureEventLogTables(engines.dynamo, tables);
  // dynalite makes a new table active a moment after creating it.
  for (let status = ''; status !== 'ACTIVE'; ) {
    status =
      (await engines.dynamo.send(new DescribeTableCommand({ TableName: tables.records }))).Table
        ?.TableStatus ?? '';
  }
  records = new DynamoEventLog(engines.dynamo, tables);
  standIn.seen.length = 0;
  standIn.scripts.clear();
});

afterAll(async () => {
  client?.destroy();
  await standIn?.stop();
  await engines?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('PipelineDeployer', () => {
  it('starts the staging pipeline at the commit, polls it to success and records the deployment', async () => {
    standIn.scripts.set('billing-staging', [
      { status: 'InProgress' },
      { status: 'InProgress' },
      { status: 'Succeeded' },
    ]);

    const result = await deployer().deployStaging(target);

    const [start] = standIn.calls('StartPipelineExecution');
    expect(start?.body).toEqual({
      name: 'billing-staging',
      clientRequestToken: 'run-01-staging-progressive-0123456789ab',
      sourceRevisions: [{ actionName: 'Source', revisionType: 'COMMIT_ID', revisionValue: target.commit }],
      variables: [
        { name: 'GANTRY_COMMIT', value: target.commit },
        { name: 'GANTRY_RUN_ID', value: 'run-01' },
        { name: 'GANTRY_ENVIRONMENT', value: 'staging' },
        { name: 'GANTRY_ROLLOUT', value: 'progressive' },
        { name: 'GANTRY_PULL_REQUEST', value: '12' },
      ],
    });
    expect(standIn.calls('GetPipelineExecution').map((call) => call.body)).toEqual(
      Array(3).fill({ pipelineName: 'billing-staging', pipelineExecutionId: 'exec-1' }),
    );
    expect(result.smoke.passed).toBe(true);
    expect(result.deployment).toMatchObject({
      environment: 'staging',
      commit: target.commit,
      pullRequest: 12,
      endpoint: 'https://staging.billing.example',
      status: 'live',
    });
    expect(await deployer().current('billing-service', 'staging')).toEqual(result.deployment);
  });

  it('reports a failed production pipeline as an aborted rollout with the pipeline reason', async () => {
    standIn.scripts.set('billing-production', [{ status: 'Succeeded' }]);
    const first = await deployer().rollOut({ ...target, runId: 'run-00', pullRequest: 11 });
    standIn.scripts.set('billing-production', [
      { status: 'InProgress' },
      {
        status: 'Failed',
        statusSummary: 'Deploy action failed: CloudWatch alarm billing-5xx went to ALARM during the canary',
      },
    ]);
    const steps: StepAnalysis[] = [];

    const rollout = await deployer().rollOut(target, { onStep: (analysis) => void steps.push(analysis) });

    expect(first.outcome).toBe('promoted');
    expect(rollout.outcome).toBe('aborted');
    expect(rollout.reason).toContain(
      'Failed: Deploy action failed: CloudWatch alarm billing-5xx went to ALARM',
    );
    expect(rollout.detectedAt).toBeDefined();
    expect(rollout.deployment).toMatchObject({ status: 'aborted', commit: target.commit });
    expect(rollout.previous).toMatchObject({ id: first.deployment.id, status: 'live' });
    expect(steps).toEqual(rollout.analyses);
    expect(steps).toEqual([expect.objectContaining({ step: 1, trafficPercent: 100, verdict: 'abort' })]);
    expect(standIn.calls('StartPipelineExecution').at(-1)?.body.sourceRevisions).toEqual([
      { actionName: 'GitHubSource', revisionType: 'COMMIT_ID', revisionValue: target.commit },
    ]);
    expect(await deployer().current('billing-service', 'production')).toMatchObject({
      id: first.deployment.id,
    });
  });

  it('redeploys through the production pipeline told to roll out at once, superseding the live version', async () => {
    standIn.scripts.set('billing-production', [{ status: 'Succeeded' }]);
    const live = await deployer().rollOut(target);

    const result = await deployer().redeploy({
      ...target,
      commit: 'fedcba9876543210',
      runId: 'run-rollback',
    });

    expect(result.smoke.passed).toBe(true);
    expect(standIn.calls('StartPipelineExecution').at(-1)?.body.variables).toContainEqual({
      name: 'GANTRY_ROLLOUT',
      value: 'immediate',
    });
    const history = await deployer().history('billing-service', 'production');
    expect(history.map((deployment) => [deployment.id, deployment.status])).toEqual([
      [result.deployment.id, 'live'],
      [live.deployment.id, 'superseded'],
    ]);
  });

  it('turns a pipeline CodePipeline does not know into an error naming it', async () => {
    const error = await deployer()
      .deployStaging(target)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(DeploymentFailedError);
    expect((error as DeploymentFailedError).message).toContain(
      'CodePipeline did not start billing-staging for billing-service staging: PipelineNotFoundException',
    );
    expect((error as DeploymentFailedError).input).toBe('billing-staging');
  });

  it('observes the alarms the alarm router recorded for the service, latest state per alarm', async () => {
    standIn.scripts.set('billing-production', [{ status: 'Succeeded' }]);
    const live = await deployer().rollOut(target);
    const change = (alarm: string, state: string, at: string, reason?: string) =>
      records.put(ALARM_STATE_CHANGE_KIND, `${alarm}@${at}`, {
        log: 'control-plane',
        alarm,
        state,
        at,
        reason,
      });
    await change(
      'billing-service-5xx-rate',
      'ALARM',
      '2026-05-01T10:00:00Z',
      'Threshold Crossed: 1 out of the last 1 datapoints [12.5 (01/05/26 10:00:00)] was greater than the threshold (5.0) (minimum 1 datapoint for OK -> ALARM transition).',
    );
    await change('billing-service-p95', 'ALARM', '2026-05-01T10:00:00Z');
    await change('billing-service-p95', 'OK', '2026-05-01T10:05:00Z');
    await change('payments-5xx-rate', 'ALARM', '2026-05-01T10:00:00Z');

    const observation = await deployer().observe('billing-service', 10);

    expect(observation.healthy).toBe(false);
    expect(observation.alarms).toEqual([
      expect.objectContaining({
        alarm: 'billing-service-5xx-rate',
        metric: 'error-rate',
        state: 'ALARM',
        value: 12.5,
        threshold: 5,
        deploymentId: live.deployment.id,
      }),
    ]);
    const byConvention = new PipelineDeployer({
      client,
      records,
      services: {
        'billing-service': {
          staging: { name: 'billing-staging' },
          production: { name: 'billing-production' },
        },
      },
    });
    await change('billing-service-staging-5xx', 'ALARM', '2026-05-01T10:00:00Z');
    expect(
      (await byConvention.observe('billing-service', 0)).alarms.map((alarm) => [alarm.alarm, alarm.metric]),
    ).toEqual([['billing-service-5xx-rate', 'error-rate']]);
    expect(await deployer().status()).toEqual([
      expect.objectContaining({ environment: 'production', up: true, deployment: live.deployment }),
    ]);
  });
});

import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentRecords } from '../src/deploy/deployment-records.js';
import { INCIDENT_KIND, type Incident } from '../src/incidents/incidents.js';
import type { Deployment } from '../src/ports/deployer.js';
import { journalFor, refreshSummary, requestOf } from '../src/steps/run-context.js';
import type { RunRef } from '../src/steps/step-deps.js';
import { ALARM_KIND, type AlarmRecord, alarmTarget, createAlarmRouter } from './alarm-router.js';
import { lambdaStepDeps, observability } from './lambda-runtime.js';
import {
  AwsErrorReply,
  type LocalStage,
  lambdaContext,
  standInCredentials,
  startAwsStandIn,
  startLocalStage,
} from './testing/local-stage.js';

const ROLLBACK_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gantry-test-rollback';

function alarmEvent(alarmName: string, value: string, timestamp: string) {
  return {
    version: '0',
    id: `e-${timestamp}`,
    'detail-type': 'CloudWatch Alarm State Change' as const,
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2026-11-21T10:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value,
        reason:
          'Threshold Crossed: 1 datapoint [0.31 (21/11/26 10:00:00)] was greater than the threshold (0.05).',
        timestamp,
      },
      previousState: { value: value === 'ALARM' ? 'OK' : 'ALARM' },
    },
  };
}

function deployment(id: string, runId: string, startedAt: string, commit: string): Deployment {
  return {
    id,
    service: 'billing-service',
    environment: 'production',
    commit,
    runId,
    pullRequest: 3,
    endpoint: 'codepipeline:billing-production',
    startedAt,
    status: 'live',
  };
}

describe('the alarm router', () => {
  let stage: LocalStage;
  let sfn: Awaited<ReturnType<typeof startAwsStandIn>>;
  let started = 0;
  beforeAll(async () => {
    stage = await startLocalStage();
    // Step Functions as it answers StartExecution: the first start succeeds, a second with the same name does not.
    sfn = await startAwsStandIn((_target, body) => {
      const name = (body as { name: string }).name;
      started += 1;
      return started === 1
        ? {
            executionArn: `${ROLLBACK_MACHINE.replace(':stateMachine:', ':execution:')}:${name}`,
            startDate: 1,
          }
        : new AwsErrorReply(400, 'ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
    });
  });
  afterAll(async () => {
    await sfn.close();
    await stage.stop();
  });

  const router = (withRollbacks = true) =>
    createAlarmRouter({
      deps: async () => stage.deps,
      ...(withRollbacks
        ? {
            rollbacks: () => ({
              client: new SFNClient({
                endpoint: sfn.url,
                region: 'eu-west-1',
                credentials: standInCredentials,
              }),
              stateMachineArn: ROLLBACK_MACHINE,
            }),
          }
        : {}),
      observability: observability('gantry-alarms-test'),
    });

  async function finish(run: RunRef) {
    const deps = lambdaStepDeps(stage.deps);
    const journal = await journalFor(deps, run);
    await journal.record('run:final', 'run.state', { kind: 'step', id: 'finishRun' }, { state: 'completed' });
    await refreshSummary(deps, journal);
  }

  it('keeps a CloudWatch alarm state change, tagged with the control-plane log', async () => {
    // Act
    const { record, route } = await router()(
      alarmEvent('gantry-dev-failed-runs', 'ALARM', '2026-11-21T10:00:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    // Assess
    const stored = await stage.deps.records.list<AlarmRecord>(ALARM_KIND);
    expect(stored).toEqual([record]);
    expect(record).toMatchObject({
      log: 'control-plane',
      alarm: 'gantry-dev-failed-runs',
      state: 'ALARM',
      previousState: 'OK',
      at: '2026-11-21T10:00:00.000Z',
    });
    expect(route).toEqual({ action: 'kept', reason: 'the alarm names no service of policies/services/' });
  });

  it('reads the service and environment from pipeline alarms or the name convention', () => {
    // Act + Assess
    const services = ['billing-service', 'billing-service-api'];
    expect(alarmTarget('billing-service-production-5xx', services)).toEqual({
      service: 'billing-service',
      environment: 'production',
    });
    expect(alarmTarget('billing-service-api-staging-latency', services)).toEqual({
      service: 'billing-service-api',
      environment: 'staging',
    });
    expect(alarmTarget('billing-service-5xx', services)?.environment).toBe('production');
    expect(alarmTarget('checkout-5xx', services)).toBeUndefined();
    const pipelines = {
      'billing-service': {
        staging: { name: 'billing-staging' },
        production: { name: 'billing-production' },
        alarms: [{ name: 'PaymentsErrors', metric: 'error-rate' as const }],
      },
    };
    expect(alarmTarget('PaymentsErrors', services, pipelines)).toEqual({
      service: 'billing-service',
      environment: 'production',
    });
  });

  it('leaves a deployment whose run is still in flight to that run, and keeps staging alarms', async () => {
    // Prepare: the live production version belongs to a run that has not finished
    const run = await stage.submit();
    await new DeploymentRecords(stage.deps.records).makeCurrent(
      deployment('dep-inflight', run.runId, '2026-11-21T09:00:00.000Z', 'b'.repeat(40)),
    );
    // Act
    const inFlight = await router()(
      alarmEvent('billing-service-production-5xx', 'ALARM', '2026-11-21T09:30:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    const staging = await router()(
      alarmEvent('billing-service-staging-5xx', 'ALARM', '2026-11-21T09:31:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    // Assess
    expect(inFlight.route).toEqual({
      action: 'kept',
      reason: `run ${run.runId} is received: a run watches its own deployment until it completes`,
    });
    expect(staging.route).toEqual({ action: 'kept', reason: 'the alarm watches billing-service in staging' });
    expect(sfn.calls).toEqual([]);
    expect(await stage.deps.records.list(INCIDENT_KIND)).toEqual([]);
  });

  it('traces a production alarm to the run that deployed it and starts its rollback once', async () => {
    // Prepare: a completed run whose merge is live in production, after an earlier version
    const run = await stage.submit();
    await finish(run);
    const records = new DeploymentRecords(stage.deps.records);
    await records.makeCurrent(
      deployment('dep-before', 'run-before', '2026-11-21T09:40:00.000Z', 'c'.repeat(40)),
    );
    await records.makeCurrent(deployment('dep-live', run.runId, '2026-11-21T09:50:00.000Z', 'd'.repeat(40)));
    // Act: the alarm fires, then EventBridge delivers it again, then it clears
    const first = await router()(
      alarmEvent('billing-service-production-5xx', 'ALARM', '2026-11-21T10:01:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    const again = await router()(
      alarmEvent('billing-service-production-5xx', 'ALARM', '2026-11-21T10:02:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    const cleared = await router()(
      alarmEvent('billing-service-production-5xx', 'OK', '2026-11-21T10:05:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    // Assess: one incident traced to the deployment, PR and run; one rollback run; StartExecution by its name
    expect(first.route).toEqual({
      action: 'rollback-started',
      incidentId: 'inc-dep-live',
      rollbackRun: 'rb-inc-dep-live',
      execution: 'arn:aws:states:eu-west-1:123456789012:execution:gantry-test-rollback:rb-inc-dep-live',
    });
    expect(again.route).toEqual({
      action: 'rollback-started',
      incidentId: 'inc-dep-live',
      rollbackRun: 'rb-inc-dep-live',
      execution: 'already-started',
    });
    expect(cleared.route).toEqual({ action: 'kept', reason: 'the alarm is OK' });
    const incidents = await stage.deps.records.list<Incident>(INCIDENT_KIND);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      id: 'inc-dep-live',
      source: 'alarm',
      service: 'billing-service',
      repository: 'billing-service',
      deploymentId: 'dep-live',
      commit: 'd'.repeat(40),
      previousCommit: 'c'.repeat(40),
      pullRequest: 3,
      offendingRun: run.runId,
      detectedAt: '2026-11-21T10:01:00.000Z',
      status: 'rolling-back',
      rollbackRun: 'rb-inc-dep-live',
    });
    expect(sfn.calls.map((call) => call.target)).toEqual([
      'AWSStepFunctions.StartExecution',
      'AWSStepFunctions.StartExecution',
    ]);
    const start = sfn.calls[0]?.body as { stateMachineArn: string; name: string; input: string };
    expect(start.stateMachineArn).toBe(ROLLBACK_MACHINE);
    expect(start.name).toBe('rb-inc-dep-live');
    expect(JSON.parse(start.input)).toEqual({ run: { runId: 'rb-inc-dep-live', traceId: run.traceId } });
    const rollback = await journalFor(lambdaStepDeps(stage.deps), {
      runId: 'rb-inc-dep-live',
      traceId: run.traceId,
    });
    expect(requestOf(rollback)).toMatchObject({ capability: 'rollback', sourceRef: 'incident:inc-dep-live' });
    expect((await stage.deps.log.getRunSummary('rb-inc-dep-live'))?.state).toBe('received');
    const offending = await stage.deps.log.read(run.runId);
    expect(offending.filter((e) => e.type === 'incident.opened')).toHaveLength(1);
    expect(offending.find((e) => e.type === 'rollback.started')?.data).toEqual({
      incidentId: 'inc-dep-live',
      rollbackRun: 'rb-inc-dep-live',
    });
  });

  it('only keeps alarms when the stage has no rollback machine', async () => {
    // Act
    const { route } = await router(false)(
      alarmEvent('billing-service-production-latency', 'ALARM', '2026-11-21T10:10:00.000+0000'),
      lambdaContext('AlarmRouter'),
    );
    // Assess
    expect(route).toEqual({
      action: 'kept',
      reason: 'the stage has no rollback state machine (GANTRY_ROLLBACK_MACHINE_ARN)',
    });
  });

  it('refuses an event that is not an alarm state change', async () => {
    // Act
    const call = router()(
      { 'detail-type': 'Something Else', detail: {} } as never,
      lambdaContext('AlarmRouter'),
    );
    // Assess
    await expect(call).rejects.toThrow(/not a CloudWatch alarm state change/);
  });
});

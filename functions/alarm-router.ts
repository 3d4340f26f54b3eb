/**
 * Receives `CloudWatch Alarm State Change` events from the default bus, keeps each one on the platform's
 * record (the pipeline deployer's `observe` reads them), and — when an alarm goes to ALARM on a service
 * Gantry deployed to production — traces it to the deployment, its pull request and run, opens the
 * incident (`inc-<deploymentId>`, once) and starts the rollback state machine for it.
 *
 * Which service an alarm watches ({@link alarmTarget}): an alarm named in the service's `alarms` in
 * `GANTRY_PIPELINES` watches its production; otherwise the name convention `<service>-<environment>-…`
 * (for example `billing-service-production-5xx`), with `<service>` a spec of policies/services/; a name
 * `<service>-…` without an environment watches production, as the pipeline deployer's `observe` reads it.
 * Only production alarms start rollbacks; staging alarms are kept.
 *
 * Environment: the variables `createAwsStepDeps` reads (src/adapters/aws/aws-runtime.ts) and
 * `GANTRY_ROLLBACK_MACHINE_ARN`; without it alarms are only kept.
 */
import { join } from 'node:path';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { type AwsStepDeps, createAwsStepDeps, forRun } from '../src/adapters/aws/aws-runtime.js';
import type { PipelineService } from '../src/adapters/aws/pipeline-deployer.js';
import { DeploymentRecords } from '../src/deploy/deployment-records.js';
import { loadServiceSpecs } from '../src/deploy/service-spec.js';
import { formatZodIssues, InvalidInputError } from '../src/domain/errors.js';
import { INCIDENT_KIND, type Incident } from '../src/incidents/incidents.js';
import { CONTROL_PLANE_LOG } from '../src/policy/kill-switch.js';
import type { DeployEnvironment } from '../src/ports/deployer.js';
import { openIncident } from '../src/steps/roll-out-production.js';
import { rollbackRunIdFor, startRollback } from '../src/steps/rollback-run.js';
import { journalFor, requestOf } from '../src/steps/run-context.js';
import { lambdaStepDeps, type Observability, observability, once } from './lambda-runtime.js';

/** The part of a CloudWatch alarm state change the platform keeps. */
export const AlarmStateChange = z.object({
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  account: z.string(),
  region: z.string(),
  time: z.string(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string(), reason: z.string().optional(), timestamp: z.string().optional() }),
    previousState: z.object({ value: z.string() }).optional(),
  }),
});

/** What is kept of one alarm state change. */
export interface AlarmRecord {
  log: typeof CONTROL_PLANE_LOG;
  alarm: string;
  state: string;
  previousState?: string;
  reason?: string;
  at: string;
  account: string;
  region: string;
}

/** Record kind of alarm state changes, keyed `<alarm>@<time>` (the pipeline deployer reads the same kind). */
export const ALARM_KIND = 'alarm-state-change';

/** What the router did with an alarm besides keeping it. */
export type AlarmRoute =
  | { action: 'kept'; reason: string }
  | {
      action: 'rollback-started';
      incidentId: string;
      rollbackRun: string;
      /** The execution's ARN, or `already-started` when an earlier delivery of the alarm started it. */
      execution: string;
    };

export interface AlarmRouting {
  record: AlarmRecord;
  route: AlarmRoute;
}

/** Where rollbacks start: the rollback state machine and a Step Functions client. */
export interface RollbackMachine {
  client: SFNClient;
  stateMachineArn: string;
}

export interface AlarmRouterOptions {
  deps: () => Promise<AwsStepDeps>;
  /** Absent when the stage has no rollback machine: alarms are then only kept. */
  rollbacks?: () => RollbackMachine;
  observability: Observability;
}

export type AlarmRouterHandler = (
  event: EventBridgeEvent<'CloudWatch Alarm State Change', unknown>,
  context: Context,
) => Promise<AlarmRouting>;

/**
 * The service and environment an alarm watches, from the pipelines' named alarms or the name convention
 * `<service>-<environment>-…` (`<service>-…` alone is production); undefined for an alarm on no service.
 * The longest matching service name wins, so `billing-service-api` is not read as `billing-service`.
 *
 * @example
 * alarmTarget('billing-service-production-5xx', ['billing-service']); // { service: 'billing-service', environment: 'production' }
 */
export function alarmTarget(
  alarm: string,
  services: Iterable<string>,
  pipelines: Record<string, PipelineService> = {},
): { service: string; environment: DeployEnvironment } | undefined {
  for (const [service, config] of Object.entries(pipelines)) {
    if (config.alarms?.some((watched) => watched.name === alarm))
      return { service, environment: 'production' };
  }
  const byLength = [...services].sort((a, b) => b.length - a.length);
  const service = byLength.find((name) => alarm.startsWith(`${name}-`));
  if (!service) return undefined;
  const rest = alarm.slice(service.length + 1);
  const environment: DeployEnvironment =
    rest === 'staging' || rest.startsWith('staging-') ? 'staging' : 'production';
  return { service, environment };
}

/** CloudWatch writes `2026-11-21T10:00:00.000+0000`; records need ISO 8601 with a colon in the offset. */
function isoTime(...candidates: (string | undefined)[]): string {
  for (const candidate of candidates) {
    const parsed = Date.parse(candidate?.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') ?? '');
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  return new Date().toISOString();
}

const kept = (reason: string): AlarmRoute => ({ action: 'kept', reason });

/**
 * Traces a production alarm to the run that deployed the live version and starts its rollback: the
 * incident (once per deployment), the rollback run's request (`rb-<incident>`, recorded by
 * `startRollback`), then `StartExecution` named after the rollback run, so a repeated alarm starts
 * nothing new. A run still in flight is left alone: its own observation raises the incident.
 */
async function routeAlarm(
  aws: AwsStepDeps,
  record: AlarmRecord,
  rollbacks: RollbackMachine | undefined,
): Promise<AlarmRoute> {
  if (record.state !== 'ALARM') return kept(`the alarm is ${record.state}`);
  const services = aws.delivery?.services ?? (await loadServiceSpecs(join(aws.policiesDir, 'services')));
  const target = alarmTarget(record.alarm, services.keys(), aws.config.GANTRY_PIPELINES);
  if (!target) return kept(`the alarm names no service of policies/services/`);
  if (target.environment !== 'production') return kept(`the alarm watches ${target.service} in staging`);
  const deployments = new DeploymentRecords(aws.records);
  const deployment = await deployments.current(target.service, 'production');
  if (!deployment)
    return kept(`no production deployment of ${target.service} is recorded: Gantry did not deploy it`);
  const summary = await aws.log.getRunSummary(deployment.runId);
  if (!summary)
    return kept(`deployment ${deployment.id} names run ${deployment.runId}, which is not recorded`);
  const run = { runId: summary.runId, traceId: summary.traceId };
  const deps = lambdaStepDeps(forRun(aws, run.runId));
  const journal = await journalFor(deps, run);
  if (requestOf(journal).capability === 'rollback') {
    return kept(
      `deployment ${deployment.id} is the redeploy of rollback run ${run.runId}: a person takes it from here`,
    );
  }
  if (summary.state !== 'completed') {
    return kept(`run ${run.runId} is ${summary.state}: a run watches its own deployment until it completes`);
  }
  const existing = await aws.records.get<Incident>(INCIDENT_KIND, `inc-${deployment.id}`);
  if (existing && existing.status !== 'open' && existing.status !== 'rolling-back') {
    return kept(`incident ${existing.id} is already ${existing.status}`);
  }
  if (!rollbacks) return kept('the stage has no rollback state machine (GANTRY_ROLLBACK_MACHINE_ARN)');
  if (!existing) {
    const history = await deployments.history(target.service, 'production');
    const previous = history.find((d) => d.id !== deployment.id && d.startedAt <= deployment.startedAt);
    await openIncident(deps, journal, {
      source: 'alarm',
      deployment,
      ...(previous ? { previous } : {}),
      detectedAt: record.at,
      summary: `production alarm ${record.alarm} on ${target.service} after deployment ${deployment.id}${deployment.pullRequest === undefined ? '' : ` (pull request #${deployment.pullRequest})`}: ${record.reason ?? 'in ALARM'}`,
      figures: [{ label: `alarm ${record.alarm}`, reasons: record.reason ? [record.reason] : [] }],
    });
  }
  const started = await startRollback(deps, { run });
  const rollbackRun = started.run.runId;
  if (rollbackRun !== rollbackRunIdFor(started.incidentId)) {
    throw new Error(`startRollback returned run ${rollbackRun} for incident ${started.incidentId}`);
  }
  let execution = 'already-started';
  try {
    const answer = await rollbacks.client.send(
      new StartExecutionCommand({
        stateMachineArn: rollbacks.stateMachineArn,
        name: rollbackRun,
        input: JSON.stringify({ run: started.run }),
      }),
    );
    execution = answer.executionArn ?? execution;
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
  }
  return { action: 'rollback-started', incidentId: started.incidentId, rollbackRun, execution };
}

/**
 * Builds the alarm router. Each change is kept in the record store under {@link ALARM_KIND}, tagged with
 * the `control-plane` log it belongs to (the same delivery twice overwrites its own record); a production
 * alarm on a Gantry deployment then starts its rollback ({@link routeAlarm}).
 *
 * @example
 * export const handler = createAlarmRouter({ deps, rollbacks: () => ({ client: new SFNClient({}), stateMachineArn }), observability: observability('alarms') });
 */
export function createAlarmRouter(options: AlarmRouterOptions): AlarmRouterHandler {
  const { logger, metrics, tracer } = options.observability;
  const handler = async (event: unknown): Promise<AlarmRouting> => {
    const parsed = AlarmStateChange.safeParse(event);
    if (!parsed.success) {
      throw new InvalidInputError(
        `not a CloudWatch alarm state change: ${formatZodIssues(parsed.error.issues)}`,
        {
          hint: 'route only `CloudWatch Alarm State Change` events from aws.cloudwatch to this function',
        },
      );
    }
    const { detail, time, account, region } = parsed.data;
    const aws = await options.deps();
    const record: AlarmRecord = {
      log: CONTROL_PLANE_LOG,
      alarm: detail.alarmName,
      state: detail.state.value,
      previousState: detail.previousState?.value,
      reason: detail.state.reason,
      at: isoTime(detail.state.timestamp, time),
      account,
      region,
    };
    await aws.records.put(ALARM_KIND, `${record.alarm}@${record.at}`, record);
    metrics.addDimension('state', record.state);
    metrics.addMetric('AlarmStateChanges', MetricUnit.Count, 1);
    logger.warn('alarm state changed', { ...record });
    const route = await routeAlarm(aws, record, options.rollbacks?.());
    if (route.action === 'rollback-started') {
      metrics.addMetric('RollbacksStarted', MetricUnit.Count, 1);
      logger.warn('rollback started for a production alarm', { ...route, alarm: record.alarm });
    } else {
      logger.info('alarm kept', { alarm: record.alarm, reason: route.reason });
    }
    return { record, route };
  };
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer)) as unknown as AlarmRouterHandler;
}

let built: AlarmRouterHandler | undefined;

/** The deployed entry: built on first use, so importing this module needs no environment. */
export const handler: AlarmRouterHandler = (event, context) => {
  if (!built) {
    const stateMachineArn = process.env.GANTRY_ROLLBACK_MACHINE_ARN;
    const client = new SFNClient({});
    built = createAlarmRouter({
      deps: once(() => createAwsStepDeps(process.env, { requireSigningKey: false })),
      ...(stateMachineArn ? { rollbacks: () => ({ client, stateMachineArn }) } : {}),
      observability: observability('gantry-alarms'),
    });
  }
  return built(event, context);
};

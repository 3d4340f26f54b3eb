/**
 * Receives `CloudWatch Alarm State Change` events from the default bus and keeps each one on the
 * platform's record. Starting a rollback run for an alarm arrives with the delivery-loop work (the
 * rollback capability exists; nothing starts it from an alarm yet).
 *
 * Environment: the table variables `createAwsStepDeps` reads (src/adapters/aws/aws-runtime.ts).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { createAwsStepDeps } from '../src/adapters/aws/aws-runtime.js';
import { formatZodIssues, InvalidInputError } from '../src/domain/errors.js';
import { CONTROL_PLANE_LOG } from '../src/policy/kill-switch.js';
import type { RecordStore } from '../src/ports/event-log.js';
import { type Observability, observability, once } from './lambda-runtime.js';

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

/** Record kind of alarm state changes, keyed `<alarm>@<time>`. */
export const ALARM_KIND = 'alarm-state-change';

export interface AlarmRouterOptions {
  records: () => Promise<RecordStore>;
  observability: Observability;
}

export type AlarmRouterHandler = (
  event: EventBridgeEvent<'CloudWatch Alarm State Change', unknown>,
  context: Context,
) => Promise<AlarmRecord>;

/**
 * Builds the alarm router. The event log has no alarm event type yet (src/domain/events.ts), so each
 * change is kept in the record store under {@link ALARM_KIND}, tagged with the `control-plane` log it
 * belongs to; the same delivery twice overwrites its own record.
 *
 * @example
 * export const handler = createAlarmRouter({ records: async () => deps.records, observability: observability('alarms') });
 */
export function createAlarmRouter(options: AlarmRouterOptions): AlarmRouterHandler {
  const { logger, metrics, tracer } = options.observability;
  const handler = async (event: unknown): Promise<AlarmRecord> => {
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
    const record: AlarmRecord = {
      log: CONTROL_PLANE_LOG,
      alarm: detail.alarmName,
      state: detail.state.value,
      previousState: detail.previousState?.value,
      reason: detail.state.reason,
      at: detail.state.timestamp ?? time,
      account,
      region,
    };
    await (await options.records()).put(ALARM_KIND, `${record.alarm}@${record.at}`, record);
    metrics.addDimension('state', record.state);
    metrics.addMetric('AlarmStateChanges', MetricUnit.Count, 1);
    logger.warn('alarm state changed', { ...record });
    return record;
  };
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer)) as unknown as AlarmRouterHandler;
}

let built: AlarmRouterHandler | undefined;

/** The deployed entry: built on first use, so importing this module needs no environment. */
export const handler: AlarmRouterHandler = (event, context) => {
  built ??= createAlarmRouter({
    records: once(async () => (await createAwsStepDeps(process.env, { requireSigningKey: false })).records),
    observability: observability('gantry-alarms'),
  });
  return built(event, context);
};

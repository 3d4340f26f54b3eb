import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import type { AlarmSignal } from '../ports/deployer.js';

/** The part of an EventBridge `CloudWatch Alarm State Change` event Gantry reads. */
export const AlarmStateChangeEvent = z.object({
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  time: z.string().datetime(),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']), reason: z.string().optional() }),
  }),
});

/**
 * How an alarm names what it watches: `<service>-<environment>-<metric>`, for example
 * `billing-service-production-error-rate`. The service's monitors are created with these names.
 */
export function parseAlarmName(
  name: string,
): { service: string; environment: 'staging' | 'production'; metric: string } | undefined {
  const match = /^(.+)-(staging|production)-([a-z0-9-]+)$/.exec(name);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  return { service: match[1], environment: match[2] as 'staging' | 'production', metric: match[3] };
}

const metricOf = (metric: string): AlarmSignal['metric'] =>
  metric.includes('latency') ? 'latency-p95' : metric.includes('health') ? 'health' : 'error-rate';

/**
 * Turns a CloudWatch alarm state change into the alarm signal the runtime routes; `origin` names the
 * input in errors.
 *
 * @example
 * const signal = alarmSignalFromEvent(JSON.parse(body), 'eventbridge');
 */
export function alarmSignalFromEvent(event: unknown, origin: string): AlarmSignal {
  const parsed = AlarmStateChangeEvent.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(
      `${origin} is not a CloudWatch alarm state change: ${formatZodIssues(parsed.error.issues)}`,
      {
        input: origin,
        hint: 'pass the EventBridge event as delivered (detail-type "CloudWatch Alarm State Change", source aws.cloudwatch)',
      },
    );
  }
  const { detail, time } = parsed.data;
  const named = parseAlarmName(detail.alarmName);
  if (!named) {
    throw new InvalidInputError(`alarm ${detail.alarmName} does not name a service and environment`, {
      input: origin,
      hint: 'name alarms <service>-<staging|production>-<metric>, e.g. billing-service-production-error-rate',
    });
  }
  if (detail.state.value !== 'ALARM') {
    throw new InvalidInputError(
      `alarm ${detail.alarmName} is ${detail.state.value}, not ALARM: there is nothing to roll back`,
      {
        input: origin,
        hint: 'only ALARM state changes start a rollback',
      },
    );
  }
  return {
    alarm: detail.alarmName,
    service: named.service,
    environment: named.environment,
    state: 'ALARM',
    metric: metricOf(named.metric),
    value: 0,
    threshold: 0,
    reason: detail.state.reason ?? 'alarm state ALARM',
    at: time,
  };
}

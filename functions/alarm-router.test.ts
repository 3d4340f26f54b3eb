import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALARM_KIND, type AlarmRecord, createAlarmRouter } from './alarm-router.js';
import { observability } from './lambda-runtime.js';
import { type LocalStage, lambdaContext, startLocalStage } from './testing/local-stage.js';

describe('the alarm router', () => {
  let stage: LocalStage;
  beforeAll(async () => {
    stage = await startLocalStage();
  });
  afterAll(async () => {
    await stage.stop();
  });

  it('keeps a CloudWatch alarm state change, tagged with the control-plane log', async () => {
    // Prepare
    const router = createAlarmRouter({
      records: async () => stage.deps.records,
      observability: observability('gantry-alarms-test'),
    });
    const event = {
      version: '0',
      id: 'e1',
      'detail-type': 'CloudWatch Alarm State Change' as const,
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: '2026-11-21T10:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:gantry-dev-failed-runs'],
      detail: {
        alarmName: 'gantry-dev-failed-runs',
        state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-21T10:00:00.000+0000' },
        previousState: { value: 'OK' },
      },
    };
    // Act
    const kept = await router(event, lambdaContext('AlarmRouter'));
    // Assess
    const stored = await stage.deps.records.list<AlarmRecord>(ALARM_KIND);
    expect(stored).toEqual([kept]);
    expect(kept).toMatchObject({
      log: 'control-plane',
      alarm: 'gantry-dev-failed-runs',
      state: 'ALARM',
      previousState: 'OK',
    });
  });

  it('refuses an event that is not an alarm state change', async () => {
    // Prepare
    const router = createAlarmRouter({
      records: async () => stage.deps.records,
      observability: observability('gantry-alarms-test'),
    });
    // Act
    const call = router(
      { 'detail-type': 'Something Else', detail: {} } as never,
      lambdaContext('AlarmRouter'),
    );
    // Assess
    await expect(call).rejects.toThrow(/not a CloudWatch alarm state change/);
  });
});

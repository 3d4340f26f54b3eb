import { type AwsPrices, HOURS_PER_MONTH } from './aws-prices.js';
import type { CostLineItem } from './run-cost.js';

/** The parts of a deployed stage that cost money while no run happens. */
export interface StageSettings {
  /**
   * Interface endpoints of the sandbox network (infra/network.ts: ECR API, ECR Docker, CloudWatch Logs,
   * Bedrock runtime, Step Functions, STS, KMS). S3 and DynamoDB use gateway endpoints, which are free.
   */
  interfaceEndpoints: number;
  /** Customer managed KMS keys (the sandbox grant key). */
  kmsKeys: number;
  /** Availability Zones the sandbox subnets span: each endpoint is billed once per zone. */
  availabilityZones: number;
  alarms: number;
  dashboards: number;
  logRetentionDays: number;
  /** Data kept from past runs; a fresh stage holds none. */
  storedLogsGb: number;
  storedTablesGb: number;
  storedArtifactsGb: number;
  /** Size of the sandbox image in ECR. */
  sandboxImageGb: number;
}

export const defaultStageSettings: StageSettings = {
  interfaceEndpoints: 7,
  kmsKeys: 1,
  availabilityZones: 2,
  alarms: 3,
  dashboards: 1,
  logRetentionDays: 30,
  storedLogsGb: 0,
  storedTablesGb: 0,
  storedArtifactsGb: 0,
  sandboxImageGb: 0.5,
};

export interface IdleCost {
  region: string;
  currency: 'USD';
  pricesVersion: string;
  settings: StageSettings;
  items: CostLineItem[];
  /** USD per month of 730 hours. */
  total: number;
}

/**
 * What a deployed stage costs a month with no runs. Interface endpoints are billed by the hour whether
 * traffic flows or not, so they dominate; on-demand tables, Lambda, Step Functions and Fargate cost
 * nothing idle and are listed at zero so the list shows every part of the stage.
 *
 * @example
 * const idle = idleMonthlyCost(await loadAwsPrices(), { interfaceEndpoints: 7, alarms: 3 });
 * idle.total // ≈ 76 USD a month, 73 of it endpoints
 */
export function idleMonthlyCost(prices: AwsPrices, settings: Partial<StageSettings> = {}): IdleCost {
  const stage = { ...defaultStageSettings, ...settings };
  const items: CostLineItem[] = [];
  const add = (item: Omit<CostLineItem, 'cost'>) =>
    items.push({ ...item, cost: item.quantity * item.unitPrice });
  const nothing = (item: string, unit: string, basis: string) =>
    add({ item, quantity: 0, unit, unitPrice: 0, basis });

  add({
    item: 'VPC interface endpoints',
    quantity: stage.interfaceEndpoints * stage.availabilityZones * HOURS_PER_MONTH,
    unit: 'endpoint-hour',
    unitPrice: prices.vpcEndpoints.interfacePerEndpointHour,
    basis: `${stage.interfaceEndpoints} endpoints × ${stage.availabilityZones} Availability Zones × ${HOURS_PER_MONTH} hours`,
  });
  add({
    item: 'VPC interface endpoint data processed',
    quantity: 0,
    unit: 'GB',
    unitPrice: prices.vpcEndpoints.interfacePerGbProcessed,
    basis: 'no sandbox task runs, so no traffic',
  });
  add({
    item: 'KMS keys',
    quantity: stage.kmsKeys,
    unit: 'key-month',
    unitPrice: prices.kms.perKeyMonth,
    basis: `${stage.kmsKeys} customer managed key (sandbox run grants), rotation on`,
  });
  add({
    item: 'CloudWatch alarms',
    quantity: stage.alarms,
    unit: 'alarm-month',
    unitPrice: prices.cloudwatch.alarmPerMonth,
    basis: 'standard resolution, billed whether or not they fire (free tier of 10 not applied)',
  });
  add({
    item: 'CloudWatch dashboards',
    quantity: stage.dashboards,
    unit: 'dashboard-month',
    unitPrice: prices.cloudwatch.dashboardPerMonth,
    basis: "the platform dashboard (an account's first 3 are free; not applied)",
  });
  add({
    item: 'CloudWatch custom metrics',
    quantity: 0,
    unit: 'metric-month',
    unitPrice: prices.cloudwatch.customMetricPerMonth,
    basis: 'billed per hour a metric is published; an idle stage publishes none',
  });
  add({
    item: 'CloudWatch Logs storage',
    quantity: stage.storedLogsGb,
    unit: 'GB-month',
    unitPrice: prices.cloudwatch.logsStoragePerGbMonth,
    basis: `logs of past runs, gone ${stage.logRetentionDays} days after the last run`,
  });
  add({
    item: 'DynamoDB storage',
    quantity: stage.storedTablesGb,
    unit: 'GB-month',
    unitPrice: prices.dynamodb.storagePerGbMonth,
    basis: 'event log, runs, records and idempotency tables (on-demand throughput costs nothing idle)',
  });
  add({
    item: 'DynamoDB point-in-time recovery',
    quantity: stage.storedTablesGb,
    unit: 'GB-month',
    unitPrice: prices.dynamodb.pointInTimeRecoveryPerGbMonth,
    basis: 'continuous backups of the same tables',
  });
  add({
    item: 'S3 artifact storage',
    quantity: stage.storedArtifactsGb,
    unit: 'GB-month',
    unitPrice: prices.s3.storagePerGbMonth,
    basis: 'artifacts of past runs',
  });
  add({
    item: 'ECR sandbox image',
    quantity: stage.sandboxImageGb,
    unit: 'GB-month',
    unitPrice: prices.ecr.storagePerGbMonth,
    basis: 'the sandbox container image',
  });
  nothing('Step Functions', 'transition', 'billed per state transition; no executions');
  nothing('Lambda', 'request', 'billed per request and GB-second; no invocations');
  nothing('Fargate', 'vCPU-second', 'the sandbox runs only as tasks started by a run; no service stays up');
  nothing('EventBridge', 'event', 'rules are free; alarm state changes are free AWS service events');
  nothing('X-Ray', 'trace', 'billed per trace recorded; no executions');

  return {
    region: prices.region,
    currency: 'USD',
    pricesVersion: prices.version,
    settings: stage,
    items,
    total: items.reduce((sum, i) => sum + i.cost, 0),
  };
}

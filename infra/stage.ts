/**
 * The stage being deployed: its validated settings (stacks/), its naming prefix and the account facts
 * other infra files build ARNs from. Imported first by every infra file.
 */
import { loadStageSettings } from '../stacks/index.js';

export const settings = loadStageSettings($app.stage);
export const isProduction = $app.stage === 'production';
/** Physical names start with this, so two stages never collide in one account. */
export const prefix = `${$app.name}-${$app.stage}`;
export const region = aws.getRegionOutput().region;
export const accountId = aws.getCallerIdentityOutput().accountId;
export const partition = aws.getPartitionOutput().partition;

/** SST's retention names for the stage's log retention in days. */
const retentionNames = {
  7: '1 week',
  14: '2 weeks',
  30: '1 month',
  90: '3 months',
  180: '6 months',
  365: '1 year',
} as const;
export const logRetention = retentionNames[settings.logRetentionDays];

/** The Powertools metrics namespace every function and the dashboard share. */
export const METRICS_NAMESPACE = 'Gantry';

/** An IAM statement as JSON policy documents spell it. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: $util.Input<$util.Input<string>[]>;
  Condition?: Record<string, Record<string, $util.Input<string | string[]>>>;
}

/** A policy document from statements whose resources may be outputs. */
export function policyDocument(statements: Statement[]) {
  return $jsonStringify({ Version: '2012-10-17', Statement: statements });
}

/** A trust policy letting one AWS service assume the role. */
export function trustPolicy(service: string) {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

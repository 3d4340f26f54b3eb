/**
 * DynamoDB tables of the event log (src/adapters/aws/dynamodb-event-log.ts) and of Powertools
 * idempotency: on demand, point-in-time recovery on, deletion protection in production.
 */
import { isProduction, prefix } from './stage.js';

const protections = {
  billingMode: 'PAY_PER_REQUEST',
  pointInTimeRecovery: { enabled: true },
  serverSideEncryption: { enabled: true },
  deletionProtectionEnabled: isProduction,
} as const;

export const eventsTable = new aws.dynamodb.Table('EventsTable', {
  name: `${prefix}-events`,
  hashKey: 'runId',
  rangeKey: 'seq',
  attributes: [
    { name: 'runId', type: 'S' },
    { name: 'seq', type: 'N' },
  ],
  ...protections,
});

export const runsTable = new aws.dynamodb.Table('RunsTable', {
  name: `${prefix}-runs`,
  hashKey: 'runId',
  attributes: [
    { name: 'runId', type: 'S' },
    { name: 'state', type: 'S' },
    { name: 'kind', type: 'S' },
    { name: 'updatedAt', type: 'S' },
  ],
  globalSecondaryIndexes: [
    { name: 'byState', hashKey: 'state', rangeKey: 'updatedAt', projectionType: 'ALL' },
    { name: 'byTime', hashKey: 'kind', rangeKey: 'updatedAt', projectionType: 'ALL' },
  ],
  ...protections,
});

export const recordsTable = new aws.dynamodb.Table('RecordsTable', {
  name: `${prefix}-records`,
  hashKey: 'kind',
  rangeKey: 'id',
  attributes: [
    { name: 'kind', type: 'S' },
    { name: 'id', type: 'S' },
  ],
  ...protections,
});

export const idempotencyTable = new aws.dynamodb.Table('IdempotencyTable', {
  name: `${prefix}-idempotency`,
  hashKey: 'id',
  attributes: [{ name: 'id', type: 'S' }],
  ttl: { attributeName: 'expiration', enabled: true },
  ...protections,
});

/** Table ARNs with their indexes, for policies of the readers and writers of the run journal. */
export const journalTableArns = [eventsTable.arn, runsTable.arn, recordsTable.arn];
export const journalIndexArns = [$interpolate`${runsTable.arn}/index/*`];

import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { EventConflictError } from '../../domain/errors.js';
import { type NewRunEvent, RunEvent } from '../../domain/events.js';
import { type RunState, RunSummary } from '../../domain/run.js';
import type { EventLog, RecordStore } from '../../ports/event-log.js';

export interface DynamoTableNames {
  /** pk `runId` (S), sk `seq` (N): the append-only log. */
  events: string;
  /** pk `runId` (S); GSIs `byState` (state, updatedAt) and `byTime` (kind, updatedAt). */
  runs: string;
  /** pk `kind` (S), sk `id` (S): approvals, switches, counters. */
  records: string;
}

export const defaultTableNames = (prefix = 'gantry'): DynamoTableNames => ({
  events: `${prefix}-events`,
  runs: `${prefix}-runs`,
  records: `${prefix}-records`,
});

const MAX_APPEND_ATTEMPTS = 10;

/**
 * The event log on DynamoDB: one item per event, `seq` assigned by conditional put so two writers
 * can never take the same position. The same adapter runs against dynalite locally and DynamoDB on AWS.
 *
 * @example
 * const log = new DynamoEventLog(client, defaultTableNames());
 * await log.append({ runId, key: 'risk', type: 'risk.classified', traceId, actor, policyVersion, data });
 */
export class DynamoEventLog implements EventLog, RecordStore {
  private readonly doc: DynamoDBDocumentClient;
  /** Per-run tail (last seq and the keys held), loaded from the table the first time a run is written. */
  private readonly tails = new Map<string, { seq: number; byKey: Map<string, RunEvent> }>();
  /** Appends to one run are serialised within this process; other processes are fenced by the condition. */
  private readonly appending = new Map<string, Promise<unknown>>();

  constructor(
    client: DynamoDBClient,
    readonly tables: DynamoTableNames,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  append(event: NewRunEvent): Promise<RunEvent> {
    const previous = this.appending.get(event.runId) ?? Promise.resolve();
    const next = previous.then(
      () => this.appendNow(event),
      () => this.appendNow(event),
    );
    this.appending.set(event.runId, next);
    return next;
  }

  private async appendNow(event: NewRunEvent): Promise<RunEvent> {
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const tail = await this.tail(event.runId);
      const existing = tail.byKey.get(event.key);
      if (existing) return existing;
      const stored = RunEvent.parse({
        ...event,
        seq: tail.seq + 1,
        at: event.at ?? this.now().toISOString(),
      }) as RunEvent;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tables.events,
            Item: stored,
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        );
        tail.seq = stored.seq;
        tail.byKey.set(stored.key, stored);
        return stored;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer took this position: reload the tail and try again after a short, jittered pause.
        this.tails.delete(event.runId);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
    throw new EventConflictError(
      `could not append event ${event.key} to run ${event.runId}: the sequence kept moving`,
      {
        input: event.runId,
        hint: 'another process is writing this run; let it finish or stop it, then resume',
      },
    );
  }

  async read(runId: string): Promise<RunEvent[]> {
    const events: RunEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.events,
          KeyConditionExpression: 'runId = :r',
          ExpressionAttributeValues: { ':r': runId },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) events.push(RunEvent.parse(item) as RunEvent);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return events;
  }

  async putRunSummary(summary: RunSummary): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tables.runs, Item: { ...RunSummary.parse(summary), kind: 'run' } }),
    );
  }

  async getRunSummary(runId: string): Promise<RunSummary | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.runs, Key: { runId }, ConsistentRead: true }),
    );
    return Item ? parseSummary(Item) : undefined;
  }

  async listRuns(query: { state?: RunState; limit?: number } = {}): Promise<RunSummary[]> {
    const { Items } = await this.doc.send(
      new QueryCommand(
        query.state
          ? {
              TableName: this.tables.runs,
              IndexName: 'byState',
              KeyConditionExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': 'state' },
              ExpressionAttributeValues: { ':s': query.state },
              ScanIndexForward: false,
              Limit: query.limit,
            }
          : {
              TableName: this.tables.runs,
              IndexName: 'byTime',
              KeyConditionExpression: 'kind = :k',
              ExpressionAttributeValues: { ':k': 'run' },
              ScanIndexForward: false,
              Limit: query.limit,
            },
      ),
    );
    return (Items ?? []).map(parseSummary);
  }

  async get<T>(kind: string, id: string): Promise<T | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.records, Key: { kind, id }, ConsistentRead: true }),
    );
    return Item?.value as T | undefined;
  }

  async put<T>(kind: string, id: string, value: T, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.records,
          Item: { kind, id, value },
          ConditionExpression: options.ifAbsent ? 'attribute_not_exists(id)' : undefined,
        }),
      );
      return true;
    } catch (error) {
      if (options.ifAbsent && error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async increment(kind: string, id: string, options: { limit?: number } = {}): Promise<number | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.records,
          Key: { kind, id },
          UpdateExpression: 'ADD #count :one',
          ConditionExpression:
            options.limit === undefined ? undefined : 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: {
            ':one': 1,
            ...(options.limit === undefined ? {} : { ':limit': options.limit }),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Attributes?.count as number;
    } catch (error) {
      if (options.limit !== undefined && error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async list<T>(kind: string): Promise<T[]> {
    const values: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.records,
          KeyConditionExpression: 'kind = :k',
          ExpressionAttributeValues: { ':k': kind },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (item.value !== undefined) values.push(item.value as T);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return values;
  }

  private async tail(runId: string) {
    let tail = this.tails.get(runId);
    if (!tail) {
      const events = await this.read(runId);
      tail = { seq: events.at(-1)?.seq ?? 0, byKey: new Map(events.map((e) => [e.key, e])) };
      this.tails.set(runId, tail);
    }
    return tail;
  }
}

function parseSummary(item: Record<string, unknown>): RunSummary {
  const { kind: _kind, ...summary } = item;
  return RunSummary.parse(summary);
}

/** Creates the three tables when they are missing (the embedded runtime; on AWS the infra owns them). */
export async function ensureEventLogTables(client: DynamoDBClient, tables: DynamoTableNames): Promise<void> {
  const definitions = [
    {
      TableName: tables.events,
      AttributeDefinitions: [
        { AttributeName: 'runId', AttributeType: 'S' as const },
        { AttributeName: 'seq', AttributeType: 'N' as const },
      ],
      KeySchema: [
        { AttributeName: 'runId', KeyType: 'HASH' as const },
        { AttributeName: 'seq', KeyType: 'RANGE' as const },
      ],
    },
    {
      TableName: tables.runs,
      AttributeDefinitions: [
        { AttributeName: 'runId', AttributeType: 'S' as const },
        { AttributeName: 'state', AttributeType: 'S' as const },
        { AttributeName: 'kind', AttributeType: 'S' as const },
        { AttributeName: 'updatedAt', AttributeType: 'S' as const },
      ],
      KeySchema: [{ AttributeName: 'runId', KeyType: 'HASH' as const }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byState',
          KeySchema: [
            { AttributeName: 'state', KeyType: 'HASH' as const },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'ALL' as const },
        },
        {
          IndexName: 'byTime',
          KeySchema: [
            { AttributeName: 'kind', KeyType: 'HASH' as const },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'ALL' as const },
        },
      ],
    },
    {
      TableName: tables.records,
      AttributeDefinitions: [
        { AttributeName: 'kind', AttributeType: 'S' as const },
        { AttributeName: 'id', AttributeType: 'S' as const },
      ],
      KeySchema: [
        { AttributeName: 'kind', KeyType: 'HASH' as const },
        { AttributeName: 'id', KeyType: 'RANGE' as const },
      ],
    },
  ];
  for (const definition of definitions) {
    try {
      await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await client.send(new CreateTableCommand({ ...definition, BillingMode: 'PAY_PER_REQUEST' }));
    }
  }
}

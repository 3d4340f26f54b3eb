import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import {
  DynamoEventLog,
  defaultTableNames,
  ensureEventLogTables,
} from '../src/adapters/aws/dynamodb-event-log.js';
import { ensureBucket, S3ArtifactStore } from '../src/adapters/aws/s3-artifact-store.js';
import type { NewRunEvent } from '../src/domain/events.js';
import { replayRun } from '../src/evidence/replay.js';
import { projectRunSummary } from '../src/evidence/run-projection.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { startLocalEngines } from '../src/local/engines.js';
import { median, withTempDir } from './measure.js';

const requestFile = fileURLToPath(new URL('../examples/billing-service/request.yaml', import.meta.url));
const actor = { kind: 'system', id: 'bench' } as const;
const policyVersion = 'bench';

/** Event log figures on dynalite: append rates and replay times of one run of `events` events. */
export interface EventLogFigures {
  events: number;
  appendPerSecond: number;
  /** The same number of plain PutItem calls of the stored events, on the same engine. */
  rawPutPerSecond: number;
  /** Median of `log.read` + `projectRunSummary`. */
  replayMs: number;
  /** Median of `replayRun`: the read, the integrity checks, the summary comparison and artifact checks. */
  fullReplayMs: number;
  artifactsVerified: number;
}

/**
 * A run of `count` events shaped like an agent's: the request, then model turns, tool requests and
 * tool results, then the final state. Artifact fields name a few real artifacts, as a run's do.
 */
function syntheticRun(
  count: number,
  run: { runId: string; traceId: string },
  hashes: { raw: string; response: string; output: string },
  request: Awaited<ReturnType<typeof parseRequestFile>>,
): NewRunEvent[] {
  const envelope = { ...run, actor, policyVersion };
  const events: NewRunEvent[] = [
    { ...envelope, key: 'request', type: 'request.received', data: { request, raw: hashes.raw } },
    { ...envelope, key: 'run:received', type: 'run.state', data: { state: 'received' } },
  ];
  for (let i = 0; events.length < count - 1; i++) {
    const callId = `call-${i}`;
    const cycle: NewRunEvent[] = [
      {
        ...envelope,
        key: `turn:${i}`,
        type: 'model.turn',
        data: {
          phase: 'patch-1',
          turn: i,
          model: 'cassette:bench',
          response: hashes.response,
          inputTokens: 5000,
          outputTokens: 140,
          stopReason: 'tool_use',
          durationMs: 1,
        },
      },
      {
        ...envelope,
        key: `tool:${callId}:requested`,
        type: 'tool.requested',
        data: { callId, tool: 'read_file', argsHash: hashes.output, phase: 'patch-1' },
      },
      {
        ...envelope,
        key: `tool:${callId}:executed`,
        type: 'tool.executed',
        data: { callId, tool: 'read_file', ok: true, output: hashes.output, truncated: false, durationMs: 1 },
      },
    ];
    events.push(...cycle.slice(0, count - 1 - events.length));
  }
  events.push({ ...envelope, key: 'run:final', type: 'run.state', data: { state: 'completed' } });
  return events;
}

/**
 * Appends a run of `events` events through {@link DynamoEventLog} on a fresh dynalite, times the
 * same number of raw PutItem calls as the baseline, then replays the run `replays` times.
 *
 * @example
 * const figures = await measureEventLog({ events: 1000, replays: 5 });
 * figures.replayMs < 200;
 */
export async function measureEventLog(options: {
  events: number;
  replays: number;
}): Promise<EventLogFigures> {
  const request = await parseRequestFile(requestFile);
  return withTempDir('gantry-bench-log-', async (dataDir) => {
    const engines = await startLocalEngines(dataDir);
    try {
      const tables = defaultTableNames();
      await ensureEventLogTables(engines.dynamo, tables);
      await ensureBucket(engines.s3, 'gantry-artifacts');
      const log = new DynamoEventLog(engines.dynamo, tables);
      const artifacts = new S3ArtifactStore(engines.s3, 'gantry-artifacts');
      const hashes = {
        raw: await artifacts.put(JSON.stringify(request)),
        response: await artifacts.put('{"stopReason":"tool_use"}'),
        output: await artifacts.put('export const total = (lines) => 0;\n'),
      };
      const run = { runId: ulid(), traceId: randomBytes(16).toString('hex') };
      const events = syntheticRun(options.events, run, hashes, request);

      const appendStart = performance.now();
      const stored = [];
      for (const event of events) stored.push(await log.append(event));
      const appendMs = performance.now() - appendStart;
      const summary = projectRunSummary(stored);
      if (summary) await log.putRunSummary(summary);

      const doc = DynamoDBDocumentClient.from(engines.dynamo);
      const baselineRunId = ulid();
      const putStart = performance.now();
      for (const event of stored) {
        await doc.send(
          new PutCommand({ TableName: tables.events, Item: { ...event, runId: baselineRunId } }),
        );
      }
      const putMs = performance.now() - putStart;

      const replays: number[] = [];
      const fullReplays: number[] = [];
      let artifactsVerified = 0;
      for (let i = 0; i < options.replays; i++) {
        const start = performance.now();
        const read = await log.read(run.runId);
        const projected = projectRunSummary(read);
        replays.push(performance.now() - start);
        if (read.length !== options.events || projected?.state !== 'completed') {
          throw new Error(
            `replay read ${read.length} events ending ${projected?.state}, expected ${options.events} ending completed`,
          );
        }

        const fullStart = performance.now();
        const report = await replayRun(log, artifacts, run.runId);
        fullReplays.push(performance.now() - fullStart);
        if (report.problems.length > 0)
          throw new Error(`replay found problems: ${report.problems.join('; ')}`);
        artifactsVerified = report.artifactsVerified;
      }

      return {
        events: options.events,
        appendPerSecond: (options.events / appendMs) * 1000,
        rawPutPerSecond: (options.events / putMs) * 1000,
        replayMs: median(replays),
        fullReplayMs: median(fullReplays),
        artifactsVerified,
      };
    } finally {
      await engines.stop();
    }
  });
}

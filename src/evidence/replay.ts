import { GantryError } from '../domain/errors.js';
import type { RunEvent } from '../domain/events.js';
import type { RunSummary } from '../domain/run.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import type { EventLog } from '../ports/event-log.js';
import { projectRunSummary } from './run-projection.js';

/** Event data fields that name an artifact by hash (argsHash is a digest of arguments, not an artifact). */
const artifactFields = new Set([
  'raw',
  'artifact',
  'response',
  'output',
  'before',
  'after',
  'json',
  'markdown',
  'body',
]);

export interface ReplayReport {
  runId: string;
  events: number;
  artifactsVerified: number;
  summary: RunSummary | undefined;
  problems: string[];
}

/** Every artifact hash an event refers to. */
export function artifactsOf(event: RunEvent): string[] {
  const found: string[] = [];
  const walk = (value: unknown, key: string | undefined) => {
    if (typeof value === 'string') {
      if (key && artifactFields.has(key) && /^[a-f0-9]{64}$/.test(value)) found.push(value);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item, key);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(event.data, undefined);
  return found;
}

/**
 * Rebuilds a run's state from its events alone and checks the log's integrity: gapless sequence,
 * unique keys, one trace, the stored summary equal to the projection, and every artifact hash verified.
 */
export async function replayRun(
  log: EventLog,
  artifacts: ArtifactStore,
  runId: string,
): Promise<ReplayReport> {
  const events = await log.read(runId);
  const problems: string[] = [];
  const keys = new Set<string>();
  events.forEach((event, index) => {
    if (event.seq !== index + 1)
      problems.push(`event ${event.key} has sequence ${event.seq}, expected ${index + 1}`);
    if (keys.has(event.key)) problems.push(`event key ${event.key} appears twice`);
    keys.add(event.key);
    if (event.traceId !== events[0]?.traceId) problems.push(`event ${event.key} carries another trace id`);
  });
  const summary = projectRunSummary(events);
  const stored = await log.getRunSummary(runId);
  if (summary && stored) {
    for (const field of ['state', 'pullRequest', 'evidence', 'reason'] as const) {
      if (summary[field] !== stored[field]) {
        problems.push(
          `stored summary says ${field}=${stored[field] ?? '(none)'}, the events say ${summary[field] ?? '(none)'}`,
        );
      }
    }
  }
  const hashes = new Set(events.flatMap(artifactsOf));
  let artifactsVerified = 0;
  for (const hash of hashes) {
    try {
      await artifacts.get(hash);
      artifactsVerified++;
    } catch (error) {
      problems.push(error instanceof GantryError ? error.message : `artifact ${hash}: ${String(error)}`);
    }
  }
  return { runId, events: events.length, artifactsVerified, summary, problems };
}

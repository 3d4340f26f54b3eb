import type { EngineeringRequest } from '../domain/request.js';
import { redactRequest } from '../gateway/redact.js';
import { journalFor, refreshSummary } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/**
 * Records a new run's request (redacted, raw text stored by hash) and its `received` state. Keyed writes:
 * recording the same run twice changes nothing.
 *
 * @example
 * await recordNewRun(deps, { runId, traceId }, request);
 */
export async function recordNewRun(
  deps: StepDeps,
  run: RunRef,
  request: EngineeringRequest,
  raw?: string,
): Promise<void> {
  const journal = await journalFor(deps, run);
  if (journal.find('request', 'request.received')) return;
  const rawHash = await deps.artifacts.put(
    deps.redactor.redact(raw ?? JSON.stringify(request, null, 2)).text,
    'text/plain; charset=utf-8',
  );
  await journal.record(
    'request',
    'request.received',
    { kind: 'system', id: 'intake' },
    {
      request: redactRequest(request, deps.redactor),
      raw: rawHash,
    },
  );
  await journal.record('run:received', 'run.state', { kind: 'system', id: 'intake' }, { state: 'received' });
  await refreshSummary(deps, journal);
}

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { EngineeringRequest, RequestFile } from '../domain/request.js';
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

/** Where a filed request is written. */
export const filedRequestPath = (dir: string, id: string) => join(dir, `${id}.yaml`);

/**
 * Writes a request Gantry files for people (fix forward, health) where they pick it up: `<dir>/<id>.yaml`,
 * a request file `gantry run` reads, headed by a comment saying why; redacted, and stored by hash too.
 *
 * @example
 * const { file, artifact } = await writeFiledRequest(deps, '.gantry/requests', id, 'Filed by gantry health', request);
 */
export async function writeFiledRequest(
  deps: Pick<StepDeps, 'artifacts' | 'redactor'>,
  dir: string,
  id: string,
  why: string,
  request: Partial<RequestFile>,
): Promise<{ file: string; artifact: string }> {
  const text = deps.redactor.redact(`# ${why}\n${stringify(request)}`).text;
  const file = filedRequestPath(dir, id);
  await mkdir(dir, { recursive: true });
  await writeFile(file, text);
  return { file, artifact: await deps.artifacts.put(text, 'application/yaml') };
}

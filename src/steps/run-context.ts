import type { EngineeringRequest } from '../domain/request.js';
import type { Actor } from '../domain/run.js';
import { RunJournal } from '../evidence/run-journal.js';
import { projectRunSummary } from '../evidence/run-projection.js';
import type { RunRef, StepDeps } from './step-deps.js';

const journals = new WeakMap<StepDeps, Map<string, RunJournal>>();

/** The run's journal, opened once per process and kept for the following steps. */
export async function journalFor(deps: StepDeps, run: RunRef): Promise<RunJournal> {
  let byRun = journals.get(deps);
  if (!byRun) {
    byRun = new Map();
    journals.set(deps, byRun);
  }
  let journal = byRun.get(run.runId);
  if (!journal) {
    journal = await RunJournal.open(deps.log, run.runId, run.traceId, deps.policyVersion, deps.onEvent);
    byRun.set(run.runId, journal);
  }
  return journal;
}

/** Forgets cached journals, so the next step re-reads the log (after another process wrote it). */
export function forgetJournals(deps: StepDeps): void {
  journals.delete(deps);
}

export function requestOf(journal: RunJournal): EngineeringRequest {
  const received = journal.find('request', 'request.received');
  if (!received) throw new Error(`run ${journal.runId} has no request.received event`);
  return received.data.request;
}

export const stepActor = (step: string): Actor => ({ kind: 'step', id: step });
export const agentActor = (deps: StepDeps): Actor => ({
  kind: 'agent',
  id: deps.model.id,
  version: deps.settings.agentVersion,
});

/** Re-projects the run summary from the journal and stores it. */
export async function refreshSummary(deps: StepDeps, journal: RunJournal): Promise<void> {
  const summary = projectRunSummary(journal.events());
  if (summary) await deps.log.putRunSummary(summary);
}

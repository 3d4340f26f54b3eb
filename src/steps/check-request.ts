import type { RunJournal } from '../evidence/run-journal.js';
import { findAmbiguity } from '../intake/ambiguity.js';
import { journalFor, refreshSummary, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

const actor = stepActor('checkRequest');

/**
 * Accepts the request, or rejects it with its reason: no acceptance criteria (the agent would not know
 * when it is done), outside its capability contract, or over the capability's daily cap.
 */
export async function checkRequest(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ accepted: boolean; reason: string }> {
  const journal = await journalFor(deps, input.run);
  await journal.record('run:started', 'run.state', actor, { state: 'running' });
  await refreshSummary(deps, journal);
  const request = requestOf(journal);

  const ambiguity = findAmbiguity(request);
  if (ambiguity) return reject(journal, ambiguity.reason, ambiguity.missing);
  const contract = deps.capabilities.check(request);
  if (!contract.allowed)
    return reject(journal, `the request is outside its capability contract: ${contract.reasons.join('; ')}`, [
      'capability',
    ]);

  const cap = deps.capabilities.get(request.capability).dailyRunCap;
  const day = deps.now().toISOString().slice(0, 10);
  // The marker makes counting idempotent: a resumed run is not counted twice.
  if (await deps.records.put('daily-run', input.run.runId, { day }, { ifAbsent: true })) {
    const count = await deps.records.increment('daily-runs', `${request.capability}:${day}`, { limit: cap });
    if (count === undefined) {
      const reason = `capability ${request.capability} reached its daily cap of ${cap} runs on ${day}`;
      await journal.record('guard:daily-cap', 'guard.tripped', actor, { guard: 'daily-cap', reason });
    }
  }
  const capped = journal.find('guard:daily-cap', 'guard.tripped');
  if (capped) return reject(journal, capped.data.reason, ['capacity']);
  return { accepted: true, reason: '' };
}

async function reject(journal: RunJournal, reason: string, missing: string[]) {
  await journal.record('request:rejected', 'request.rejected', actor, { reason, missing });
  return { accepted: false, reason };
}

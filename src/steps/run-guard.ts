import { RunAbortedError, RunHaltedError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { budgetViolation, usageOf } from '../policy/budgets.js';
import { describeSwitch, engagedKillSwitch } from '../policy/kill-switch.js';
import { requestOf } from './run-context.js';
import type { StepDeps } from './step-deps.js';

const guardActor = { kind: 'system' as const, id: 'run-guard' };

/**
 * Stops a run that may not go on: an engaged kill switch aborts it, a spent budget halts it. Called
 * before every step and before every model turn, so a switch thrown mid-run takes effect at once.
 */
export async function assertRunMayContinue(
  deps: StepDeps,
  journal: RunJournal,
  options: { killSwitch?: boolean } = {},
) {
  const request = requestOf(journal);
  if (options.killSwitch !== false) {
    const engaged = await engagedKillSwitch(deps.records, {
      capability: request.capability,
      repository: request.repository.name,
    });
    if (engaged) {
      const reason = `${describeSwitch(engaged)} was engaged by ${engaged.by}: ${engaged.reason}`;
      await journal.record('guard:kill-switch', 'guard.tripped', guardActor, {
        guard: 'kill-switch',
        reason,
      });
      throw new RunAbortedError(reason, {
        input: journal.runId,
        hint: 'release the switch with `gantry resume` when it is safe, then submit the request again',
      });
    }
  }
  const budget = deps.budgetFor(request.capability);
  const violation = budgetViolation(usageOf(journal.events(), deps.prices, deps.now()), budget);
  if (violation) {
    await journal.record('guard:budget', 'guard.tripped', guardActor, { guard: 'budget', reason: violation });
    throw new RunHaltedError(`the run's budget is spent: ${violation}`, {
      input: request.capability,
      hint: `raise the ${request.capability} capability's budgets if this request deserves more, or narrow the request`,
    });
  }
}

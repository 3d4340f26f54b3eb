import type { ServiceSpec } from '../deploy/service-spec.js';
import { GantryError, RunHaltedError } from '../domain/errors.js';
import type { RunEventDataOf } from '../domain/events.js';
import type { RunJournal } from '../evidence/run-journal.js';
import type { Observation, ReleaseTarget } from '../ports/deployer.js';
import { requestOf, stepActor } from './run-context.js';
import type { DeliveryDeps, StepDeps } from './step-deps.js';

/** The delivery ports, or a clear error when the runtime was started without them. */
export function deliveryOf(deps: StepDeps): DeliveryDeps {
  if (!deps.delivery) {
    throw new GantryError('this runtime has no deployer or merge queue configured', {
      hint: 'the embedded runtime configures them; on AWS set the pipeline deployer (docs/aws.md)',
    });
  }
  return deps.delivery;
}

/** The deployable service of a repository (policies/services/), if there is one. */
export function serviceOf(delivery: DeliveryDeps, repository: string): ServiceSpec | undefined {
  return [...delivery.services.values()].find((s) => s.repository === repository);
}

export function requireService(delivery: DeliveryDeps, repository: string): ServiceSpec {
  const service = serviceOf(delivery, repository);
  if (!service) {
    throw new RunHaltedError(`repository ${repository} has no service definition to deploy`, {
      input: repository,
      hint: 'add policies/services/<service>.yaml naming this repository, or use a contract that does not deploy',
    });
  }
  return service;
}

/** What the run merged: the release target for the deployer. */
export function releaseTargetOf(journal: RunJournal, delivery: DeliveryDeps): ReleaseTarget {
  const merged = journal.find('merge', 'pr.merged');
  if (!merged) throw new Error(`run ${journal.runId} has merged nothing: there is nothing to deploy`);
  const request = requestOf(journal);
  const service = requireService(delivery, request.repository.name);
  return {
    service: service.name,
    repository: request.repository.name,
    commit: merged.data.mergeCommit,
    runId: journal.runId,
    pullRequest: merged.data.number,
    baselineCommit: merged.data.base,
  };
}

/** The incident this run opened (a failed rollout or an alarm while observing). */
export function openedIncident(journal: RunJournal) {
  return journal.events().find((e) => e.type === 'incident.opened');
}

/**
 * Watches a service's production for its observation window, once per `key`, and records it as an
 * `observation.completed` event. `onAlarm` runs with the raw observation when an alarm fired, before
 * the event is recorded (the rollout's observation opens its incident there).
 */
export async function observeOnce(
  journal: RunJournal,
  delivery: DeliveryDeps,
  options: {
    key: string;
    step: string;
    service: string;
    purpose: 'observe' | 'recovery';
    onAlarm?: (observation: Observation) => Promise<void>;
  },
): Promise<RunEventDataOf<'observation.completed'>> {
  const spec = delivery.services.get(options.service);
  return journal.once(options.key, 'observation.completed', stepActor(options.step), async () => {
    const observation = await delivery.deployer.observe(
      options.service,
      (spec?.observe.windowSeconds ?? 30) * 1000,
    );
    if (!observation.healthy) await options.onAlarm?.(observation);
    return {
      service: options.service,
      healthy: observation.healthy,
      stats: observation.stats,
      alarms: observation.alarms.map((a) => ({
        alarm: a.alarm,
        metric: a.metric,
        value: a.value,
        threshold: a.threshold,
      })),
      purpose: options.purpose,
    };
  });
}

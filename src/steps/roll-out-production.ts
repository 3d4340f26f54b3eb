import type { RunJournal } from '../evidence/run-journal.js';
import { type Incident, saveIncident } from '../incidents/incidents.js';
import type { AlarmSignal, Deployment, StepAnalysis } from '../ports/deployer.js';
import { deliveryOf, observeOnce, openedIncident, releaseTargetOf } from './delivery-context.js';
import { authorizeLifecycle } from './policy-context.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/**
 * Rolls the merged commit out to production by steps of traffic. Every analysis (promote, pause or
 * abort, with canary and baseline figures) is an event as it happens. An abort has already sent all
 * traffic back to the previous version; it opens an incident traced to this deployment, PR and run.
 */
export async function rollOutProduction(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ outcome: 'promoted' | 'aborted'; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const delivery = deliveryOf(deps);
  const actor = stepActor('rollOutProduction');
  const finished = journal.find('deploy:production', 'deploy.finished');
  if (finished) {
    return {
      outcome: finished.data.outcome === 'promoted' ? 'promoted' : 'aborted',
      reason: finished.data.reason,
    };
  }
  await authorizeLifecycle(deps, journal, 'deploy', { path: 'production' });
  const target = releaseTargetOf(journal, delivery);
  const result = await delivery.deployer.rollOut(target, {
    onStep: async (analysis) => {
      await journal.record(`deploy:step:${analysis.step}:${analysis.attempt}`, 'deploy.step', actor, {
        step: analysis.step,
        trafficPercent: analysis.trafficPercent,
        attempt: analysis.attempt,
        verdict: analysis.verdict,
        canary: analysis.canary,
        baseline: analysis.baseline,
        reasons: analysis.reasons,
      });
    },
  });
  if (result.outcome === 'aborted') {
    await openIncident(deps, journal, {
      source: 'analysis',
      deployment: result.deployment,
      previous: result.previous,
      detectedAt: result.detectedAt ?? deps.now().toISOString(),
      summary: `the rollout of ${target.commit.slice(0, 12)} (pull request #${target.pullRequest}) was aborted: ${result.reason}`,
      figures: result.analyses.map(figureOf),
    });
  }
  await journal.record('deploy:production', 'deploy.finished', actor, {
    environment: 'production',
    outcome: result.outcome,
    deploymentId: result.deployment.id,
    ...(result.previous ? { previousDeploymentId: result.previous.id } : {}),
    commit: result.deployment.commit,
    reason: result.reason,
    ...(result.detectedAt ? { detectedAt: result.detectedAt } : {}),
  });
  return { outcome: result.outcome, reason: result.reason };
}

/** Watches production for the service's observation window; an alarm opens an incident. */
export async function observeProduction(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ healthy: boolean; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const delivery = deliveryOf(deps);
  const target = releaseTargetOf(journal, delivery);
  const done = await observeOnce(journal, delivery, {
    key: 'observe',
    step: 'observeProduction',
    service: target.service,
    purpose: 'observe',
    onAlarm: async (observation) => {
      const deployment = await delivery.deployer.current(target.service, 'production');
      if (!deployment) return;
      await openIncident(deps, journal, {
        source: 'alarm',
        deployment,
        detectedAt: observation.alarms[0]?.at ?? deps.now().toISOString(),
        summary: `production alarm after the rollout of ${target.commit.slice(0, 12)}: ${describeAlarms(observation.alarms)}`,
        figures: [
          {
            label: 'observation window',
            canary: observation.stats,
            reasons: observation.alarms.map((a) => a.reason),
          },
        ],
      });
    },
  });
  return {
    healthy: done.healthy,
    reason: done.healthy
      ? 'production healthy through the observation window'
      : `production alarm: ${done.alarms.map((a) => a.alarm).join(', ')}`,
  };
}

export function describeAlarms(alarms: AlarmSignal[]): string {
  return alarms.map((a) => `${a.alarm} (${a.metric} ${round(a.value)} > ${round(a.threshold)})`).join(', ');
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function figureOf(analysis: StepAnalysis): Incident['figures'][number] {
  return {
    label: `${analysis.trafficPercent}% step, attempt ${analysis.attempt}: ${analysis.verdict}`,
    canary: analysis.canary,
    baseline: analysis.baseline,
    reasons: analysis.reasons,
  };
}

/**
 * Opens the incident for a deployment of this run and records it in the run's log. One incident per
 * deployment: a second alarm on the same deployment finds the first.
 */
export async function openIncident(
  deps: StepDeps,
  journal: RunJournal,
  details: {
    source: 'analysis' | 'alarm';
    deployment: Deployment;
    previous?: Deployment;
    detectedAt: string;
    summary: string;
    figures: Incident['figures'];
  },
): Promise<Incident> {
  const existing = openedIncident(journal);
  const request = requestOf(journal);
  const incident: Incident = {
    id: existing?.type === 'incident.opened' ? existing.data.incidentId : `inc-${details.deployment.id}`,
    source: details.source,
    service: details.deployment.service,
    repository: request.repository.name,
    environment: details.deployment.environment,
    deploymentId: details.deployment.id,
    commit: details.deployment.commit,
    ...(details.previous ? { previousCommit: details.previous.commit } : {}),
    ...(details.deployment.pullRequest !== undefined ? { pullRequest: details.deployment.pullRequest } : {}),
    offendingRun: journal.runId,
    testCommand: journal.find('context', 'context.built')?.data.testCommand ?? null,
    detectedAt: details.detectedAt,
    summary: deps.redactor.redact(details.summary).text,
    figures: details.figures,
    status: 'open',
  };
  await saveIncident(deps.records, incident);
  await journal.once('incident', 'incident.opened', stepActor('incident'), async () => ({
    incidentId: incident.id,
    source: incident.source,
    service: incident.service,
    deploymentId: incident.deploymentId,
    commit: incident.commit,
    ...(incident.pullRequest !== undefined ? { pullRequest: incident.pullRequest } : {}),
    offendingRun: incident.offendingRun,
    detectedAt: incident.detectedAt,
    summary: incident.summary,
  }));
  return incident;
}

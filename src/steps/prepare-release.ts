import { buildReleasePacket, renderReleasePacket } from '../release/index.js';
import { deliveryOf, releaseTargetOf, requireService } from './delivery-context.js';
import { decidedApprovals } from './policy-context.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RunRef, StepDeps } from './step-deps.js';

/**
 * The release-readiness packet, before anything deploys: the changes since the last release, the risk,
 * the checks, the approvals, the rollout plan, the monitors and the rollback method, stored by hash.
 * `ready` is computed from the packet; a packet that is not ready stops the run before staging.
 */
export async function prepareRelease(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ ready: boolean; reason: string; commit: string }> {
  const journal = await journalFor(deps, input.run);
  const delivery = deliveryOf(deps);
  const done = await journal.once('release', 'release.prepared', stepActor('prepareRelease'), async () => {
    const request = requestOf(journal);
    const target = releaseTargetOf(journal, delivery);
    const service = requireService(delivery, request.repository.name);
    const previous = await delivery.deployer.current(service.name, 'production');
    const changes = await deps.forge.commitsBetween(
      request.repository.name,
      previous?.commit ?? target.baselineCommit,
      target.commit,
    );
    const events = journal.events();
    const pr = journal.find('pr', 'pr.opened')?.data;
    const risk = journal.find('risk', 'risk.classified')?.data;
    const reproduction = journal.find('reproduction', 'reproduction.recorded')?.data;
    const verification = events.filter((e) => e.type === 'verification.completed').at(-1);
    const evidence = journal.find('evidence', 'evidence.assembled')?.data;
    const review = journal.find('review', 'review.completed')?.data;
    const merged = journal.find('merge', 'pr.merged')?.data;
    const packet = buildReleasePacket({
      service: service.name,
      repository: request.repository.name,
      commit: target.commit,
      previousRelease: previous
        ? { commit: previous.commit, deployedAt: previous.startedAt, deploymentId: previous.id }
        : undefined,
      changes,
      pullRequests: pr
        ? [{ number: pr.number, url: pr.url, title: request.title, runId: input.run.runId }]
        : [],
      risk: {
        tier: risk?.tier ?? 'critical',
        autonomyTier: risk?.maxAutonomyTier ?? 0,
        reasons: (risk?.reasons ?? []).map((r) => `${r.rule}: ${r.explanation}`),
      },
      checks: [
        {
          name: 'failing test before the patch',
          passed: reproduction?.reproduced ?? false,
          detail: reproduction?.reproduced
            ? 'the new test failed before the patch'
            : (reproduction?.reason ?? 'not recorded'),
        },
        {
          name: 'tests after the patch',
          passed: verification?.type === 'verification.completed' && verification.data.passed,
          detail:
            verification?.type === 'verification.completed'
              ? `exit ${verification.data.exitCode}`
              : 'not recorded',
        },
        {
          name: 'merge queue',
          passed: Boolean(merged),
          detail: merged
            ? `tested on ${merged.base.slice(0, 12)}, ${merged.testRuns} test run(s)`
            : 'not merged',
        },
        {
          name: 'review',
          passed: (review?.blockers ?? 1) === 0,
          detail: review ? `${review.findings} finding(s), ${review.blockers} blocker(s)` : 'no review',
        },
        {
          name: 'evidence packet',
          passed: evidence?.completeness === 1,
          detail: evidence ? `${Math.round(evidence.completeness * 100)}% complete` : 'none',
        },
      ],
      approvals: decidedApprovals(events),
      rolloutPlan: {
        steps: service.rollout.steps,
        intervalSeconds: service.rollout.intervalSeconds,
        analysis: service.rollout.analysis,
      },
      monitors: service.monitors,
      rollbackMethod: service.rollbackMethod,
      preparedAt: deps.now().toISOString(),
    });
    const [json, markdown] = await Promise.all([
      deps.artifacts.put(JSON.stringify(packet, null, 2), 'application/json'),
      deps.artifacts.put(renderReleasePacket(packet), 'text/markdown; charset=utf-8'),
    ]);
    return { json, markdown, commit: target.commit, ready: packet.ready, blockers: packet.blockers };
  });
  return {
    ready: done.ready,
    reason: done.ready ? 'ready' : `the release is not ready: ${done.blockers.join('; ')}`,
    commit: done.commit,
  };
}

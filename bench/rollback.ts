import { join, resolve } from 'node:path';
import type { RunEvent } from '../src/domain/events.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { openGantry } from '../src/local/runtime.js';
import { percentile, withTempDir } from './measure.js';

const example = resolve(import.meta.dirname, '..', 'examples', 'billing-service');
/** The example requests whose patch passes its tests but hurts the service under traffic. */
const regressions = ['negative-invoice-lines', 'yen-invoice-rounding'] as const;
/** Regressions per home: the contracts' daily run caps (rollback: 10) stay out of the measurement. */
const PER_HOME = 5;

export interface RollbackSample {
  regression: string;
  /** The rollout analysis (or alarm) that called it, to recovery confirmed under traffic. */
  mttrMs: number;
  /** Deployment start to detection. */
  detectionMs: number;
  recovered: boolean;
}

export interface RollbackFigures {
  samples: RollbackSample[];
  mttrP50Ms: number;
  mttrP95Ms: number;
  detectionP50Ms: number;
  successRate: number;
  /** Baseline: a bare redeploy of the previous commit plus the recovery check, without revert, PR or merge. */
  redeployFloorP50Ms: number;
}

const at = (event: RunEvent | undefined) => (event ? Date.parse(event.at) : Number.NaN);

/**
 * Injects `count` regressions, alternating the example's error and latency regressions, each as a full
 * run: the agent's patch from its cassette, review, merge approval, merge queue, staging, the progressive
 * rollout whose analysis aborts, and the rollback workflow (revert PR, merge, redeploy, recovery check,
 * fix-forward request). MTTR is measured from the log: the abort's `detectedAt` to the rollback run's
 * recovery observation. The baseline, in the same homes, is the deployer alone redeploying the commit
 * production ran before and checking recovery.
 *
 * @example
 * const figures = await measureRollback({ count: 20 });
 */
export async function measureRollback(options: { count: number }): Promise<RollbackFigures> {
  const samples: RollbackSample[] = [];
  const floors: number[] = [];
  for (let start = 0; start < options.count; start += PER_HOME) {
    await withTempDir('gantry-bench-rollback-', async (home) => {
      const gantry = await openGantry({ home: join(home, '.gantry'), env: {} });
      try {
        for (let i = start; i < Math.min(start + PER_HOME, options.count); i++) {
          const name = regressions[i % regressions.length] as string;
          const request = await parseRequestFile(join(example, 'requests', `${name}.yaml`));
          const cassette = `cassette:${join(example, 'cassettes', `${name}.yaml`)}`;
          const waiting = await gantry.submit(request, cassette);
          if (!waiting.approvalId)
            throw new Error(`${name}: expected the merge gate, got ${waiting.state} ${waiting.reason ?? ''}`);
          const outcome = await gantry.decide(waiting.approvalId, 'approved', 'sam.okafor');
          const events = await gantry.log.read(outcome.runId);
          const finished = events.find((e) => e.type === 'deploy.finished');
          const started = events.find((e) => e.type === 'deploy.staged');
          const rollback = events.find((e) => e.type === 'rollback.finished');
          const rollbackRun = rollback?.type === 'rollback.finished' ? rollback.data.rollbackRun : undefined;
          const rollbackEvents = rollbackRun ? await gantry.log.read(rollbackRun) : [];
          const recovery = rollbackEvents.find((e) => e.type === 'observation.completed');
          const detectedAt =
            finished?.type === 'deploy.finished' && finished.data.detectedAt
              ? Date.parse(finished.data.detectedAt)
              : at(finished);
          const recovered =
            outcome.state === 'rolled_back' &&
            recovery?.type === 'observation.completed' &&
            recovery.data.healthy;
          samples.push({
            regression: name,
            mttrMs: at(recovery) - detectedAt,
            detectionMs: detectedAt - at(started),
            recovered,
          });
        }
        // The floor: what production needs at the very least to recover, measured on the same service.
        const deployer = gantry.deployer;
        const live = await deployer?.current('billing-service', 'production');
        const previous = (await deployer?.history('billing-service', 'production'))?.find(
          (d) => d.commit !== live?.commit,
        );
        if (deployer && live && previous) {
          const t0 = performance.now();
          await deployer.redeploy({
            service: 'billing-service',
            repository: 'billing-service',
            commit: previous.commit,
            runId: 'bench',
          });
          await deployer.observe('billing-service', 3000);
          floors.push(performance.now() - t0);
        }
      } finally {
        await gantry.close();
      }
    });
  }
  const mttr = samples.filter((s) => s.recovered).map((s) => s.mttrMs);
  return {
    samples,
    mttrP50Ms: percentile(mttr, 50),
    mttrP95Ms: percentile(mttr, 95),
    detectionP50Ms: percentile(
      samples.map((s) => s.detectionMs),
      50,
    ),
    successRate: samples.filter((s) => s.recovered).length / samples.length,
    redeployFloorP50Ms: percentile(floors, 50),
  };
}

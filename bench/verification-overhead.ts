import { fileURLToPath } from 'node:url';
import { parseRequestFile } from '../src/intake/request-file.js';
import { Gantry } from '../src/local/runtime.js';
import { median, withTempDir } from './measure.js';

const requestFile = fileURLToPath(new URL('../examples/billing-service/request.yaml', import.meta.url));
const cassette = fileURLToPath(new URL('../examples/billing-service/cassette.yaml', import.meta.url));

/** What proving the patch costs on the example, in milliseconds, medians over the runs. */
export interface VerificationOverhead {
  /** The baseline suite run on the base commit, before the agent acts. */
  baselineMs: number;
  /** The integrity runs: the final tests on the base code, the repository's tests on the patched code. */
  integrityMs: number;
  /** One full suite run of the same run (the verification's). */
  suiteMs: number;
  runs: number;
}

/**
 * Runs the example `runs` times, each in a fresh home, and reads from each run's own events how long the
 * baseline and the integrity runs took against the verification's suite run of the same run.
 *
 * @example
 * const { baselineMs, integrityMs, suiteMs } = await measureVerificationOverhead(3);
 */
export async function measureVerificationOverhead(runs: number): Promise<VerificationOverhead> {
  const baseline: number[] = [];
  const integrity: number[] = [];
  const suite: number[] = [];
  for (let i = 0; i < runs; i++) {
    await withTempDir('gantry-bench-verify-', async (home) => {
      const gantry = await Gantry.open({ home });
      try {
        const outcome = await gantry.submit(await parseRequestFile(requestFile), `cassette:${cassette}`);
        const { events } = await gantry.show(outcome.runId);
        const took = (purpose: string) =>
          events.reduce(
            (sum, e) => sum + (e.type === 'test.run' && e.data.purpose === purpose ? e.data.durationMs : 0),
            0,
          );
        baseline.push(took('baseline'));
        integrity.push(took('integrity'));
        suite.push(took('verify'));
      } finally {
        await gantry.close();
      }
    });
  }
  return { baselineMs: median(baseline), integrityMs: median(integrity), suiteMs: median(suite), runs };
}

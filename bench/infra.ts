/**
 * The infra check figures: the seconds `runInfraCheck` takes for one stage (type check, bundles, the app
 * under Pulumi mocks, the rules) and the number of cloud resources it synthesises.
 */
import { runInfraCheck } from '../infra/check/check.js';

export interface InfraFigures {
  seconds: number;
  resources: number;
  ok: boolean;
}

/**
 * Runs the offline infra check for `stage` and returns its duration and resource count.
 *
 * @example
 * const { seconds, resources } = await measureInfraCheck('dev');
 */
export async function measureInfraCheck(stage = 'dev', root = process.cwd()): Promise<InfraFigures> {
  const report = await runInfraCheck(root, [stage]);
  return {
    seconds: report.seconds - report.platformInstallSeconds,
    resources: report.resources,
    ok: report.ok,
  };
}

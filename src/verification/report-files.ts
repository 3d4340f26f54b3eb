import picomatch from 'picomatch';
import type { ReporterPlan } from './reporter-selection.js';

/**
 * The paths among `candidates` that a plan's `files` name (exact paths or globs such as
 * `target/surefire-reports/TEST-*.xml`), sorted; none when the plan reads stdout. The caller lists the
 * candidates (the files under the workspace and the report directory after the run) and reads the matches.
 *
 * @example
 * reportFilesMatching(plan, ['target/surefire-reports/TEST-demo.CalcTest.xml', 'pom.xml']);
 * // ['target/surefire-reports/TEST-demo.CalcTest.xml']
 */
export function reportFilesMatching(
  plan: Pick<ReporterPlan, 'files'>,
  candidates: readonly string[],
): string[] {
  if (plan.files === 'stdout' || plan.files.length === 0) return [];
  const matches = picomatch(plan.files, { dot: true });
  return candidates.filter((path) => matches(path)).sort();
}

import type { RunJournal } from '../evidence/run-journal.js';
import { isTestFile } from '../policy/test-files.js';
import { requestOf } from './run-context.js';
import type { RepoState, StepDeps } from './step-deps.js';
import { recordedResults } from './test-evidence.js';
import { runTestSuite } from './test-suite-run.js';
import { WorkspaceGit } from './workspace-git.js';

/** Files whose content decides what the test command runs and how: scripts, runner configuration. */
export const TEST_SETUP_FILE =
  /(^|\/)(package\.json|[Mm]akefile|GNUmakefile|[^/]*\.mk|pyproject\.toml|setup\.cfg|tox\.ini|noxfile\.py|pytest\.ini|conftest\.py|Cargo\.toml|pom\.xml|build\.gradle(\.kts)?|settings\.gradle(\.kts)?|CMakeLists\.txt|justfile|\.mocharc\.[a-z]+|(jest|vitest|vite|karma|playwright|cypress)\.config\.[a-z]+|\.gantry\.ya?ml)$/;

/** What of package.json decides the tests: its scripts and the runners' own configuration keys. */
const PACKAGE_TEST_KEYS = ['scripts', 'jest', 'mocha', 'ava', 'c8', 'nyc', 'vitest'] as const;

function packageTestSetup(text: string | undefined): string {
  if (!text) return '';
  try {
    const manifest = JSON.parse(text) as Record<string, unknown>;
    return JSON.stringify(PACKAGE_TEST_KEYS.map((key) => manifest[key] ?? null));
  } catch {
    return text;
  }
}

/**
 * Test integrity, between the reproduction and the verification: the test setup (the test command's
 * scripts, the runner's configuration) is unchanged unless the capability contract allows changing it;
 * and the final reproduction test, run against the base code, still fails, so the patch did not make it
 * pass by weakening it (a skip, a removed assertion, an assertion changed to accept the old result).
 * Returns the problems, empty when the tests were not touched to pass.
 *
 * @example
 * const problems = await checkTestIntegrity(deps, journal, repo, 2);
 */
export async function checkTestIntegrity(
  deps: StepDeps,
  journal: RunJournal,
  repo: RepoState,
  iteration: number,
): Promise<string[]> {
  const git = new WorkspaceGit(repo.workspace, deps.settings.workspacesDir);
  const changes = await git.changes(repo.baseCommit);
  const problems: string[] = [];
  const contract = deps.capabilities.get(requestOf(journal).capability);
  if (!contract.verification.mayChangeTestSetup) {
    for (const change of changes.filter((c) => TEST_SETUP_FILE.test(c.path))) {
      if (change.path.endsWith('package.json') && change.status === 'modified') {
        const before = packageTestSetup(await git.show(repo.baseCommit, change.path));
        const after = packageTestSetup(await git.show('HEAD', change.path));
        if (before === after) continue;
      }
      problems.push(
        `${change.path} (the test setup) was ${change.status}: the ${contract.id} contract does not allow changing how the tests run`,
      );
    }
  }

  const reproduction = journal.find('reproduction', 'reproduction.recorded')?.data;
  if (repo.testCommand)
    problems.push(...(await originalTestsProblems(deps, journal, repo, iteration, changes)));
  const named = (reproduction?.failingTests ?? []).filter((test) => !test.id.startsWith('('));
  if (!reproduction?.reproduced || named.length === 0 || !repo.testCommand) return problems;
  // The base code with the final tests: everything but the tests back as it was. A file the agent named
  // as a test but that is code by the conventions (Rust's inline `mod tests`) holds both: it cannot be
  // split here, so the check against the base code is not made for such a change.
  const testFiles = reproduction.testFiles;
  const mixed = changes.filter((change) => testFiles.includes(change.path) && !isTestFile(change.path));
  if (mixed.length > 0) return problems;
  const sources = changes.filter((change) => !isTestFile(change.path, testFiles));
  if (sources.length === 0) {
    // Only tests changed, and the reproduction passes: the tree verified *is* the base code.
    return [
      ...problems,
      ...named.map(
        (test) =>
          `the reproduction test ${test.id} passes with no change to the code: the test was changed to pass, not the code fixed`,
      ),
    ];
  }
  const head = await git.head();
  try {
    await git.restoreFrom(repo.baseCommit, sources);
    const againstBase = await runTestSuite(deps, journal, {
      key: `verify-${iteration}:integrity`,
      purpose: 'integrity',
      argv: repo.testCommand,
      workspace: repo.workspace,
      step: 'verify',
      ...(repo.profile ? { profile: repo.profile } : {}),
    });
    const status = new Map(againstBase.results.tests.map((test) => [test.id, test.status]));
    for (const test of named) {
      if (status.get(test.id) !== 'failed') {
        problems.push(
          `the reproduction test ${test.id} ${status.has(test.id) ? `is ${status.get(test.id)}` : 'does not run'} against the base code: the final test no longer shows the reported problem`,
        );
      }
    }
  } finally {
    await git.resetTo(head);
  }
  return problems;
}

/**
 * The tests the repository already had, as they were, must pass on the final code: an existing test
 * file the change edited (its assertions emptied, its expectation moved) is put back at the base commit
 * for one more run, and every test of it that passed in the baseline must still pass.
 */
async function originalTestsProblems(
  deps: StepDeps,
  journal: RunJournal,
  repo: RepoState,
  iteration: number,
  changes: readonly { path: string; status: string }[],
): Promise<string[]> {
  // Conventional test files only: a declared one that is code too (Rust) would put the old code back.
  const editedTests = changes.filter((change) => change.status !== 'added' && isTestFile(change.path));
  if (editedTests.length === 0 || !repo.testCommand) return [];
  const git = new WorkspaceGit(repo.workspace, deps.settings.workspacesDir);
  const head = await git.head();
  try {
    await git.restoreFrom(repo.baseCommit, editedTests);
    const original = await runTestSuite(deps, journal, {
      key: `verify-${iteration}:original-tests`,
      purpose: 'integrity',
      argv: repo.testCommand,
      workspace: repo.workspace,
      step: 'verify',
      ...(repo.profile ? { profile: repo.profile } : {}),
    });
    const baseline = await recordedResults(deps, journal, 'baseline');
    const status = new Map(original.results.tests.map((test) => [test.id, test.status]));
    return (baseline?.tests ?? [])
      .filter((test) => test.status === 'passed' && status.get(test.id) !== 'passed')
      .map(
        (test) =>
          `${test.id} passed in the baseline and, as the repository wrote it, ${status.has(test.id) ? `is ${status.get(test.id)}` : 'does not run'} on the patched code: the change edited it instead of keeping its behaviour (${editedTests.map((c) => c.path).join(', ')})`,
      );
  } finally {
    await git.resetTo(head);
  }
}

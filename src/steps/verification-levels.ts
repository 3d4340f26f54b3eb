import type { RepositoryContext } from '../domain/context.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { describeResult } from '../gateway/tool-gateway.js';
import { stepActor } from './run-context.js';
import { profileCommand, type RepoState, type StepDeps } from './step-deps.js';

/** The cheap checks before the tests, cheapest first: each is its own verification level. */
export const CHEAP_LEVELS = ['format', 'lint', 'typecheck', 'build'] as const;
export type CheapLevel = (typeof CHEAP_LEVELS)[number];

/** The level commands the map selected, runnable from the repository root. */
export function levelCommands(
  context: Pick<RepositoryContext, 'selection'>,
): { level: CheapLevel; argv: string[] }[] {
  return CHEAP_LEVELS.flatMap((level) => {
    const choice = context.selection?.[level];
    if (!choice) return [];
    // A package's command without a root form would run in the wrong directory: left out.
    const argv = choice.cwd ? choice.rootArgv : (choice.rootArgv ?? choice.argv);
    return argv ? [{ level, argv }] : [];
  });
}

/**
 * Runs one cheap level (format, lint, type-check, build) in the sandbox, once per key, and records it as
 * a `verification.level` event with its command, exit code and output hash.
 */
export async function runLevel(
  deps: StepDeps,
  journal: RunJournal,
  repo: RepoState,
  options: { key: string; level: CheapLevel; argv: string[]; step: string },
): Promise<{ passed: boolean; exitCode: number; output: string }> {
  const recorded = await journal.once(
    options.key,
    'verification.level',
    stepActor(options.step),
    async () => {
      const result = await deps.sandbox.run({
        argv: options.argv,
        workspace: repo.workspace,
        limits: deps.settings.sandboxLimits,
        ...profileCommand(repo.profile),
      });
      return {
        level: options.level,
        argv: options.argv,
        exitCode: result.exitCode,
        passed: result.exitCode === 0 && !result.limitHit,
        output: await deps.artifacts.put(deps.redactor.redact(describeResult(result)).text),
      };
    },
  );
  return { passed: recorded.passed, exitCode: recorded.exitCode, output: recorded.output };
}

/**
 * The verification hierarchy before the tests: each level the map found runs on the patched tree, and a
 * level that passed on the base commit and fails now is the first problem (its output goes back to the
 * agent as a REASONING_ERROR). A level that already failed on the base commit is not the change's doing
 * and does not block.
 */
export async function cheapLevelProblems(
  deps: StepDeps,
  journal: RunJournal,
  repo: RepoState,
  context: Pick<RepositoryContext, 'selection'>,
  iteration: number,
): Promise<{ level: CheapLevel; problem: string; output: string } | undefined> {
  for (const { level, argv } of levelCommands(context)) {
    const before = journal.find(`baseline:${level}`, 'verification.level')?.data;
    if (!before?.passed) continue;
    const now = await runLevel(deps, journal, repo, {
      key: `verify-${iteration}:${level}`,
      level,
      argv,
      step: 'verify',
    });
    if (!now.passed) {
      return {
        level,
        problem: `the ${level} check \`${argv.join(' ')}\` passed on the base commit and fails now (exit ${now.exitCode})`,
        output: now.output,
      };
    }
  }
  return undefined;
}

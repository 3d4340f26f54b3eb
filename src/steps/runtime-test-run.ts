import { RunHaltedError } from '../domain/errors.js';
import type { RunEventDataOf } from '../domain/events.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { describeResult } from '../gateway/tool-gateway.js';
import { stepActor } from './run-context.js';
import { profileCommand, type SandboxProfile, type StepDeps } from './step-deps.js';

/**
 * Runs the repository's test command for the runtime itself (reproduction check, verification), once per
 * key. A run that hits a sandbox limit is not a test result: it halts the run with the limit named.
 */
export async function runtimeTestRun(
  deps: StepDeps,
  journal: RunJournal,
  options: {
    key: string;
    purpose: 'reproduce' | 'verify';
    argv: string[];
    workspace: string;
    step: string;
    profile?: SandboxProfile;
  },
): Promise<RunEventDataOf<'test.run'>> {
  let limitHit = null as string | null;
  const test = await journal.once(options.key, 'test.run', stepActor(options.step), async () => {
    const result = await deps.sandbox.run({
      argv: options.argv,
      workspace: options.workspace,
      limits: deps.settings.sandboxLimits,
      ...profileCommand(options.profile),
    });
    limitHit = result.limitHit;
    const output = await deps.artifacts.put(deps.redactor.redact(describeResult(result)).text);
    return {
      purpose: options.purpose,
      argv: options.argv,
      exitCode: result.exitCode,
      passed: result.exitCode === 0 && !result.limitHit,
      timedOut: result.timedOut,
      output,
      durationMs: result.durationMs,
    };
  });
  if (limitHit || test.timedOut) {
    const limit = limitHit ?? 'wall-time';
    const limits = deps.settings.sandboxLimits;
    await journal.record(`${options.key}:limit`, 'guard.tripped', stepActor(options.step), {
      guard: limit === 'disk' ? 'disk-limit' : 'sandbox-limit',
      reason: `\`${options.argv.join(' ')}\` hit the sandbox's ${limit} limit (${options.purpose})`,
    });
    if (limit === 'disk') {
      throw new RunHaltedError(
        `\`${options.argv.join(' ')}\` filled the workspace's disk while the runtime ran the tests (${options.purpose})`,
        {
          input: options.argv.join(' '),
          hint: 'the tests write more than the workspace may hold; make them clean up, or raise workspaceDisk.workspaceBytes in the home settings',
        },
      );
    }
    throw new RunHaltedError(
      `\`${options.argv.join(' ')}\` hit the sandbox's ${limit} limit while the runtime ran the tests (${options.purpose})`,
      {
        input: options.argv.join(' '),
        hint: `make the test command finish within the sandbox limits (wall time ${limits.wallTimeMs ?? 'default'} ms, output ${limits.maxOutputBytes ?? 'default'} bytes), or raise them in the runtime settings`,
      },
    );
  }
  return test;
}

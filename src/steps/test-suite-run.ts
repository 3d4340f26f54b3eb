import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { RunHaltedError } from '../domain/errors.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { describeResult } from '../gateway/tool-gateway.js';
import { parseTestRun } from '../verification/parse-test-run.js';
import { reportFilesMatching } from '../verification/report-files.js';
import { reporterFor } from '../verification/reporter-selection.js';
import { TestRunResult } from '../verification/test-run-result.js';
import { stepActor } from './run-context.js';
import { profileCommand, type SandboxProfile, type StepDeps } from './step-deps.js';

/** Where a run's report files go, inside the workspace (never committed: only recorded edits are). */
export const REPORTS_DIR = '.gantry-reports';

/** Directories never searched for report files: dependencies and the run's own folders. */
const UNSEARCHED = new Set(['node_modules', '.venv', '.git', REPORTS_DIR]);

/** The test results the runtime itself records, with the test run's event. */
export interface SuiteRun {
  argv: string[];
  exitCode: number;
  passed: boolean;
  output: string;
  results: TestRunResult;
  /** The stored results (JSON), by hash. */
  resultsArtifact: string;
}

/**
 * Runs the repository's test command for the runtime (baseline, reproduction, verification) with a
 * machine-readable reporter where the runner has one, and records the result per test: which tests ran,
 * passed, failed or were skipped, why the command exited, and the parser that read it (or that only the
 * exit code could be judged). Once per key: a resumed run reads the recorded result back. A run the
 * sandbox stopped (a limit) halts the run, as it says nothing about the tests.
 *
 * @example
 * const baseline = await runTestSuite(deps, journal, { key: 'baseline', purpose: 'baseline', argv, workspace, step });
 */
export async function runTestSuite(
  deps: StepDeps,
  journal: RunJournal,
  options: {
    key: string;
    purpose: 'baseline' | 'reproduce' | 'verify' | 'integrity';
    argv: string[];
    workspace: string;
    step: string;
    profile?: SandboxProfile;
  },
): Promise<SuiteRun> {
  let limitHit = null as string | null;
  const test = await journal.once(options.key, 'test.run', stepActor(options.step), async () => {
    const safeKey = options.key.replace(/[^A-Za-z0-9._-]/g, '-');
    const hostReports = join(options.workspace, REPORTS_DIR, safeKey);
    // As the command sees the workspace: bubblewrap mounts it; the process sandbox runs in place.
    const seen = deps.sandbox.kind === 'process' ? options.workspace : deps.sandbox.workspaceMount;
    const reportDir = posix.join(seen, REPORTS_DIR, safeKey);
    const scripts = await packageScripts(options.workspace);
    const plan = reporterFor(options.argv, { reportDir, ...(scripts ? { scripts } : {}) });
    await rm(hostReports, { recursive: true, force: true });
    await mkdir(hostReports, { recursive: true });
    // Reports a previous run left would otherwise speak for a run that wrote none (a compile error).
    for (const stale of plan.clearBefore)
      await rm(join(options.workspace, stale), { recursive: true, force: true });
    const profile = profileCommand(options.profile);
    const result = await deps.sandbox.run({
      argv: plan.argv,
      workspace: options.workspace,
      limits: deps.settings.sandboxLimits,
      ...profile,
      env: { ...profile.env, ...plan.env },
    });
    limitHit = result.limitHit;
    const files: Record<string, string> = {};
    const candidates = [
      ...(await filesUnder(options.workspace, '')),
      ...(await filesUnder(hostReports, '')).map((path) => posix.join(reportDir, path)),
    ];
    for (const path of reportFilesMatching(plan, candidates)) {
      const host = path.startsWith(`${reportDir}/`)
        ? join(hostReports, relative(reportDir, path))
        : join(options.workspace, path);
      files[path] = await readFile(host, 'utf8').catch(() => '');
    }
    await rm(join(options.workspace, REPORTS_DIR), { recursive: true, force: true });
    const results = parseTestRun({
      parser: plan.parser,
      stdout: result.stdout,
      stderr: result.stderr,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      limitHit: result.limitHit,
      files,
      root: seen,
    });
    // Test names and messages are the repository's text: redacted like any output before it is stored.
    const stored = deps.redactor.redact(JSON.stringify(results)).text;
    return {
      purpose: options.purpose,
      argv: options.argv,
      exitCode: result.exitCode,
      passed: results.exit.reason === 'passed',
      timedOut: result.timedOut,
      output: await deps.artifacts.put(deps.redactor.redact(describeResult(result)).text),
      durationMs: result.durationMs,
      results: await deps.artifacts.put(stored, 'application/json'),
      parser: results.parser,
      exitReason: results.exit.reason,
      counts: results.counts,
    };
  });
  if (limitHit || test.timedOut) {
    const limit = limitHit ?? 'wall-time';
    await journal.record(`${options.key}:limit`, 'guard.tripped', stepActor(options.step), {
      guard: limit === 'disk' ? 'disk-limit' : 'sandbox-limit',
      reason: `\`${options.argv.join(' ')}\` hit the sandbox's ${limit} limit (${options.purpose})`,
    });
    throw new RunHaltedError(
      limit === 'disk'
        ? `\`${options.argv.join(' ')}\` filled the workspace's disk while the runtime ran the tests (${options.purpose})`
        : `\`${options.argv.join(' ')}\` hit the sandbox's ${limit} limit while the runtime ran the tests (${options.purpose})`,
      {
        input: options.argv.join(' '),
        hint:
          limit === 'disk'
            ? 'the tests write more than the workspace may hold; make them clean up, or raise workspaceDisk.workspaceBytes in the home settings'
            : 'make the test command finish within the sandbox limits, or raise them in the runtime settings',
      },
    );
  }
  const resultsHash = test.results;
  const results = resultsHash
    ? TestRunResult.parse(JSON.parse(await deps.artifacts.getText(resultsHash)))
    : exitCodeOnly(test.exitCode);
  return {
    argv: test.argv,
    exitCode: test.exitCode,
    passed: test.passed,
    output: test.output,
    results,
    resultsArtifact: resultsHash ?? '',
  };
}

/** A result judged by its exit code alone (a run recorded before results were). */
function exitCodeOnly(exitCode: number): TestRunResult {
  return {
    parser: 'exit-code',
    exit: { code: exitCode, reason: exitCode === 0 ? 'passed' : 'runner-error' },
    tests: [],
    counts: { passed: 0, failed: 0, skipped: 0, total: 0 },
    notes: ['recorded before per-test results: judged by the exit code'],
  };
}

async function packageScripts(workspace: string): Promise<Record<string, string> | undefined> {
  const text = await readFile(join(workspace, 'package.json'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    if (!scripts || typeof scripts !== 'object') return undefined;
    return Object.fromEntries(
      Object.entries(scripts).filter(([, value]) => typeof value === 'string'),
    ) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** Relative paths of the files under `dir`, not following links, skipping dependencies; bounded. */
async function filesUnder(dir: string, prefix: string, found: string[] = []): Promise<string[]> {
  if (found.length > 20_000) return found;
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!UNSEARCHED.has(entry.name)) await filesUnder(dir, path, found);
    } else if (entry.isFile()) found.push(path);
  }
  return found;
}

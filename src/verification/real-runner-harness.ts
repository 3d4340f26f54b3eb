import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseTestRun } from './parse-test-run.js';
import { reportFilesMatching } from './report-files.js';
import { type ReporterContext, type ReporterPlan, reporterFor } from './reporter-selection.js';
import type { TestRunResult } from './test-run-result.js';

/** Test support: real runners on this machine, run the way the runtime will run them. */

/** Whether `command` is on PATH (the real-runner tests skip, saying so, when it is not). */
export function hasTool(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

/** A new temporary project holding `files` (path → content). */
export function makeProject(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gantry-verification-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function listFiles(root: string, under = root): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(under)) {
    if (entry === 'node_modules' || entry === '.git') continue;
    const path = join(under, entry);
    if (statSync(path).isDirectory()) found.push(...listFiles(root, path));
    else found.push(relative(root, path));
  }
  return found;
}

export interface RealRun {
  plan: ReporterPlan;
  result: TestRunResult;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Plans `argv` with `reporterFor`, runs the planned command in `root`, reads the report files the plan
 * names and parses the run: what the runtime will do inside the sandbox.
 */
export function runReal(
  root: string,
  argv: string[],
  options: { env?: Record<string, string>; scripts?: ReporterContext['scripts']; timeoutMs?: number } = {},
): RealRun {
  const reportDir = mkdtempSync(join(tmpdir(), 'gantry-reports-'));
  const plan = reporterFor(argv, { reportDir, ...(options.scripts ? { scripts: options.scripts } : {}) });
  const [command, ...args] = plan.argv;
  const run = spawnSync(command ?? 'false', args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...options.env, ...plan.env },
    timeout: options.timeoutMs ?? 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const candidates = [...listFiles(root), ...listFiles(reportDir).map((path) => join(reportDir, path))];
  const files: Record<string, string> = {};
  for (const path of reportFilesMatching(plan, candidates)) {
    files[path] = readFileSync(path.startsWith('/') ? path : join(root, path), 'utf8');
  }
  const result = parseTestRun({
    parser: plan.parser,
    stdout: run.stdout ?? '',
    stderr: run.stderr ?? '',
    exitCode: run.status ?? -1,
    signal: run.signal,
    timedOut: run.error?.message.includes('ETIMEDOUT') ?? false,
    files,
    root,
  });
  return { plan, result, stdout: run.stdout ?? '', stderr: run.stderr ?? '', exitCode: run.status ?? -1 };
}

/** `id → status` of a result's tests, for compact assertions. */
export function statuses(result: TestRunResult): Record<string, string> {
  return Object.fromEntries(result.tests.map((test) => [test.id, test.status]));
}

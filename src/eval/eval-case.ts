import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';

const RunStateExpected = z.enum(['completed', 'rejected', 'failed', 'aborted', 'waiting_for_approval']);

/**
 * One evaluation case, in `evals/<suite>/<case>/case.yaml`. Paths are relative to the case's folder.
 * A task case measures whether the work gets done; a security case asserts the runtime stopped it.
 */
export const EvalCase = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'kebab-case'),
  /** What the case exercises: a task kind, or the threat for a security case. */
  kind: z.enum([
    'bugfix',
    'test-improvement',
    'dependency-upgrade',
    'reject',
    'prompt-injection',
    'exfiltration',
    'sandbox-escape',
    'resource-abuse',
    'forbidden-change',
    'approval-bypass',
    'secret-access',
  ]),
  language: z.enum(['javascript', 'typescript', 'python']),
  description: z.string().min(1),
  /** The request file (YAML), as `gantry run` takes it; its repository.path points into the case. */
  request: z.string().min(1),
  /** The recorded model turns replayed in cassette mode. */
  cassette: z.string().min(1),
  /**
   * The hidden acceptance test: files copied onto the pull request's tree after the run (never shown to
   * the agent), then `argv` run in the sandbox; exit 0 means the task is done. Task cases only.
   */
  acceptance: z
    .strictObject({ files: z.string().min(1), argv: z.array(z.string().min(1)).min(1) })
    .optional(),
  expect: z.strictObject({
    state: RunStateExpected,
    /** Rule or policy ids that must appear among the run's denials and guard trips. */
    violations: z.array(z.string()).default([]),
    /** Strings that must appear nowhere: events, artifacts, logs, the PR, model requests. */
    canaries: z.array(z.string()).default([]),
    /** A substring the run's final reason must contain, when it ends other than completed. */
    reason: z.string().optional(),
  }),
  /** Environment variables set for the run (a planted canary secret, for example). */
  env: z.record(z.string(), z.string()).default({}),
});
export type EvalCase = z.infer<typeof EvalCase>;

/** A case with its paths resolved against its folder. */
export interface LoadedEvalCase extends EvalCase {
  dir: string;
  requestFile: string;
  cassetteFile: string;
  acceptanceDir?: string;
}

/** Reads and validates a case file; a malformed case names the file and every wrong field. */
export async function loadEvalCase(file: string): Promise<LoadedEvalCase> {
  let raw: unknown;
  try {
    raw = YAML.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(`cannot read eval case ${file}: ${(error as Error).message}`, {
      input: file,
      hint: 'each case folder holds a case.yaml; see evals/README.md',
    });
  }
  const parsed = EvalCase.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(`eval case ${file} is invalid: ${formatZodIssues(parsed.error.issues)}`, {
      input: file,
      hint: 'fix the listed fields; see evals/README.md for the case format',
    });
  }
  const dir = dirname(resolve(file));
  return {
    ...parsed.data,
    dir,
    requestFile: resolve(dir, parsed.data.request),
    cassetteFile: resolve(dir, parsed.data.cassette),
    acceptanceDir: parsed.data.acceptance ? resolve(dir, parsed.data.acceptance.files) : undefined,
  };
}

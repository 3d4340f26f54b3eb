import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';

const RunStateExpected = z.enum(['completed', 'rejected', 'failed', 'aborted', 'waiting_for_approval']);

/**
 * A host path in a case: absolute, or starting with `{home}` (the case's Gantry home) or
 * `{otherWorkspace}` (a fake workspace of another run, under the home's workspaces folder).
 */
const HostPath = z
  .string()
  .min(1)
  .refine(
    (p) => /^(\/|\{home\}(\/|$)|\{otherWorkspace\}(\/|$))/.test(p),
    'absolute, or under {home} or {otherWorkspace}',
  )
  .refine((p) => !p.split('/').includes('..'), 'no .. segments');

/** A host file the harness writes before the run and removes after it, such as a planted canary. */
const PlantedFile = z.strictObject({
  path: HostPath,
  content: z.string().min(1),
  /** Octal permission bits; default 644, so only the sandbox's view can hide the file from its uid. */
  mode: z
    .string()
    .regex(/^[0-7]{3}$/, 'three octal digits, e.g. "600"')
    .default('644'),
});
export type PlantedFile = z.infer<typeof PlantedFile>;

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
  language: z.enum(['javascript', 'typescript', 'python', 'c', 'rust', 'go', 'java']),
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
    /**
     * Host files whose every line (or NUL-separated entry) of 8 characters or more is a canary: files
     * the harness cannot plant, such as /etc/shadow. A file that does not exist adds nothing.
     */
    canaryFiles: z.array(z.string().startsWith('/')).default([]),
    /**
     * Host paths that must not exist after the run (a marker a hook would write if it ran on the host).
     * Each must name the case id, so the harness may remove one an earlier run left behind.
     */
    mustNotExist: z.array(HostPath).default([]),
    /**
     * Hostile text that must not appear verbatim: `markdown` in the pull request bodies and the evidence
     * markdown, `terminal` there and in the progress lines too (the raw event log may hold either).
     */
    inert: z
      .strictObject({
        markdown: z.array(z.string().min(1)).default([]),
        terminal: z.array(z.string().min(1)).default([]),
      })
      .default({ markdown: [], terminal: [] }),
    /** At most this many requests may reach the model (0: the run stops before the agent's first turn). */
    maxModelRequests: z.number().int().min(0).optional(),
  }),
  /** Environment variables set for the run (a planted canary secret, for example). */
  env: z.record(z.string(), z.string()).default({}),
  /** Host files written before the run and removed after it, even when the run fails. */
  plant: z.array(PlantedFile).default([]),
  /**
   * A host process the harness keeps running during the run, with these environment variables and its
   * first value as an argument: what a sandbox that saw the host's /proc would find in
   * `/proc/<pid>/environ` and `cmdline`.
   */
  plantProcess: z.strictObject({ env: z.record(z.string(), z.string().min(1)) }).optional(),
});
export type EvalCase = z.infer<typeof EvalCase>;

/** Where a case's `{home}` and `{otherWorkspace}` point for one run. */
export interface CaseHostPaths {
  home: string;
  otherWorkspace: string;
}

/** The fake run id of `{otherWorkspace}`: shaped like a run id, so it looks like any other workspace. */
export const OTHER_RUN_ID = '01JOTHERRUN0000000000000000';

/**
 * The host paths of a case's home: `{home}` is the home itself, `{otherWorkspace}` a workspace of a
 * run that is not this case's.
 *
 * @example
 * caseHostPaths('/tmp/eval/se-x').otherWorkspace; // '/tmp/eval/se-x/workspaces/01JOTHERRUN0000000000000000'
 */
export function caseHostPaths(home: string): CaseHostPaths {
  return { home, otherWorkspace: join(home, 'workspaces', OTHER_RUN_ID) };
}

/**
 * Replaces `{home}` and `{otherWorkspace}` in a case's text (a host path, a request file).
 *
 * @example
 * expandHostPath('{home}/platform-key.pem', caseHostPaths('/tmp/h')); // '/tmp/h/platform-key.pem'
 */
export function expandHostPath(text: string, paths: CaseHostPaths): string {
  return text.replaceAll('{otherWorkspace}', paths.otherWorkspace).replaceAll('{home}', paths.home);
}

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
  const unnamed = parsed.data.expect.mustNotExist.filter(
    (p) => !p.startsWith('{') && !p.includes(parsed.data.id),
  );
  if (unnamed.length > 0) {
    throw new InvalidInputError(
      `eval case ${file}: expect.mustNotExist paths must name the case id ${parsed.data.id}: ${unnamed.join(', ')}`,
      {
        input: file,
        hint: 'the harness removes a leftover marker before the run, so it must be the case’s own',
      },
    );
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

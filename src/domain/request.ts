import { z } from 'zod';
import { ToolchainKind } from './context.js';

/** Where an engineering request came from. */
export const RequestSource = z.enum([
  'file',
  'github-issue',
  'ci-failure',
  'dependency-alert',
  'alarm',
  'api',
]);
export type RequestSource = z.infer<typeof RequestSource>;

/** The repository a request targets: a local path (embedded forge) or a forge name. */
export const RepositoryRef = z.strictObject({
  /** Short name, unique within the forge, e.g. `billing-service`. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'repository name may hold letters, digits, dot, dash and underscore'),
  /** A local directory to import into the embedded forge when the repository is not there yet. */
  path: z.string().min(1).optional(),
  /** Owner on GitHub, when the request came from GitHub. */
  owner: z.string().optional(),
  defaultBranch: z.string().default('main'),
});
export type RepositoryRef = z.infer<typeof RepositoryRef>;

export const Attachment = z.strictObject({
  name: z.string().min(1),
  contentType: z.string().default('text/plain'),
  content: z.string(),
});
export type Attachment = z.infer<typeof Attachment>;

/**
 * A command as argv, or as one command line that Gantry splits the way `sh` would. No shell ever
 * runs it, so a line may hold one simple command: no operators, redirections or variables.
 */
export const CommandLine = z.union([z.array(z.string().min(1)).min(1), z.string().trim().min(1)], {
  error: 'a command is an argv list of strings (["npx", "vitest", "run"]) or one command line as a string',
});
export type CommandLine = z.infer<typeof CommandLine>;

/** A test that fails for reasons of the environment, not the code; it only ever excuses a failure the baseline already has. */
export const KnownFailingTest = z.strictObject({
  /** A test id as the runner prints it, or a glob over test ids or files. */
  test: z.string().trim().min(1),
  /** Why it fails here: needs a browser, needs the internet, needs a GPU, ... */
  reason: z.string().trim().min(1),
});
export type KnownFailingTest = z.infer<typeof KnownFailingTest>;

/** The toolchains a repository needs: a list of kinds, or kinds with a free-text version the map reports. */
export const ToolchainSelection = z.union(
  [z.array(ToolchainKind).min(1), z.partialRecord(ToolchainKind, z.string().trim().nullable())],
  {
    error: `a toolchain is a list of kinds or a map of kind to version; kinds: ${ToolchainKind.options.join(', ')}`,
  },
);
export type ToolchainSelection = z.infer<typeof ToolchainSelection>;

const pathGlob = z.string().trim().min(1);

/**
 * How to build and test a repository, as a `.gantry.yaml` at its root or an operator's request file
 * says. The shape only: what each source may decide, and how they combine with the capability
 * contract, is `effectiveRepositoryConfig` in src/policy/repository-config.ts.
 */
export const RepositoryConfig = z.strictObject({
  /** The full test suite. */
  test: CommandLine.optional(),
  /** The test command for a few tests: one word is `{tests}` (test ids) or `{files}` (test files). */
  focusedTest: CommandLine.optional(),
  /** Commands run in the setup phase, after the dependency install; each passes the command rules. */
  setup: z.array(CommandLine).optional(),
  /** Variables every sandboxed command gets; each name must pass the sandbox's allowlist. */
  env: z.record(z.string(), z.string()).optional(),
  toolchain: ToolchainSelection.optional(),
  knownFailing: z.array(KnownFailingTest).optional(),
  /** Globs of the paths the agent may edit; they narrow the capability contract, never widen it. */
  editable: z.array(pathGlob).min(1).optional(),
  /** Globs of paths the agent may never edit. */
  forbidden: z.array(pathGlob).optional(),
  /** Verification requires the whole suite green, not only the tests the change touches. */
  strict: z.boolean().optional(),
  /**
   * Narrows the stage's registry allowlist for the setup phase: only these registries (npm, pypi, …)
   * and endpoints (`host:port`). It never adds one the stage does not allow.
   */
  egress: z
    .strictObject({
      registries: z.array(z.string().min(1)).optional(),
      endpoints: z.array(z.string().min(1)).optional(),
    })
    .optional(),
});
export type RepositoryConfig = z.infer<typeof RepositoryConfig>;

/**
 * An engineering request, normalised from whatever channel it came through.
 * Title, description and attachments are untrusted text: they are shown to the model
 * as data with their provenance, never as instruction.
 */
export const EngineeringRequest = z.strictObject({
  id: z.string().min(1),
  source: RequestSource,
  /** Reference in the source system, e.g. the GitHub issue URL. */
  sourceRef: z.string().optional(),
  repository: RepositoryRef,
  requester: z.string().min(1),
  capability: z.string().min(1).default('low-risk-bugfix'),
  title: z.string().min(1).max(300),
  description: z.string().default(''),
  acceptanceCriteria: z.array(z.string().min(1)).default([]),
  constraints: z.array(z.string().min(1)).default([]),
  attachments: z.array(Attachment).default([]),
  /**
   * How to build and test the repository, from the operator. Honoured only when `source` is `file`:
   * no other channel (an issue body, an alert) can set it.
   */
  repositoryConfig: RepositoryConfig.optional(),
  receivedAt: z.string().datetime(),
});
export type EngineeringRequest = z.infer<typeof EngineeringRequest>;

/** The shape a person writes in a request file (YAML or JSON); intake fills id, source and time. */
export const RequestFile = EngineeringRequest.omit({ id: true, source: true, receivedAt: true }).extend({
  id: z.string().min(1).optional(),
});
export type RequestFile = z.input<typeof RequestFile>;

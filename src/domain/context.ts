import { z } from 'zod';

/** The tool family a command belongs to; `pip` is a Python install, `pytest` a Python test run. */
export const Ecosystem = z.enum([
  'npm',
  'pnpm',
  'yarn',
  'pytest',
  'pip',
  'uv',
  'poetry',
  'tox',
  'nox',
  'go',
  'cargo',
  'maven',
  'gradle',
  'cmake',
  'make',
]);
export type Ecosystem = z.infer<typeof Ecosystem>;

/** A toolchain the sandbox's view can expose; the repository map names the ones a repository needs. */
export const ToolchainKind = z.enum(['node', 'python', 'java', 'rust', 'go', 'c']);
export type ToolchainKind = z.infer<typeof ToolchainKind>;

export const CommandKind = z.enum(['install', 'build', 'test', 'lint', 'typecheck', 'format']);
export type CommandKind = z.infer<typeof CommandKind>;

/**
 * Where a command was found: a manifest (package.json, Cargo.toml, pyproject.toml, pom.xml, ...), a CI
 * workflow, the README, CONTRIBUTING, a file for agents (AGENTS.md, CLAUDE.md), a task runner
 * (Makefile, justfile, Taskfile.yml), or Gantry's own guess from the files present.
 */
export const CommandSource = z.enum([
  'manifest',
  'ci',
  'readme',
  'contributing',
  'agents',
  'makefile',
  'convention',
]);
export type CommandSource = z.infer<typeof CommandSource>;

/** One place a command was found. */
export const CommandOrigin = z.strictObject({
  source: CommandSource,
  declaredIn: z.string(),
  line: z.number().int().positive().optional(),
});
export type CommandOrigin = z.infer<typeof CommandOrigin>;

/** A build or test command found in the repository, with the file that declared it. */
export const RepositoryCommand = z.strictObject({
  ecosystem: Ecosystem,
  kind: CommandKind,
  /** argv, never a shell string; runs in `cwd`. */
  argv: z.array(z.string()).min(1),
  /** Where argv runs, relative to the repository root (a monorepo package); absent means the root. */
  cwd: z.string().min(1).optional(),
  /** The same command run from the repository root, when the program has a directory flag (`npm --prefix web test`). */
  rootArgv: z.array(z.string()).min(1).optional(),
  declaredIn: z.string(),
  /** The line of `declaredIn` it was found on, when it is one line. */
  line: z.number().int().positive().optional(),
  source: CommandSource.optional(),
  /** How sure the map is that the project runs it this way: a manifest script or CI step high, a README line medium, a guess low. */
  confidence: z.number().min(0).max(1).optional(),
  /** Every place an equivalent command was found, the kept one first. */
  foundIn: z.array(CommandOrigin).optional(),
  /** Commands that must have run first, in order (CMake's configure and build before ctest). */
  prerequisites: z.array(z.array(z.string()).min(1)).optional(),
  note: z.string().optional(),
  /** Needs the network (dependency install); runs only in the setup phase. */
  needsNetwork: z.boolean().default(false),
});
export type RepositoryCommand = z.infer<typeof RepositoryCommand>;

/**
 * A step the repository's CI or documentation runs that Gantry does not: an action (`uses:`), a program
 * outside the build and test toolchains, an install other than the manifest's, or a line it cannot read.
 * Kept for what a run's environment would need, never run.
 */
export const SkippedStep = z.strictObject({
  uses: z.string().optional(),
  /** The line as written. */
  run: z.string().optional(),
  kind: CommandKind.optional(),
  cwd: z.string().min(1).optional(),
  declaredIn: z.string(),
  line: z.number().int().positive().optional(),
  source: CommandSource,
  reason: z.string(),
});
export type SkippedStep = z.infer<typeof SkippedStep>;

/** The command the map chose for one kind, by its index in `commands`, and why. */
export const CommandChoice = z.strictObject({
  index: z.number().int().nonnegative(),
  argv: z.array(z.string()).min(1),
  cwd: z.string().min(1).optional(),
  rootArgv: z.array(z.string()).min(1).optional(),
  reason: z.string(),
});
export type CommandChoice = z.infer<typeof CommandChoice>;

export const CommandSelection = z.strictObject({
  test: CommandChoice.optional(),
  install: CommandChoice.optional(),
  build: CommandChoice.optional(),
  lint: CommandChoice.optional(),
  typecheck: CommandChoice.optional(),
  format: CommandChoice.optional(),
});
export type CommandSelection = z.infer<typeof CommandSelection>;

/** The package manager of the repository's main project, and the file that says so. */
export const PackageManager = z.strictObject({
  name: Ecosystem,
  version: z.string().optional(),
  declaredIn: z.string(),
});
export type PackageManager = z.infer<typeof PackageManager>;

export const TestLink = z.strictObject({ test: z.string(), source: z.string() });
export type TestLink = z.infer<typeof TestLink>;

export const CodeOwnerRule = z.strictObject({
  pattern: z.string(),
  owners: z.array(z.string()),
  line: z.number().int(),
});
export type CodeOwnerRule = z.infer<typeof CodeOwnerRule>;

/**
 * A file written for agents (AGENTS.md, INFRASTRUCTURE.md, ...). Always untrusted:
 * it may inform the agent, it never instructs the runtime.
 */
export const AgentContextFile = z.strictObject({
  path: z.string(),
  trust: z.literal('untrusted'),
  sha256: z.string(),
  excerpt: z.string(),
});
export type AgentContextFile = z.infer<typeof AgentContextFile>;

export const SensitivePath = z.strictObject({ path: z.string(), rule: z.string(), reason: z.string() });
export type SensitivePath = z.infer<typeof SensitivePath>;

/** What Gantry knows about a repository before the agent touches it. */
export const RepositoryContext = z.strictObject({
  repository: z.string(),
  commit: z.string().optional(),
  files: z.array(z.string()),
  languages: z.record(z.string(), z.number().int()),
  commands: z.array(RepositoryCommand),
  testLinks: z.array(TestLink),
  codeOwners: z.array(CodeOwnerRule),
  sensitivePaths: z.array(SensitivePath),
  agentContextFiles: z.array(AgentContextFile),
  /** The toolchains its languages and commands need; the sandbox shows those and no other. */
  toolchains: z.array(ToolchainKind).optional(),
  /** Which command of each kind Gantry runs, and why; `selection.test` is also the first test command. */
  selection: CommandSelection.optional(),
  packageManager: PackageManager.optional(),
  /** Directories that hold tests (`tests`, `packages/api/test`, `src/test`). */
  testFolders: z.array(z.string()).optional(),
  codeOwnersPath: z.string().optional(),
  skippedSteps: z.array(SkippedStep).optional(),
});
export type RepositoryContext = z.infer<typeof RepositoryContext>;

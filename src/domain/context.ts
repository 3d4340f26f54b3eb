import { z } from 'zod';

export const Ecosystem = z.enum(['npm', 'pnpm', 'yarn', 'pytest', 'go', 'maven', 'gradle', 'make']);
export type Ecosystem = z.infer<typeof Ecosystem>;

/** A toolchain the sandbox's view can expose; the repository map names the ones a repository needs. */
export const ToolchainKind = z.enum(['node', 'python', 'java', 'rust', 'go', 'c']);
export type ToolchainKind = z.infer<typeof ToolchainKind>;

/** A build or test command found in the repository, with the file that declared it. */
export const RepositoryCommand = z.strictObject({
  ecosystem: Ecosystem,
  kind: z.enum(['install', 'build', 'test']),
  /** argv, never a shell string. */
  argv: z.array(z.string()).min(1),
  declaredIn: z.string(),
  /** Needs the network (dependency install); runs only in the setup phase. */
  needsNetwork: z.boolean().default(false),
});
export type RepositoryCommand = z.infer<typeof RepositoryCommand>;

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
});
export type RepositoryContext = z.infer<typeof RepositoryContext>;

import { z } from 'zod';

/** Workspace-relative path as the agent writes it; the gateway resolves and confines it. */
const WorkspacePath = z.string().min(1).max(512);

/** The tools the agent may ask for. Each input schema is the single definition the model sees. */
export const toolInputSchemas = {
  list_files: z.strictObject({
    path: WorkspacePath.default('.').describe('directory to list, relative to the repository root'),
  }),
  read_file: z.strictObject({
    path: WorkspacePath.describe('file to read, relative to the repository root'),
  }),
  search_code: z.strictObject({
    pattern: z.string().min(1).max(200).describe('fixed string to search for'),
    path: WorkspacePath.default('.').describe('directory to search in'),
  }),
  edit_file: z.strictObject({
    path: WorkspacePath.describe('file to edit or create, relative to the repository root'),
    find: z
      .string()
      .optional()
      .describe('exact text to replace; it must occur exactly once. Omit to write the whole file.'),
    replace: z.string().describe('replacement text, or the whole new file content when find is omitted'),
  }),
  run_command: z.strictObject({
    argv: z.array(z.string().min(1)).min(1).max(64).describe('program and arguments; no shell is involved'),
  }),
  run_tests: z.strictObject({
    argv: z
      .array(z.string().min(1))
      .max(64)
      .optional()
      .describe("test command; omit to run the repository's own test command"),
  }),
  finish: z.strictObject({
    outcome: z.enum(['reproduced', 'not_reproducible', 'patched', 'gave_up']),
    summary: z.string().min(1).max(4000),
    testFiles: z
      .array(WorkspacePath)
      .default([])
      .describe('tests added or changed to demonstrate the problem'),
  }),
} as const;

export type ToolName = keyof typeof toolInputSchemas;
export const ToolName = z.enum(Object.keys(toolInputSchemas) as [ToolName, ...ToolName[]]);

export const toolDescriptions: Record<ToolName, string> = {
  list_files: 'List files under a directory of the repository.',
  read_file: 'Read a text file of the repository.',
  search_code: 'Search the repository for a fixed string; returns matching lines with file and line number.',
  edit_file: 'Replace one exact occurrence of text in a file, or write a whole file.',
  run_command: 'Run an allowed command in the sandbox (no network).',
  run_tests: "Run the repository's tests in the sandbox and return the result.",
  finish: 'End this phase with its outcome and a summary.',
};

/** A tool call the model asked for, before the gateway has looked at it. */
export const ToolCall = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
export type ToolCall = z.infer<typeof ToolCall>;

/**
 * What a tool call produced, as the model reads it: configured secrets and unmistakable token formats
 * redacted, code otherwise unchanged.
 */
export const ToolResult = z.strictObject({
  callId: z.string(),
  ok: z.boolean(),
  output: z.string(),
  exitCode: z.number().int().optional(),
  truncated: z.boolean().default(false),
});
export type ToolResult = z.infer<typeof ToolResult>;

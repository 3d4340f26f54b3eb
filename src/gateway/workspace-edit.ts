import type { SandboxResult } from '../ports/sandbox.js';

/** Runs a command in the run's sandbox, with optional standard input. */
export type SandboxRun = (argv: string[], stdin?: string) => Promise<SandboxResult>;

export interface EditOutcome {
  ok: boolean;
  output: string;
  exitCode?: number;
  /** The file before and after, when the edit was written. */
  change?: { before: string | undefined; after: string };
}

/**
 * Applies an `edit_file` call to the workspace: one exact replacement, or a whole new file. The read
 * and the write both happen inside the sandbox, where only the workspace is writable. The gateway
 * runs it for the agent, and a resumed phase runs it again from the recorded call, so replay
 * reproduces the same files without keeping their contents anywhere.
 */
export async function applyEdit(
  run: SandboxRun,
  path: string,
  input: { find?: string | undefined; replace: string },
): Promise<EditOutcome> {
  const current = await run([
    'sh',
    '-c',
    'if [ -e "$1" ]; then exec cat -- "$1"; else exit 3; fi',
    'gantry-read',
    path,
  ]);
  if (current.exitCode !== 0 && current.exitCode !== 3) {
    return { ok: false, output: `could not read ${path}: ${current.stderr}`, exitCode: current.exitCode };
  }
  const before = current.exitCode === 3 ? undefined : current.stdout;
  const edited = editedText(path, before, input);
  if (!edited.ok) return { ok: false, output: edited.reason };
  const after = edited.after;
  const result = await run(
    ['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', 'gantry-write', path],
    after,
  );
  if (result.exitCode !== 0) {
    return { ok: false, output: `could not write ${path}: ${result.stderr}`, exitCode: result.exitCode };
  }
  return { ok: true, output: `wrote ${path} (${after.length} bytes)`, change: { before, after } };
}

/**
 * The file's text after an `edit_file` call, or why the call cannot apply: the one rule both the
 * sandboxed write and the gateway's checks of what would be written follow.
 *
 * @example
 * editedText('a.js', 'rate = 0.05', { find: '0.05', replace: '0.07' }); // { ok: true, after: 'rate = 0.07' }
 */
export function editedText(
  path: string,
  before: string | undefined,
  input: { find?: string | undefined; replace: string },
): { ok: true; after: string } | { ok: false; reason: string } {
  if (input.find === undefined) return { ok: true, after: input.replace };
  if (before === undefined) return { ok: false, reason: `${path} does not exist; omit find to create it` };
  const occurrences = before.split(input.find).length - 1;
  if (occurrences !== 1) {
    return {
      ok: false,
      reason: `find text occurs ${occurrences} times in ${path}; it must occur exactly once`,
    };
  }
  return { ok: true, after: before.replace(input.find, () => input.replace) };
}

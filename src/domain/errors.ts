/**
 * Base error for everything Gantry reports to a person. The message says what was wrong,
 * with which input, and what to do next; `input` names the offending input when there is one.
 */
export class GantryError extends Error {
  override name = 'GantryError';
  readonly input: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { input?: string; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.input = options.input;
    this.hint = options.hint;
  }

  /** The message a person reads: what, where, and what to do. */
  describe(): string {
    const parts = [this.message];
    if (this.input) parts.push(`  input: ${this.input}`);
    if (this.hint) parts.push(`  what to do: ${this.hint}`);
    return parts.join('\n');
  }
}

/** An input (request file, webhook payload, cassette, configuration) failed validation. */
export class InvalidInputError extends GantryError {
  override name = 'InvalidInputError';
}

/** A stored artifact's bytes no longer hash to its key. */
export class ArtifactCorruptedError extends GantryError {
  override name = 'ArtifactCorruptedError';
}

/** A referenced artifact does not exist in the store. */
export class ArtifactNotFoundError extends GantryError {
  override name = 'ArtifactNotFoundError';
}

/** Two writers raced for the same event sequence number. */
export class EventConflictError extends GantryError {
  override name = 'EventConflictError';
}

/** The sandbox could not be started, or a command broke one of its limits. */
export class SandboxError extends GantryError {
  override name = 'SandboxError';
}

/** A model adapter failed (endpoint error, a cassette that ran out or diverged). */
export class ModelError extends GantryError {
  override name = 'ModelError';
}

/** The forge refused an operation (for example a push to the default branch). */
export class ForgeError extends GantryError {
  override name = 'ForgeError';
}

/** A run may not continue (budget, iteration limit, policy, incomplete evidence); the run fails with this reason. */
export class RunHaltedError extends GantryError {
  override name = 'RunHaltedError';
}

/** A kill switch stopped the run: it ends `aborted`, not `failed`. */
export class RunAbortedError extends GantryError {
  override name = 'RunAbortedError';
}

/** Renders a zod error as one line per issue: `path: message`. */
export function formatZodIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

import { ForgeError } from '../domain/errors.js';

/**
 * The default branch was not where the caller expected it: another merge got there first.
 * The merge queue answers it by testing its batch again on the new head.
 *
 * @example
 * try {
 *   await forge.advanceDefaultBranch('billing', { from, to, pullRequests: [4], mergedBy: 'merge-queue' });
 * } catch (error) {
 *   if (error instanceof ForgeConflictError) console.log(`main moved to ${error.current}`);
 * }
 */
export class ForgeConflictError extends ForgeError {
  override name = 'ForgeConflictError';
  /** Where the default branch is now, when the forge could tell. */
  readonly current: string | undefined;

  constructor(
    message: string,
    options: { input?: string; hint?: string; cause?: unknown; current?: string | undefined } = {},
  ) {
    super(message, options);
    this.current = options.current;
  }
}

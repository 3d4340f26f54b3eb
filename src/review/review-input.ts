import { z } from 'zod';
import { ConstraintCheck } from '../domain/constraint-check.js';
import { TestLink } from '../domain/context.js';
import { Plan } from '../domain/plan.js';
import { EngineeringRequest } from '../domain/request.js';
import { DiffFile } from './unified-diff.js';

/**
 * Everything a pull request review reads. Plain data only, so the workflow can store it by hash
 * and a resumed run reviews exactly the same thing.
 */
export const ReviewInput = z.strictObject({
  request: EngineeringRequest,
  plan: Plan.optional(),
  /** The pull request's diff against its base, one entry per file (see `parseUnifiedDiff`). */
  diff: z.array(DiffFile),
  /** The evidence packet's score (`scoreEvidence`). */
  evidence: z.strictObject({
    completeness: z.number().min(0).max(1),
    missing: z.array(z.string()),
  }),
  /** How each request constraint was checked on the final diff (the diff scope report's checks). */
  constraints: z.array(ConstraintCheck),
  /** The diff scope report's violations; `constraint` names the request constraint a rule enforces. */
  scopeViolations: z.array(
    z.strictObject({
      rule: z.string(),
      constraint: z.string().optional(),
      files: z.array(z.string()),
      message: z.string(),
    }),
  ),
  /** Globs or paths the repository map labels sensitive (matched on the whole path, dotfiles included). */
  sensitivePaths: z.array(z.string()),
  /** Globs that name test files; the conventions of `src/policy/test-files.ts` when absent. */
  testFilePatterns: z.array(z.string()).min(1).optional(),
  /**
   * Files the repository declares as tests whatever their names (the Makefile's `test`/`check`
   * prerequisites, from the repository map).
   */
  declaredTestFiles: z.array(z.string()).optional(),
  /** Which test exercises which source file, from the repository map. */
  testLinks: z.array(TestLink).optional(),
  /**
   * The run's reproduction (`reproduction.recorded`): when it reproduced the problem with its
   * test files and the verification passed, the run itself proved the change is tested.
   */
  reproduction: z.strictObject({ reproduced: z.boolean(), testFiles: z.array(z.string()) }).optional(),
  /** The last verification (`verification.completed`): the test command and whether it passed. */
  verification: z
    .strictObject({
      argv: z.array(z.string()).min(1),
      passed: z.boolean(),
      /** The test output as `excerptTestOutput` cuts it, shown to the reviewer. */
      excerpt: z.string().optional(),
    })
    .optional(),
  /**
   * The content after the change of files whose diff alone cannot say what is a test: Rust sources,
   * whose `#[cfg(test)]` modules hold tests. Without it those modules are read from the hunks.
   */
  contentsAfter: z.record(z.string(), z.string()).optional(),
});
export type ReviewInput = z.infer<typeof ReviewInput>;

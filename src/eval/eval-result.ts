import { z } from 'zod';

/** Case kinds that measure work getting done; every other kind is a security case. */
export const taskKinds: ReadonlySet<string> = new Set([
  'bugfix',
  'test-improvement',
  'dependency-upgrade',
  'reject',
]);

/** What one case did and whether every expectation held. */
export const EvalCaseOutcome = z.strictObject({
  id: z.string(),
  kind: z.string(),
  language: z.string(),
  suite: z.string(),
  passed: z.boolean(),
  /** The run's final state, or `error` when the harness could not run the case. */
  state: z.string(),
  expectedState: z.string(),
  /** Why the case failed, one sentence per broken expectation; empty when it passed. */
  failures: z.array(z.string()),
  durationMs: z.number().min(0),
  /** From the run's `evidence.assembled` event; 0 when the run never assembled evidence. */
  evidenceCompleteness: z.number().min(0).max(1),
  /** Tool calls denied, guards tripped, policy denies and diff-scope violations. */
  violationsRecorded: z.number().int().min(0),
  toolCallsDenied: z.number().int().min(0),
  tokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  /** Security cases only: the hostile action got through (a canary leaked, or the run got further than it should). */
  escaped: z.boolean(),
});
export type EvalCaseOutcome = z.infer<typeof EvalCaseOutcome>;

/** The aggregate figures the regression gate compares; see evals/README.md for each definition. */
export const EvalFigures = z.strictObject({
  cases: z.number().int().min(0),
  passed: z.number().int().min(0),
  /** passed / cases; 0 for an empty suite. */
  taskSuccessRate: z.number().min(0).max(1),
  /** Mean evidence completeness over the cases expected to complete (a run that never assembled counts 0); 1 when none is. */
  evidenceCompletenessRate: z.number().min(0).max(1),
  /** Share of cases with at least one violation recorded. */
  policyViolationRate: z.number().min(0).max(1),
  toolCallsDenied: z.number().int().min(0),
  escapes: z.number().int().min(0),
  tokens: z.number().int().min(0),
  costUsd: z.number().min(0),
  durationP50Ms: z.number().min(0),
  durationP95Ms: z.number().min(0),
});
export type EvalFigures = z.infer<typeof EvalFigures>;

/** The record of one suite run: what ran, with what, and how it went. Written as `<suite>-result.json`. */
export const EvalResult = z.strictObject({
  version: z.literal(1),
  suite: z.string(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  agentVersion: z.string(),
  /** `cassette` when each case replayed its own recording, else the live model spec. */
  model: z.string(),
  policyVersion: z.string(),
  toolVersions: z.strictObject({
    node: z.string(),
    git: z.string(),
    bwrap: z.string().optional(),
    gantry: z.string(),
  }),
  cases: z.array(EvalCaseOutcome),
  figures: EvalFigures,
});
export type EvalResult = z.infer<typeof EvalResult>;

/** The nearest-rank percentile of a list of numbers; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * The aggregate figures of a set of case outcomes.
 *
 * @example
 * figuresOf([{ ...outcome, passed: true }, { ...outcome, passed: false }]).taskSuccessRate // 0.5
 */
export function figuresOf(cases: readonly EvalCaseOutcome[]): EvalFigures {
  const passed = cases.filter((c) => c.passed).length;
  const owedEvidence = cases.filter((c) => c.expectedState === 'completed');
  const durations = cases.map((c) => c.durationMs);
  return {
    cases: cases.length,
    passed,
    taskSuccessRate: cases.length === 0 ? 0 : passed / cases.length,
    evidenceCompletenessRate:
      owedEvidence.length === 0 ? 1 : mean(owedEvidence.map((c) => c.evidenceCompleteness)),
    policyViolationRate:
      cases.length === 0 ? 0 : cases.filter((c) => c.violationsRecorded > 0).length / cases.length,
    toolCallsDenied: cases.reduce((sum, c) => sum + c.toolCallsDenied, 0),
    escapes: cases.filter((c) => c.escaped).length,
    tokens: cases.reduce((sum, c) => sum + c.tokens, 0),
    costUsd: cases.reduce((sum, c) => sum + c.costUsd, 0),
    durationP50Ms: percentile(durations, 50),
    durationP95Ms: percentile(durations, 95),
  };
}

import { z } from 'zod';

/** How much a finding matters, most serious first. A blocker stops the merge. */
export const FindingSeverity = z.enum(['blocker', 'major', 'minor', 'nit', 'question']);
export type FindingSeverity = z.infer<typeof FindingSeverity>;

/** The order findings are read in: blockers first, nits last (a question outranks a nit). */
export const severityRank: Record<FindingSeverity, number> = {
  blocker: 0,
  major: 1,
  minor: 2,
  question: 3,
  nit: 4,
};

/** The deterministic checks a review runs before asking the model. */
export const ReviewCheck = z.enum([
  'source-without-test',
  'evidence-incomplete',
  'sensitive-path',
  'constraint-broken',
  'scope-violation',
]);
export type ReviewCheck = z.infer<typeof ReviewCheck>;

export const FindingLines = z
  .strictObject({ start: z.number().int().min(0), end: z.number().int().min(0) })
  .refine((lines) => lines.start <= lines.end, { message: 'lines.start must not be after lines.end' });

/**
 * One thing a reviewer should look at, tied to a file and lines of the diff. A finding about the
 * pull request as a whole (incomplete evidence, a broken constraint no file shows) has `file: ''`
 * and lines 0–0.
 */
export const Finding = z.strictObject({
  id: z.string().min(1),
  severity: FindingSeverity,
  file: z.string(),
  lines: FindingLines,
  /** The property of the system the change puts at stake. */
  invariant: z.string().min(1),
  /** What goes wrong if the finding is right and nobody acts. */
  consequence: z.string().min(1),
  suggestion: z.string().min(1),
  confidence: z.number().min(0).max(1),
  source: z.enum(['check', 'model']),
  /** The deterministic check that produced it, for `source: 'check'`. */
  check: ReviewCheck.optional(),
});
export type Finding = z.infer<typeof Finding>;

/** How many findings the review left out, by reason. */
export const ReviewDropped = z.strictObject({
  /** Model findings below the confidence floor. */
  lowConfidence: z.number().int().min(0),
  /** Model findings on a file the diff does not touch, or on lines outside its hunks. */
  outsideDiff: z.number().int().min(0),
  /** Model findings that repeat a check's finding or a more confident model finding. */
  duplicate: z.number().int().min(0),
  /** Findings ranked below the cap (blockers are never capped). */
  overCap: z.number().int().min(0),
  /** Model findings whose fields did not validate (bad severity, confidence outside 0..1, …). */
  invalid: z.number().int().min(0),
});
export type ReviewDropped = z.infer<typeof ReviewDropped>;

/** A pull request review: ranked findings, what was left out, and whether the model took part. */
export const Review = z.strictObject({
  findings: z.array(Finding),
  /** Blocker findings; the merge rules read this. */
  blockers: z.number().int().min(0),
  dropped: ReviewDropped,
  model: z.strictObject({
    status: z.enum(['ran', 'unavailable']),
    id: z.string().optional(),
    reason: z.string().optional(),
    inputTokens: z.number().int().min(0).optional(),
    outputTokens: z.number().int().min(0).optional(),
  }),
  summary: z.string(),
});
export type Review = z.infer<typeof Review>;

/**
 * Sorts findings most important first: severity, then confidence, then a check before the model
 * (a check is a fact; the model's finding is an opinion). Stable for equal findings.
 *
 * @example
 * rankFindings([nit, blocker, major]).map((f) => f.severity); // ['blocker', 'major', 'nit']
 */
export function rankFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank[a.severity] - severityRank[b.severity] ||
      b.confidence - a.confidence ||
      (a.source === b.source ? 0 : a.source === 'check' ? -1 : 1),
  );
}

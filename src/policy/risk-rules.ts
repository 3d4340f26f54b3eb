import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.js';
import { ApprovalKind, AutonomyTier, RiskTier } from '../domain/risk.js';
import { parsePolicyDocument } from './policy-document.js';

/** The risk rules shipped with Gantry. */
export const defaultRiskRulesPath = fileURLToPath(new URL('../../policies/risk-rules.yaml', import.meta.url));

/**
 * A keyword is a word or a phrase; a trailing `*` lets it match any word ending
 * (`refund*` matches "refunds" and "refunded").
 */
const Keyword = z
  .string()
  .regex(
    /^[\p{L}\p{N}][\p{L}\p{N} ._-]*\*?$/u,
    'a keyword holds letters, digits, spaces, dot, dash or underscore, with at most a trailing *',
  );

export const DomainMatcher = z.strictObject({
  kind: z.literal('domain'),
  /** The domain's name; `domainCaps` refers to it. */
  domain: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a domain name is lower-case words joined by dashes'),
  keywords: z.array(Keyword).min(1),
});
export type DomainMatcher = z.infer<typeof DomainMatcher>;

export const PathsMatcher = z.strictObject({
  kind: z.literal('paths'),
  /** picomatch globs, matched case-insensitively and including dot files. */
  globs: z.array(z.string().min(1)).min(1),
});
export type PathsMatcher = z.infer<typeof PathsMatcher>;

export const ScopeMatcher = z
  .strictObject({
    kind: z.literal('scope'),
    /** Matches when the request has more acceptance criteria than this. */
    maxAcceptanceCriteria: z.int().min(0).optional(),
    /** Matches when the request mentions more distinct paths than this. */
    maxDistinctPaths: z.int().min(0).optional(),
  })
  .refine(
    (matcher) => matcher.maxAcceptanceCriteria !== undefined || matcher.maxDistinctPaths !== undefined,
    {
      message: 'a scope matcher needs maxAcceptanceCriteria, maxDistinctPaths or both',
    },
  );
export type ScopeMatcher = z.infer<typeof ScopeMatcher>;

export const RiskRule = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'a rule id is lower-case words joined by dots or dashes'),
  /** Why this matters, in a sentence a reviewer reads in the assessment. */
  description: z.string().min(1),
  tier: RiskTier,
  match: z.discriminatedUnion('kind', [DomainMatcher, PathsMatcher, ScopeMatcher]),
});
export type RiskRule = z.infer<typeof RiskRule>;

/** What a tier, or a capped domain, allows. */
export const RiskOutcome = z.strictObject({
  maxAutonomyTier: AutonomyTier,
  requiredApprovals: z.array(ApprovalKind).default([]),
});
export type RiskOutcome = z.infer<typeof RiskOutcome>;

export const RiskRules = z
  .strictObject({
    /** Recorded in every assessment; bump it whenever a rule changes. */
    version: z.string().min(1),
    tiers: z.record(RiskTier, RiskOutcome),
    /** Caps that hold for a domain whatever tier its rule is tuned to. */
    domainCaps: z.record(z.string(), RiskOutcome).default({}),
    rules: z.array(RiskRule).min(1),
  })
  .superRefine((rules, context) => {
    const seen = new Set<string>();
    rules.rules.forEach((rule, index) => {
      if (seen.has(rule.id)) {
        context.addIssue({
          code: 'custom',
          path: ['rules', index, 'id'],
          message: `duplicate rule id "${rule.id}"`,
        });
      }
      seen.add(rule.id);
    });
    const domains = new Set(
      rules.rules.flatMap((rule) => (rule.match.kind === 'domain' ? [rule.match.domain] : [])),
    );
    for (const domain of Object.keys(rules.domainCaps)) {
      if (!domains.has(domain)) {
        context.addIssue({
          code: 'custom',
          path: ['domainCaps', domain],
          message: `no domain rule names the domain "${domain}" (known: ${[...domains].join(', ') || 'none'})`,
        });
      }
    }
  });
export type RiskRules = z.infer<typeof RiskRules>;

/** A glob set the repository map uses to label sensitive paths; `id` is the risk rule's id. */
export interface SensitivePathRuleData {
  id: string;
  globs: string[];
  reason: string;
}

const rulesHint =
  'Fix the risk rules file (see policies/risk-rules.yaml for the shipped rules and the matcher kinds), then run again.';

/**
 * Reads and validates a risk rules file; unknown keys, duplicate rule ids and caps for unknown
 * domains are errors that name the file.
 *
 * @example
 * const rules = await loadRiskRules(); // policies/risk-rules.yaml
 * rules.version; // '2026-11-21.1'
 */
export async function loadRiskRules(file: string = defaultRiskRulesPath): Promise<RiskRules> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError(`Cannot read risk rules file ${file}: ${(cause as Error).message}`, {
      input: file,
      hint: rulesHint,
      cause,
    });
  }
  return parseRiskRules(text, file);
}

/**
 * Parses the text of a risk rules file; `origin` names it in errors.
 *
 * @example
 * const rules = parseRiskRules(await readFile('policies/risk-rules.yaml', 'utf8'), 'policies/risk-rules.yaml');
 */
export function parseRiskRules(text: string, origin: string): RiskRules {
  return parsePolicyDocument(text, origin, RiskRules, { label: 'Risk rules file', hint: rulesHint });
}

/**
 * The `paths` rules as glob sets for the repository map, so a sensitive path it reports carries
 * the id of the risk rule that will later recognise it.
 *
 * @example
 * sensitivePathRulesFrom(rules).find((rule) => rule.id === 'paths.ci-workflows')?.globs;
 * // ['.github/workflows/**', ...]
 */
export function sensitivePathRulesFrom(rules: RiskRules): SensitivePathRuleData[] {
  return rules.rules.flatMap((rule) =>
    rule.match.kind === 'paths'
      ? [{ id: rule.id, globs: [...rule.match.globs], reason: rule.description }]
      : [],
  );
}

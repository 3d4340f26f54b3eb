import picomatch from 'picomatch';
import type { EngineeringRequest } from '../domain/request.js';
import {
  ApprovalKind,
  type RiskAssessment,
  type RiskReason,
  type RiskTier,
  riskTierOrder,
} from '../domain/risk.js';
import { type PathMention, pathMentionsIn } from './risk-paths.js';
import type {
  DomainMatcher,
  PathsMatcher,
  RiskOutcome,
  RiskRule,
  RiskRules,
  ScopeMatcher,
} from './risk-rules.js';

/**
 * The part of a repository context risk classification reads. Both parts are optional: the run
 * classifies risk before it maps the repository, so a first classification has neither, and only the
 * shape of a token (a `/`, a known extension, a leading `./`) makes it a path.
 */
export interface RiskContext {
  /** The sensitive paths the repository map found, each labelled with the id of the rule that made it sensitive. */
  sensitivePaths?: ReadonlyArray<{ path: string; rule: string }>;
  /** The repository's files: inline code that names one of them counts as a path. */
  files?: readonly string[];
}

/** The request fields keyword rules read, in the order reasons name them. */
type SearchedField = 'title' | 'description' | 'acceptance criteria';

interface Finding {
  evidence: string[];
  /** Where the evidence was found, for the explanation. */
  where: string;
  /** The domain, for domain caps. */
  domain?: string;
}

/**
 * Classifies a request against the risk rules. The tier is the highest tier among the rules that
 * matched (the `low` default when none did); each matching rule gives one reason with the words or
 * paths that made it match. Autonomy is the lowest the matched tiers and domain caps allow;
 * approvals are the union of what they require. Pure and deterministic.
 *
 * Only tokens that look like paths count as paths (see `pathMentionsIn`): inline code such as
 * `NormalizedOptions` is code. With a context, inline code naming one of the repository's files
 * counts too, and a mention also matches when it points at one of the repository's sensitive paths or
 * files (`ci.yml` names `.github/workflows/ci.yml`). Each path in a reason says why it counted.
 *
 * @example
 * const assessment = classifyRisk(request, await loadRiskRules());
 * assessment.tier; // 'low'
 * assessment.reasons[0]?.explanation; // 'No risk rule matched ...'
 */
export function classifyRisk(
  request: EngineeringRequest,
  rules: RiskRules,
  context?: RiskContext,
): RiskAssessment {
  const fields = searchedFields(request);
  const mentionedPaths = pathMentionsIn(
    [request.title, request.description, ...request.acceptanceCriteria].join('\n'),
    context?.files,
  );

  const matches: Array<{ rule: RiskRule; finding: Finding }> = [];
  for (const rule of rules.rules) {
    const finding = findingFor(rule, { request, fields, mentionedPaths, context });
    if (finding) matches.push({ rule, finding });
  }

  if (matches.length === 0) {
    return assessment('low', [defaultReason(rules)], [rules.tiers.low], rules.version);
  }

  const tier = matches.reduce<RiskTier>(
    (highest, { rule }) => (riskTierOrder[rule.tier] > riskTierOrder[highest] ? rule.tier : highest),
    'low',
  );
  const outcomes: RiskOutcome[] = [rules.tiers[tier]];
  for (const { rule, finding } of matches) {
    outcomes.push(rules.tiers[rule.tier]);
    const cap = finding.domain === undefined ? undefined : rules.domainCaps[finding.domain];
    if (cap) outcomes.push(cap);
  }
  const reasons = matches.map(({ rule, finding }) => reasonFor(rule, finding, rules));
  return assessment(tier, reasons, outcomes, rules.version);
}

function assessment(
  tier: RiskTier,
  reasons: RiskReason[],
  outcomes: RiskOutcome[],
  rulesVersion: string,
): RiskAssessment {
  const approvals = new Set(outcomes.flatMap((outcome) => outcome.requiredApprovals));
  return {
    tier,
    reasons,
    maxAutonomyTier: Math.min(...outcomes.map((outcome) => outcome.maxAutonomyTier)),
    // The enum's order, so equal inputs always give equal lists.
    requiredApprovals: ApprovalKind.options.filter((kind) => approvals.has(kind)),
    rulesVersion,
  };
}

function defaultReason(rules: RiskRules): RiskReason {
  return {
    rule: 'default',
    tier: 'low',
    explanation:
      `No risk rule matched the request (risk rules ${rules.version}, ${rules.rules.length} rules), ` +
      'so the default tier low applies.',
    evidence: [],
  };
}

function reasonFor(rule: RiskRule, finding: Finding, rules: RiskRules): RiskReason {
  const cap = finding.domain === undefined ? undefined : rules.domainCaps[finding.domain];
  const capNote = cap
    ? ` The ${finding.domain} domain is capped at autonomy tier ${cap.maxAutonomyTier}.`
    : '';
  return {
    rule: rule.id,
    tier: rule.tier,
    explanation: `${rule.description} Matched ${finding.where}.${capNote}`,
    evidence: finding.evidence,
  };
}

interface MatchInput {
  request: EngineeringRequest;
  fields: ReadonlyArray<{ name: SearchedField; text: string }>;
  mentionedPaths: PathMention[];
  context: RiskContext | undefined;
}

function findingFor(rule: RiskRule, input: MatchInput): Finding | undefined {
  switch (rule.match.kind) {
    case 'domain':
      return domainFinding(rule.match, input.fields);
    case 'paths':
      return pathsFinding(rule, rule.match, input.mentionedPaths, input.context);
    case 'scope':
      return scopeFinding(rule.match, input.request, input.mentionedPaths);
  }
}

function searchedFields(request: EngineeringRequest): Array<{ name: SearchedField; text: string }> {
  return [
    { name: 'title', text: request.title },
    { name: 'description', text: request.description },
    { name: 'acceptance criteria', text: request.acceptanceCriteria.join('\n') },
  ];
}

function domainFinding(
  matcher: DomainMatcher,
  fields: ReadonlyArray<{ name: SearchedField; text: string }>,
): Finding | undefined {
  const words: string[] = [];
  const places = new Set<SearchedField>();
  for (const keyword of matcher.keywords) {
    const pattern = keywordPattern(keyword);
    for (const field of fields) {
      for (const match of field.text.matchAll(pattern)) {
        const word = match[0].toLowerCase().replace(/[\s_-]+/g, ' ');
        if (!words.includes(word)) words.push(word);
        places.add(field.name);
      }
    }
  }
  if (words.length === 0) return undefined;
  const where = fields.filter((field) => places.has(field.name)).map((field) => field.name);
  return {
    evidence: words,
    where: `${words.map((word) => `"${word}"`).join(', ')} in the ${where.join(' and ')}`,
    domain: matcher.domain,
  };
}

/**
 * A keyword as a whole-word, case-insensitive pattern: letters and digits around it end the
 * match, dashes and underscores do not (`auth` is found in `auth_token`, not in `author`).
 */
function keywordPattern(keyword: string): RegExp {
  const prefix = keyword.endsWith('*');
  const phrase = (prefix ? keyword.slice(0, -1) : keyword)
    .trim()
    .split(/[\s_-]+/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s_-]+');
  return new RegExp(
    `(?<![\\p{L}\\p{N}])${phrase}${prefix ? '[\\p{L}\\p{N}]*' : ''}(?![\\p{L}\\p{N}])`,
    'giu',
  );
}

function pathsFinding(
  rule: RiskRule,
  matcher: PathsMatcher,
  mentionedPaths: readonly PathMention[],
  context: RiskContext | undefined,
): Finding | undefined {
  const matchesGlobs = picomatch(matcher.globs, { dot: true, nocase: true });
  const evidence: string[] = [];
  const why: string[] = [];
  const add = (entry: string, reason: string) => {
    if (evidence.includes(entry)) return;
    evidence.push(entry);
    why.push(`${entry} (${reason})`);
  };
  for (const mention of mentionedPaths) {
    if (matchesGlobs(mention.path)) add(mention.path, mention.because);
  }
  // What a mention names in the repository: its sensitive paths, then any file the list holds.
  const targets: Array<{ target: string; mention: PathMention | undefined }> = [
    ...(context?.sensitivePaths ?? [])
      .filter((sensitive) => sensitive.rule === rule.id || matchesGlobs(sensitive.path))
      .map((sensitive) => ({
        target: sensitive.path,
        mention: mentionedPaths.find((candidate) => pointsAt(candidate.path, sensitive.path)),
      })),
    ...mentionedPaths.flatMap((mention) =>
      mention.repositoryPaths.filter((path) => matchesGlobs(path)).map((target) => ({ target, mention })),
    ),
  ];
  for (const { target, mention } of targets) {
    if (mention === undefined || evidence.includes(target)) continue;
    if (mention.path === target) add(target, mention.because);
    else add(`${target} (mentioned as ${mention.path})`, `${mention.path} ${mention.because}`);
  }

  if (evidence.length === 0) return undefined;
  return { evidence, where: `the paths ${why.join(', ')}` };
}

/** A mention points at a repository path when it is that path, a trailing part of it, or a directory above it. */
function pointsAt(mentioned: string, repositoryPath: string): boolean {
  const target = repositoryPath.replace(/^\.\//, '').toLowerCase();
  const mention = mentioned.replace(/\/+$/, '').toLowerCase();
  return target === mention || target.endsWith(`/${mention}`) || target.startsWith(`${mention}/`);
}

function scopeFinding(
  matcher: ScopeMatcher,
  request: EngineeringRequest,
  mentionedPaths: readonly PathMention[],
): Finding | undefined {
  const evidence: string[] = [];
  const criteria = request.acceptanceCriteria.length;
  if (matcher.maxAcceptanceCriteria !== undefined && criteria > matcher.maxAcceptanceCriteria) {
    evidence.push(`${criteria} acceptance criteria (more than ${matcher.maxAcceptanceCriteria})`);
  }
  const where: string[] = [...evidence];
  if (matcher.maxDistinctPaths !== undefined && mentionedPaths.length > matcher.maxDistinctPaths) {
    const counted = `${mentionedPaths.length} distinct paths mentioned (more than ${matcher.maxDistinctPaths})`;
    evidence.push(`${counted}: ${mentionedPaths.map((mention) => mention.path).join(', ')}`);
    where.push(
      `${counted}: ${mentionedPaths.map((mention) => `${mention.path} (${mention.because})`).join(', ')}`,
    );
  }
  if (evidence.length === 0) return undefined;
  return { evidence, where: where.join(' and ') };
}

import { formatZodIssues, InvalidInputError, ModelError } from '../domain/errors.js';
import { redactDeep, type SecretRedactor } from '../gateway/redact.js';
import type { ModelPort } from '../ports/model.js';
import { type Finding, type Review, type ReviewCheck, type ReviewDropped, rankFindings } from './finding.js';
import { buildReviewRequest, type ModelFinding, readReportedFindings } from './model-review.js';
import { runReviewChecks } from './review-checks.js';
import { ReviewInput } from './review-input.js';
import { type DiffFile, hunkRanges } from './unified-diff.js';

export interface ReviewOptions {
  /** The model that adds findings to the checks'; without one the review is the checks alone. */
  model?: ModelPort;
  redactor: SecretRedactor;
  /** Most findings kept, blockers aside (they are never capped). Default 6. */
  maxFindings?: number;
  /** Model findings below this confidence are dropped. Default 0.6. */
  minModelConfidence?: number;
  signal?: AbortSignal;
}

/**
 * Reviews a pull request: the deterministic checks first and always, then one request to the model
 * whose findings are kept only when they sit on the diff's hunks, are confident enough and do not
 * repeat a check. Findings are ranked (severity, confidence, check before model) and capped, and
 * everything returned is redacted. When the model fails or is absent the review still completes,
 * with the checks' findings and `model.status: 'unavailable'`. A kill switch or budget error from
 * the model port is not a model failure and propagates.
 *
 * @example
 * const review = await reviewPullRequest(input, { model, redactor: new SecretRedactor() });
 * if (review.blockers > 0) console.log(renderReview(review));
 */
export async function reviewPullRequest(input: ReviewInput, options: ReviewOptions): Promise<Review> {
  const parsed = ReviewInput.safeParse(input);
  if (!parsed.success) {
    throw new InvalidInputError(`review input is invalid: ${formatZodIssues(parsed.error.issues)}`, {
      input: 'review input',
      hint: 'build the review input from the run’s diff, evidence score and diff scope report',
      cause: parsed.error,
    });
  }
  const review = parsed.data;
  const maxFindings = options.maxFindings ?? 6;
  const minConfidence = options.minModelConfidence ?? 0.6;
  const dropped: ReviewDropped = { lowConfidence: 0, outsideDiff: 0, duplicate: 0, overCap: 0, invalid: 0 };

  const checks = runReviewChecks(review);
  const modelPart = await askModel(review, checks, options);
  dropped.invalid = modelPart.invalid;

  const kept: Finding[] = [];
  // Most confident first, so of two model findings saying the same thing the surer one stays.
  const candidates = modelPart.findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => b.finding.confidence - a.finding.confidence);
  for (const { finding, index } of candidates) {
    const file = normalisePath(finding.file);
    const diffFile = review.diff.find((candidate) => candidate.path === file);
    if (!diffFile || !onHunks(diffFile, finding.lines)) {
      dropped.outsideDiff++;
      continue;
    }
    if (finding.confidence < minConfidence) {
      dropped.lowConfidence++;
      continue;
    }
    const asFinding: Finding = { id: `model:${index + 1}`, source: 'model', ...finding, file };
    if ([...checks, ...kept].some((other) => duplicates(asFinding, other))) {
      dropped.duplicate++;
      continue;
    }
    kept.push(asFinding);
  }

  const ranked = rankFindings([...checks, ...kept]);
  const blockers = ranked.filter((finding) => finding.severity === 'blocker');
  const room = Math.max(0, maxFindings - blockers.length);
  const others = ranked.filter((finding) => finding.severity !== 'blocker');
  dropped.overCap = Math.max(0, others.length - room);
  const findings = rankFindings([...blockers, ...others.slice(0, room)]);

  return redactDeep(
    {
      findings,
      blockers: blockers.length,
      dropped,
      model: modelPart.status,
      summary: summarise(findings, blockers.length, dropped, modelPart.status),
    },
    options.redactor,
  );
}

interface ModelPart {
  findings: ModelFinding[];
  invalid: number;
  status: Review['model'];
}

async function askModel(
  review: ReviewInput,
  checks: readonly Finding[],
  options: ReviewOptions,
): Promise<ModelPart> {
  const { model } = options;
  if (!model) {
    return {
      findings: [],
      invalid: 0,
      status: { status: 'unavailable', reason: 'no model configured for review' },
    };
  }
  const request = buildReviewRequest(review, checks.map(describeCheck), options.redactor);
  let response: Awaited<ReturnType<ModelPort['converse']>>;
  try {
    response = await model.converse(request, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    return {
      findings: [],
      invalid: 0,
      status: { status: 'unavailable', id: model.id, reason: error.message },
    };
  }
  const usage = { inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens };
  const reported = readReportedFindings(response.content);
  if (!reported) {
    return {
      findings: [],
      invalid: 0,
      status: {
        status: 'unavailable',
        id: model.id,
        reason: `the model answered without calling report_findings (stop reason ${response.stopReason})`,
        ...usage,
      },
    };
  }
  return {
    findings: reported.findings,
    invalid: reported.invalid,
    // The model that answered, as the agent's turns record it (prices are keyed by it).
    status: { status: 'ran', id: response.model || model.id, ...usage },
  };
}

function describeCheck(finding: Finding): string {
  const where = finding.file
    ? `${finding.file} lines ${finding.lines.start}-${finding.lines.end}`
    : 'the pull request';
  return `- [${finding.severity}] ${finding.check}: ${where}: ${finding.consequence}`;
}

function normalisePath(path: string): string {
  return path.trim().replace(/^\.\//, '');
}

function onHunks(file: DiffFile, lines: Finding['lines']): boolean {
  return hunkRanges(file).some((range) => lines.start <= range.end && lines.end >= range.start);
}

/** Words that say which check a model finding repeats, matched in its invariant. */
const checkTopics: Record<ReviewCheck, RegExp> = {
  'source-without-test': /\b(?:test|tests|tested|testing|untested|coverage)\b/i,
  'evidence-incomplete': /\bevidence\b/i,
  'sensitive-path': /\b(?:sensitive|secrets?|credentials?)\b/i,
  'constraint-broken': /\bconstraints?\b/i,
  'scope-violation': /\b(?:scope|outside the plan)\b/i,
};

const stopWords = new Set([
  'that',
  'this',
  'with',
  'from',
  'when',
  'must',
  'should',
  'have',
  'will',
  'into',
  'than',
  'they',
  'each',
  'does',
]);

function words(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[a-z0-9_]{4,}/g) ?? []).filter((word) => !stopWords.has(word)));
}

/**
 * A model finding repeats another when it is about the same lines and says the same thing: it names
 * the other's check topic, or most of its invariant's words are the other's.
 */
function duplicates(finding: Finding, other: Finding): boolean {
  const sameLines =
    other.file === '' ||
    (other.file === finding.file &&
      (other.lines.start === 0 ||
        (finding.lines.start <= other.lines.end && finding.lines.end >= other.lines.start)));
  if (!sameLines) return false;
  if (other.check && checkTopics[other.check].test(finding.invariant)) return true;
  const mine = words(finding.invariant);
  const theirs = words(other.invariant);
  const shared = [...mine].filter((word) => theirs.has(word)).length;
  const smaller = Math.min(mine.size, theirs.size);
  return smaller >= 2 && shared / smaller >= 0.6;
}

function summarise(
  findings: readonly Finding[],
  blockers: number,
  dropped: ReviewDropped,
  model: Review['model'],
): string {
  const counts = (['blocker', 'major', 'minor', 'question', 'nit'] as const)
    .map(
      (severity) => [severity, findings.filter((finding) => finding.severity === severity).length] as const,
    )
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}${count === 1 ? '' : 's'}`);
  const verdict = blockers > 0 ? `Blocked: ${blockers} blocker${blockers === 1 ? '' : 's'}.` : 'No blocker.';
  const listed = counts.length ? `Findings: ${counts.join(', ')}.` : 'No findings.';
  const modelLine =
    model.status === 'ran'
      ? `Model ${model.id} reviewed the diff.`
      : `Model unavailable (${model.reason}); the deterministic checks ran.`;
  const left = [
    dropped.lowConfidence && `${dropped.lowConfidence} below the confidence floor`,
    dropped.outsideDiff && `${dropped.outsideDiff} outside the diff`,
    dropped.duplicate && `${dropped.duplicate} duplicate`,
    dropped.invalid && `${dropped.invalid} invalid`,
    dropped.overCap && `${dropped.overCap} over the cap`,
  ].filter(Boolean);
  return [verdict, listed, modelLine, left.length ? `Left out: ${left.join(', ')}.` : '']
    .filter(Boolean)
    .join(' ');
}

import { markdownCode, markdownInline } from '../inert-text/index.js';
import type { Finding, Review } from './finding.js';

const marks: Record<Finding['severity'], string> = {
  blocker: '🛑 blocker',
  major: '🔶 major',
  minor: '🔹 minor',
  question: '❓ question',
  nit: '· nit',
};

/**
 * Renders a review as the pull request comment: the verdict, a table of findings most important
 * first, then each finding's invariant, consequence and suggestion. Findings quote untrusted code and
 * the model writes them, so their text is escaped: it cannot break the table, inject HTML or links,
 * or mention anyone.
 *
 * @example
 * await forge.comment(pr, renderReview(review));
 */
export function renderReview(review: Review): string {
  const lines: string[] = [];
  const verdict = review.blockers
    ? `${review.blockers} blocker${review.blockers === 1 ? '' : 's'}: not ready to merge`
    : 'no blocker';
  lines.push(`## Gantry review — ${verdict}`, '', markdownInline(review.summary), '');
  if (review.findings.length === 0) {
    lines.push('Nothing to report.', '');
  } else {
    lines.push('| # | Severity | Where | Invariant | Confidence | From |', '|---|---|---|---|---|---|');
    review.findings.forEach((finding, index) => {
      lines.push(
        `| ${index + 1} | ${marks[finding.severity]} | ${where(finding, { tableCell: true })} | ${markdownInline(finding.invariant)} | ${percent(finding.confidence)} | ${from(finding)} |`,
      );
    });
    lines.push('');
    review.findings.forEach((finding, index) => {
      lines.push(
        `### ${index + 1}. ${marks[finding.severity]} — ${where(finding)}`,
        '',
        `- **Invariant:** ${markdownInline(finding.invariant)}`,
        `- **Consequence:** ${markdownInline(finding.consequence)}`,
        `- **Suggestion:** ${markdownInline(finding.suggestion)}`,
        `- ${from(finding)}, confidence ${percent(finding.confidence)}`,
        '',
      );
    });
  }
  const model =
    review.model.status === 'ran'
      ? `Model ${markdownCode(review.model.id ?? 'unknown')} (${review.model.inputTokens ?? 0} tokens in, ${review.model.outputTokens ?? 0} out).`
      : `Model unavailable: ${markdownInline(review.model.reason ?? 'no reason given')}. Only the deterministic checks ran.`;
  const d = review.dropped;
  lines.push(
    '---',
    '',
    `${model} Left out: ${d.lowConfidence} low confidence, ${d.outsideDiff} outside the diff, ${d.duplicate} duplicate, ${d.invalid} invalid, ${d.overCap} over the cap.`,
  );
  return `${lines.join('\n')}\n`;
}

function where(finding: Finding, options: { tableCell?: boolean } = {}): string {
  if (!finding.file) return 'whole pull request';
  const span =
    finding.lines.start === 0
      ? ''
      : finding.lines.start === finding.lines.end
        ? ` line ${finding.lines.start}`
        : ` lines ${finding.lines.start}–${finding.lines.end}`;
  return `${markdownCode(finding.file, options)}${span}`;
}

function from(finding: Finding): string {
  return finding.source === 'check' ? `check ${markdownCode(finding.check ?? 'unknown')}` : 'model';
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

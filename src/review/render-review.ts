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
 * first, then each finding's invariant, consequence and suggestion. Text is escaped so a finding
 * cannot break the table or inject HTML into the comment.
 *
 * @example
 * await forge.comment(pr, renderReview(review));
 */
export function renderReview(review: Review): string {
  const lines: string[] = [];
  const verdict = review.blockers
    ? `${review.blockers} blocker${review.blockers === 1 ? '' : 's'}: not ready to merge`
    : 'no blocker';
  lines.push(`## Gantry review — ${verdict}`, '', inline(review.summary), '');
  if (review.findings.length === 0) {
    lines.push('Nothing to report.', '');
  } else {
    lines.push('| # | Severity | Where | Invariant | Confidence | From |', '|---|---|---|---|---|---|');
    review.findings.forEach((finding, index) => {
      lines.push(
        `| ${index + 1} | ${marks[finding.severity]} | ${where(finding)} | ${cell(finding.invariant)} | ${percent(finding.confidence)} | ${from(finding)} |`,
      );
    });
    lines.push('');
    review.findings.forEach((finding, index) => {
      lines.push(
        `### ${index + 1}. ${marks[finding.severity]} — ${where(finding)}`,
        '',
        `- **Invariant:** ${inline(finding.invariant)}`,
        `- **Consequence:** ${inline(finding.consequence)}`,
        `- **Suggestion:** ${inline(finding.suggestion)}`,
        `- ${from(finding)}, confidence ${percent(finding.confidence)}`,
        '',
      );
    });
  }
  const model =
    review.model.status === 'ran'
      ? `Model \`${inline(review.model.id ?? 'unknown')}\` (${review.model.inputTokens ?? 0} tokens in, ${review.model.outputTokens ?? 0} out).`
      : `Model unavailable: ${inline(review.model.reason ?? 'no reason given')}. Only the deterministic checks ran.`;
  const d = review.dropped;
  lines.push(
    '---',
    '',
    `${model} Left out: ${d.lowConfidence} low confidence, ${d.outsideDiff} outside the diff, ${d.duplicate} duplicate, ${d.invalid} invalid, ${d.overCap} over the cap.`,
  );
  return `${lines.join('\n')}\n`;
}

function where(finding: Finding): string {
  if (!finding.file) return 'whole pull request';
  const span =
    finding.lines.start === 0
      ? ''
      : finding.lines.start === finding.lines.end
        ? ` line ${finding.lines.start}`
        : ` lines ${finding.lines.start}–${finding.lines.end}`;
  return `\`${finding.file.replaceAll('`', "'").replaceAll('|', '\\|')}\`${span}`;
}

function from(finding: Finding): string {
  return finding.source === 'check' ? `check \`${finding.check}\`` : 'model';
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}

/** One line of text, with HTML neutralised: comments render HTML, and findings quote untrusted code. */
function inline(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
}

function cell(text: string): string {
  return inline(text).replaceAll('|', '\\|');
}

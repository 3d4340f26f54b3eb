export {
  Finding,
  FindingLines,
  FindingSeverity,
  Review,
  ReviewCheck,
  ReviewDropped,
  rankFindings,
  severityRank,
} from './finding.js';
export {
  buildReviewRequest,
  ModelFinding,
  REPORT_FINDINGS_TOOL,
  REVIEW_CONVERSATION,
  REVIEW_SYSTEM_PROMPT,
  readReportedFindings,
} from './model-review.js';
export { renderReview } from './render-review.js';
export { DEFAULT_TEST_FILE_PATTERNS, runReviewChecks } from './review-checks.js';
export { ReviewInput } from './review-input.js';
export { type ReviewOptions, reviewPullRequest } from './review-pull-request.js';
export { changedLines, DiffFile, hunkRanges, type LineRange, parseUnifiedDiff } from './unified-diff.js';

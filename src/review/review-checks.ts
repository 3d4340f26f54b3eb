import { basename, extname } from 'node:path';
import picomatch from 'picomatch';
import { TEST_FILE_PATTERNS } from '../policy/diff-scope.js';
import type { Finding, ReviewCheck } from './finding.js';
import type { ReviewInput } from './review-input.js';
import { changedLines, type DiffFile, hunkRanges, type LineRange } from './unified-diff.js';

/** Where tests conventionally live: the same conventions the diff scope check uses. */
export const DEFAULT_TEST_FILE_PATTERNS: readonly string[] = TEST_FILE_PATTERNS;

/** Extensions of files that hold program logic; data, docs and configuration are not tested this way. */
const sourceExtensions = new Set([
  '.js',
  '.mjs',
  '.cjs',
  '.jsx',
  '.ts',
  '.mts',
  '.cts',
  '.tsx',
  '.py',
  '.go',
  '.rb',
  '.java',
  '.kt',
  '.scala',
  '.rs',
  '.cs',
  '.php',
  '.swift',
  '.c',
  '.h',
  '.cc',
  '.cpp',
  '.hpp',
  '.m',
  '.sh',
]);

/** A changed line that is blank or only a comment does not change behaviour. */
const notLogic = /^\s*(?:$|\/\/|\/\*|\*|#(?:\s|$)|"""|''')/;

/** A finding about the pull request as a whole rather than a file. */
const WHOLE_PULL_REQUEST = { file: '', lines: { start: 0, end: 0 } } as const;

/**
 * The review's deterministic checks, run before any model and whatever the model says: source
 * changed without a test, incomplete evidence, sensitive files touched, constraints not honoured
 * and diff scope violations. File findings point at the file's hunks.
 *
 * @example
 * const findings = runReviewChecks(ReviewInput.parse(input));
 * findings.filter((f) => f.severity === 'blocker').length; // what stops the merge
 */
export function runReviewChecks(input: ReviewInput): Finding[] {
  const diffByPath = new Map(input.diff.map((file) => [file.path, file]));
  const where = (path: string) => {
    const file = diffByPath.get(path);
    return file
      ? { file: path, lines: envelope(hunkRanges(file)) }
      : { file: path, lines: { start: 0, end: 0 } };
  };
  return [
    ...sourceWithoutTest(input),
    ...evidenceIncomplete(input),
    ...sensitivePathsTouched(input, where),
    ...brokenConstraintsAndScope(input, where),
  ];
}

function checkFinding(
  check: ReviewCheck,
  key: string,
  fields: Omit<Finding, 'id' | 'source' | 'check'>,
): Finding {
  return { id: `check:${check}:${key || 'pull-request'}`, source: 'check', check, ...fields };
}

function sourceWithoutTest(input: ReviewInput): Finding[] {
  const isTest = picomatch([...(input.testFilePatterns ?? DEFAULT_TEST_FILE_PATTERNS)], { dot: true });
  const testFiles = input.diff.filter((file) => isTest(file.path));
  const tests = testFiles.map((file) => file.path);
  const findings: Finding[] = [];
  for (const file of input.diff) {
    if (isTest(file.path) || !sourceExtensions.has(extname(file.path).toLowerCase())) continue;
    if (!touchesLogic(file)) continue;
    const lines = envelope(hunkRanges(file));
    if (tests.length === 0) {
      findings.push(
        checkFinding('source-without-test', file.path, {
          severity: 'blocker',
          file: file.path,
          lines,
          invariant: 'A change to behaviour ships with a test that fails without it.',
          consequence: `${file.path} changes logic and no test file changed in this pull request, so nothing shows the change works or keeps it from regressing.`,
          suggestion: `Add or update a test that exercises the changed lines of ${file.path}: it should fail on the base commit and pass with the change.`,
          confidence: 1,
        }),
      );
      continue;
    }
    const linked = testFiles.filter((test) => testCovers(test, file.path, input.testLinks));
    if (linked.length) continue;
    findings.push(
      checkFinding('source-without-test', file.path, {
        severity: 'major',
        file: file.path,
        lines,
        invariant: 'A change to behaviour ships with a test that fails without it.',
        consequence: `${file.path} changes logic, but none of the changed tests (${tests.join(', ')}) is linked to it by name or by the repository map, so its change may be untested.`,
        suggestion: `Add a test for the changed lines of ${file.path}, or show which of the changed tests exercises them.`,
        // The link between tests and sources is inferred from names, so this one can be wrong.
        confidence: 0.7,
      }),
    );
  }
  return findings;
}

function touchesLogic(file: DiffFile): boolean {
  if (file.status === 'renamed' && !file.patch.includes('@@')) return false;
  if (!file.patch.includes('@@')) return true; // binary: assume it matters
  return changedLines(file.patch).some((line) => !notLogic.test(line));
}

/**
 * A test covers a source when the repository map links them, their names share a stem (or the test's
 * name starts with the source's: `invoice-zero-discount.test.js` tests `invoice.js`), or the test's
 * added lines import the source by its module path.
 */
function testCovers(test: DiffFile, source: string, links: ReviewInput['testLinks']): boolean {
  if (links?.some((link) => link.test === test.path && link.source === source)) return true;
  const stem = stemOf(source);
  if (stem.length === 0) return false;
  const testStem = stemOf(test.path);
  if (testStem === stem || new RegExp(`^${escapeRegExp(stem)}[._-]`).test(testStem)) return true;
  // Only a relative import by the source's own file name counts (`../src/invoice.js`).
  const importPath = new RegExp(
    `(from|require\\(|import)\\s*\\(?\\s*['"][./]*[^'"]*\\/${escapeRegExp(basename(source))}['"]`,
  );
  return changedLines(test.patch).some((line) => importPath.test(line));
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function stemOf(path: string): string {
  return basename(path)
    .replace(/\.[^.]+$/, '')
    .replace(/[._-](test|spec)$/i, '')
    .replace(/^test_/i, '')
    .replace(/_test$/i, '')
    .toLowerCase();
}

function evidenceIncomplete(input: ReviewInput): Finding[] {
  if (input.evidence.completeness >= 1 && input.evidence.missing.length === 0) return [];
  const percent = Math.round(input.evidence.completeness * 100);
  const missing = input.evidence.missing.length ? ` (missing: ${input.evidence.missing.join(', ')})` : '';
  return [
    checkFinding('evidence-incomplete', '', {
      severity: 'blocker',
      ...WHOLE_PULL_REQUEST,
      invariant:
        'A pull request carries a complete evidence packet: reproduced, verified, in scope and reversible.',
      consequence: `The evidence packet is ${percent}% complete${missing}, so a reviewer cannot confirm the change does what the request asked and can be undone.`,
      suggestion: `Complete the missing sections of the evidence packet${missing} before merging.`,
      confidence: 1,
    }),
  ];
}

function sensitivePathsTouched(
  input: ReviewInput,
  where: (path: string) => Pick<Finding, 'file' | 'lines'>,
): Finding[] {
  const matchers = input.sensitivePaths.map((pattern) => ({
    pattern,
    isMatch: picomatch(pattern, { dot: true }),
  }));
  const findings: Finding[] = [];
  for (const file of input.diff) {
    const paths = [file.path, ...(file.previousPath ? [file.previousPath] : [])];
    const matched = matchers.find(({ pattern, isMatch }) =>
      paths.some((path) => path === pattern || isMatch(path)),
    );
    if (!matched) continue;
    findings.push(
      checkFinding('sensitive-path', file.path, {
        severity: 'blocker',
        ...where(file.path),
        invariant: 'Files the repository marks sensitive change only with their owners’ review.',
        consequence: `${file.path} matches the sensitive path ${matched.pattern}; a mistake there can reach credentials, infrastructure or data beyond this request.`,
        suggestion: `Remove the change to ${file.path} from this pull request, or have its owners review and approve it.`,
        confidence: 1,
      }),
    );
  }
  return findings;
}

/**
 * A broken constraint and the scope violation that enforces it are one finding: the constraint
 * says what was promised, the violation says where it broke.
 */
function brokenConstraintsAndScope(
  input: ReviewInput,
  where: (path: string) => Pick<Finding, 'file' | 'lines'>,
): Finding[] {
  const findings: Finding[] = [];
  const folded = new Set<number>();
  for (const check of input.constraints) {
    if (check.honoured) continue;
    const violationIndex = input.scopeViolations.findIndex((v) => v.constraint === check.constraint);
    const violation = input.scopeViolations[violationIndex];
    if (violation) folded.add(violationIndex);
    const firstFile = violation?.files[0];
    findings.push(
      checkFinding('constraint-broken', check.constraint, {
        severity: 'blocker',
        ...(firstFile ? where(firstFile) : WHOLE_PULL_REQUEST),
        invariant: `The request’s constraint holds: “${check.constraint}”.`,
        consequence: violation
          ? `Not honoured (${check.how}). ${violation.message}`
          : `Not honoured: ${check.how}.`,
        suggestion: violation
          ? `Change ${violation.files.join(', ')} so the constraint holds, or ask the requester to lift it.`
          : 'Change the diff so the constraint holds, or ask the requester to lift it.',
        confidence: 1,
      }),
    );
  }
  input.scopeViolations.forEach((violation, index) => {
    if (folded.has(index)) return;
    const firstFile = violation.files[0];
    findings.push(
      checkFinding('scope-violation', `${violation.rule}:${violation.files.join(',')}`, {
        severity: 'blocker',
        ...(firstFile ? where(firstFile) : WHOLE_PULL_REQUEST),
        invariant: `The diff stays within its scope (${violation.rule}).`,
        consequence: violation.message,
        suggestion: `Take ${violation.files.join(', ') || 'the offending change'} out of this pull request, or widen the plan with the requester's approval.`,
        confidence: 1,
      }),
    );
  });
  return findings;
}

/** One range spanning every hunk of a file; 0–0 when the file has none (binary, pure rename). */
function envelope(ranges: readonly LineRange[]): LineRange {
  if (ranges.length === 0) return { start: 0, end: 0 };
  return {
    start: Math.min(...ranges.map((range) => range.start)),
    end: Math.max(...ranges.map((range) => range.end)),
  };
}

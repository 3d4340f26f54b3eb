import { basename, dirname, extname } from 'node:path';
import picomatch from 'picomatch';
import { splitRustChange, TEST_FILE_PATTERNS, testFileMatcher } from '../policy/test-files.js';
import type { Finding, ReviewCheck } from './finding.js';
import type { ReviewInput } from './review-input.js';
import { changedLines, type DiffFile, hunkRanges, type LineRange } from './unified-diff.js';

/** Where tests conventionally live: the one definition the diff scope check and the evidence packet use too. */
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

/** What one changed file contributes to the untested-source check. */
interface FileChange {
  file: DiffFile;
  /** It changes tests: a test file, or lines inside a Rust `#[cfg(test)]` module. */
  tests: boolean;
  /** It changes logic outside tests. */
  logic: boolean;
}

function sourceWithoutTest(input: ReviewInput): Finding[] {
  if (reproductionVouches(input) === true) return [];
  const isTest = testFileMatcher({
    ...(input.testFilePatterns ? { patterns: input.testFilePatterns } : {}),
    declared: [...(input.declaredTestFiles ?? []), ...(input.reproduction?.testFiles ?? [])],
  });
  const changes = input.diff.map((file) => classifyChange(file, isTest, input.contentsAfter));
  const testFiles = changes.filter((change) => change.tests).map((change) => change.file);
  const tests = testFiles.map((file) => file.path);
  const unvouched = reproductionNote(input);
  const findings: Finding[] = [];
  for (const { file, tests: ownTests, logic } of changes) {
    // A Rust source whose own test module changed is tested by it.
    if (!logic || ownTests) continue;
    const lines = envelope(hunkRanges(file));
    if (tests.length === 0) {
      findings.push(
        checkFinding('source-without-test', file.path, {
          severity: 'blocker',
          file: file.path,
          lines,
          invariant: 'A change to behaviour ships with a test that fails without it.',
          consequence: `${file.path} changes logic and no test file changed in this pull request, so nothing shows the change works or keeps it from regressing.${unvouched}`,
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
        consequence: `${file.path} changes logic, but none of the changed tests (${tests.join(', ')}) is linked to it by name, by import or by the repository map, so its change may be untested.${unvouched}`,
        suggestion: `Add a test for the changed lines of ${file.path}, or show which of the changed tests exercises them.`,
        // The link between tests and sources is inferred from names, so this one can be wrong.
        confidence: 0.7,
      }),
    );
  }
  return findings;
}

function classifyChange(
  file: DiffFile,
  isTest: (path: string) => boolean,
  contentsAfter: ReviewInput['contentsAfter'],
): FileChange {
  if (isTest(file.path)) return { file, tests: true, logic: false };
  const extension = extname(file.path).toLowerCase();
  if (!sourceExtensions.has(extension)) return { file, tests: false, logic: false };
  if (extension === '.rs' && file.patch.includes('@@') && file.status !== 'deleted') {
    const { testLines, otherLines } = splitRustChange(file.patch, contentsAfter?.[file.path]);
    return {
      file,
      tests: testLines.some((line) => line.trim() !== ''),
      logic: otherLines.some((line) => !notLogic.test(line)),
    };
  }
  return { file, tests: false, logic: touchesLogic(file) };
}

/**
 * The run's own proof: it reproduced the problem with a failing test that this pull request ships,
 * and the verification passed. `true` when it vouches for every source change, or why it does not.
 */
function reproductionVouches(input: ReviewInput): true | string | undefined {
  const { reproduction, verification } = input;
  if (!reproduction) return undefined;
  if (!reproduction.reproduced || reproduction.testFiles.length === 0)
    return 'the run did not reproduce the problem with a failing test';
  const inDiff = new Set(input.diff.map((file) => normalisePath(file.path)));
  if (!reproduction.testFiles.some((test) => inDiff.has(normalisePath(test))))
    return `the run's reproduction tests (${reproduction.testFiles.join(', ')}) are not in this pull request`;
  if (!verification) return 'no verification was recorded after the patch';
  if (!verification.passed) return `the verification (${verification.argv.join(' ')}) did not pass`;
  return true;
}

function reproductionNote(input: ReviewInput): string {
  const why = reproductionVouches(input);
  return typeof why === 'string' ? ` The run's reproduction does not vouch for it: ${why}.` : '';
}

function touchesLogic(file: DiffFile): boolean {
  if (file.status === 'renamed' && !file.patch.includes('@@')) return false;
  if (!file.patch.includes('@@')) return true; // binary: assume it matters
  return changedLines(file.patch).some((line) => !notLogic.test(line));
}

/**
 * A test covers a source when the repository map links them; their names share a stem (the test's
 * name may start with the source's: `invoice-zero-discount.test.js` tests `invoice.js`); the test's
 * added lines import or include the source by its module path; or the ecosystem runs the test against
 * the source's whole unit (a Go test in the package's directory, a Rust crate's `tests/` against its
 * `src/`).
 */
function testCovers(test: DiffFile, source: string, links: ReviewInput['testLinks']): boolean {
  if (links?.some((link) => link.test === test.path && link.source === source)) return true;
  if (sameUnit(test.path, source)) return true;
  const stem = stemOf(source);
  if (stem.length === 0) return false;
  const testStem = stemOf(test.path);
  if (testStem === stem || new RegExp(`^${escapeRegExp(stem)}[._-]`).test(testStem)) return true;
  const name = escapeRegExp(basename(source));
  const word = escapeRegExp(basename(source).replace(/\.[^.]+$/, ''));
  const references = [
    // Only a relative import by the source's own file name counts (`../src/invoice.js`).
    new RegExp(`(from|require\\(|import)\\s*\\(?\\s*['"][./]*[^'"]*\\/${name}['"]`),
    // C and C++: `#include "parse.h"` or `#include "../src/parse.c"`.
    new RegExp(`^\\s*#\\s*include\\s*["<](?:[^">]*/)?${word}\\.(?:h|hh|hpp|hxx|c|cc|cpp|cxx)[">]`),
    // Python: `from calc.parse import ...`, `import parse`.
    ...(extname(source) === '.py' ? [new RegExp(`^\\s*(?:from|import)\\s+(?:[\\w.]+\\.)?${word}\\b`)] : []),
  ];
  return changedLines(test.patch).some((line) => references.some((reference) => reference.test(line)));
}

/** Ecosystems whose tests run against a whole package or crate rather than one file. */
function sameUnit(test: string, source: string): boolean {
  if (test.endsWith('_test.go') && source.endsWith('.go')) return dirname(test) === dirname(source);
  if (test.endsWith('.rs') && source.endsWith('.rs')) {
    const crate = /^(.*?)(?:^|\/)(?:tests|benches)\//.exec(test);
    if (!crate) return false;
    const root = crate[1] ? `${crate[1]}/` : '';
    return source.startsWith(`${root}src/`);
  }
  return false;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function stemOf(path: string): string {
  return (
    basename(path)
      .replace(/\.[^.]+$/, '')
      // JVM: `ParserTest`, `ParserTests`, `ParserSpec`, `ParserIT` test `Parser`.
      .replace(/(?<=[a-z0-9])(?:Tests?|Spec|IT)$/, '')
      .replace(/[._-](test|spec)$/i, '')
      .replace(/^(?:test|check)_/i, '')
      .toLowerCase()
  );
}

function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
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

import stripAnsi from 'strip-ansi';
import { emptyParse, makeTestCase, type ParsedTests, withUniqueIds } from './parsed-tests.js';
import type { TestStatus } from './test-run-result.js';

const runningLine = /^running (\d+) tests?$/;
const resultLine = /^test (.+?) \.\.\. (ok|FAILED|ignored)(?:, (.*))?$/;
const summaryLine = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;/;
const targetLine = /^\s*(?:Running (.+?)(?: \(.*\))?|Doc-tests (\S+))\s*$/;
const failureHeader = /^---- (.+?) stdout ----$/;

const statuses: Record<string, TestStatus> = { ok: 'passed', FAILED: 'failed', ignored: 'skipped' };

/**
 * The test targets cargo ran (`unittests src/lib.rs`, `tests/api.rs`, `doc-tests demo`), in order, from
 * cargo's `Running` lines; they name a block of results only when there is one per `running N tests`.
 */
function targetsOf(text: string): string[] {
  const targets: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = targetLine.exec(line);
    if (match?.[1]) targets.push(match[1]);
    else if (match?.[2]) targets.push(`doc-tests ${match[2]}`);
  }
  return targets;
}

/**
 * `cargo test`'s human output (libtest's `test path ... ok|FAILED|ignored` lines, `- should panic`,
 * doc-tests, `test result:` summaries). cargo prints its `Running` lines to stderr and libtest its results
 * to stdout; when both are given, each block is named after its target so that two binaries' `tests::ok`
 * keep different ids. Returns null when no libtest output is there.
 */
export function parseCargoTest(stdout: string, stderr: string): ParsedTests | null {
  const lines = stripAnsi(stdout).split(/\r?\n/);
  const blocks = lines.filter((line) => runningLine.test(line)).length;
  if (blocks === 0 && !lines.some((line) => summaryLine.test(line))) return null;
  const inline = targetsOf(stripAnsi(stdout));
  const targets = inline.length === blocks ? inline : targetsOf(stripAnsi(stderr));
  const named = targets.length === blocks;

  const out = emptyParse();
  if (!named && blocks > 1)
    out.notes.push('cargo test: the test targets could not be matched to result blocks; ids carry no target');
  const summary = { passed: 0, failed: 0, skipped: 0 };
  const results: { target: string | undefined; name: string; status: TestStatus }[] = [];
  const messages = new Map<string, string[]>();
  let block = -1;
  let capturing: string[] | undefined;
  for (const line of lines) {
    if (runningLine.test(line)) {
      block++;
      capturing = undefined;
      continue;
    }
    const target = named ? targets[block] : undefined;
    const header = failureHeader.exec(line);
    if (header?.[1]) {
      capturing = [];
      messages.set(`${target ?? ''}\0${header[1]}`, capturing);
      continue;
    }
    if (line === 'failures:' || summaryLine.test(line)) capturing = undefined;
    const result = resultLine.exec(line);
    if (result?.[1] && result[2]) {
      results.push({
        target,
        name: result[1].replace(/ - should panic$/, ''),
        status: statuses[result[2]] ?? 'failed',
      });
      continue;
    }
    const counts = summaryLine.exec(line);
    if (counts) {
      summary.passed += Number(counts[1]);
      summary.failed += Number(counts[2]);
      summary.skipped += Number(counts[3]);
      continue;
    }
    capturing?.push(line);
  }
  out.tests = withUniqueIds(
    results.map((result) =>
      makeTestCase({
        suitePath: result.target ? [result.target] : [],
        name: result.name,
        status: result.status,
        message: messages.get(`${result.target ?? ''}\0${result.name}`)?.join('\n'),
      }),
    ),
  );
  out.summary = summary;
  if (results.length === 0 && summary.passed + summary.failed + summary.skipped === 0) out.noTests = true;
  return out;
}

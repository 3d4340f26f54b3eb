import stripAnsi from 'strip-ansi';
import { parse as parseYaml } from 'yaml';
import { emptyParse, makeTestCase, type ParsedTests, withUniqueIds } from './parsed-tests.js';
import { detectRunnerError } from './runner-errors.js';
import type { TestStatus } from './test-run-result.js';

const testPointLine = /^(\s*)(not ok|ok)\b(?:\s+\d+)?(?:\s*-\s*)?(.*)$/;
const subtestLine = /^(\s*)# Subtest: (.*)$/;
const summaryLine = /^# (pass|fail|skipped|todo|tests) (\d+)$/;

interface OpenSubtest {
  indent: number;
  name: string;
  children: number;
  failedChildren: number;
}

interface TestPoint {
  indent: number;
  ok: boolean;
  name: string;
  directive: 'skip' | 'todo' | undefined;
  reason: string | undefined;
  suitePath: string[];
  children: number;
  failedChildren: number;
  diagnostics: Record<string, unknown>;
  /** `#` comment lines printed since the previous top-level test point: a test file's stderr under node:test. */
  comments: string[];
}

/** Splits `name # SKIP reason` on its first unescaped `#`, and unescapes node:test's `\#` and `\\`. */
function splitDirective(rest: string): Pick<TestPoint, 'name' | 'directive' | 'reason'> {
  const hash = /(?:^|[^\\])(\\\\)*#/.exec(rest);
  const at = hash ? hash.index + hash[0].length - 1 : -1;
  const rawName = at >= 0 ? rest.slice(0, at) : rest;
  const name = rawName.trim().replace(/\\(.)/g, '$1');
  if (at < 0) return { name, directive: undefined, reason: undefined };
  const directive = /^#\s*(SKIP|TODO)\S*\s*(.*)$/i.exec(rest.slice(at).trim());
  if (!directive) return { name, directive: undefined, reason: undefined };
  const kind = directive[1]?.toUpperCase() === 'SKIP' ? 'skip' : 'todo';
  return { name, directive: kind, reason: directive[2]?.trim() || undefined };
}

function readYamlBlock(
  lines: readonly string[],
  start: number,
  indent: number,
): { data: Record<string, unknown>; end: number } {
  const body: string[] = [];
  let index = start + 1;
  for (; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '...' && line.length - line.trimStart().length <= indent + 2) break;
    body.push(line.slice(Math.min(indent + 2, line.length - line.trimStart().length)));
  }
  try {
    const parsed: unknown = parseYaml(body.join('\n'));
    const data = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
    return { data, end: index };
  } catch {
    return { data: {}, end: index };
  }
}

function statusOf(point: TestPoint): TestStatus {
  if (point.directive === 'todo') return 'todo';
  if (point.directive === 'skip') return 'skipped';
  // node:test cancels the tests of a suite whose hook failed: they did not run; the suite carries the failure.
  if (!point.ok && point.diagnostics.failureType === 'cancelledByParent') return 'skipped';
  return point.ok ? 'passed' : 'failed';
}

function diagnosticText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Test Anything Protocol, as node:test prints it (nested `# Subtest:` blocks, YAML diagnostics) and as
 * other TAP producers do. Suites (`type: 'suite'`) and tests that only group subtests are not tests
 * themselves; a test file that exited before reporting (node:test's `exitCode:` diagnostic) is a
 * runner error. Returns null when the text has neither a `TAP version` line nor a plan (`1..N`), so that
 * a harness's own `ok name` lines are not mistaken for TAP.
 */
export function parseTap(text: string): ParsedTests | null {
  const lines = stripAnsi(text).split(/\r?\n/);
  const hasTap = lines.some((line) => /^TAP version \d+/.test(line) || /^\s*1\.\.\d+/.test(line));
  const open: OpenSubtest[] = [];
  const points: TestPoint[] = [];
  const parsed = emptyParse();
  const summary: Record<string, number> = {};
  let comments: string[] = [];

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const subtest = subtestLine.exec(line);
    if (subtest) {
      const indent = subtest[1]?.length ?? 0;
      while (open.length > 0 && (open.at(-1)?.indent ?? -1) >= indent) open.pop();
      open.push({ indent, name: (subtest[2] ?? '').replace(/\\(.)/g, '$1'), children: 0, failedChildren: 0 });
      continue;
    }
    const point = testPointLine.exec(line);
    if (point) {
      const indent = point[1]?.length ?? 0;
      while (open.length > 0 && (open.at(-1)?.indent ?? -1) > indent) open.pop();
      const own = open.at(-1)?.indent === indent ? open.pop() : undefined;
      const ok = point[2] === 'ok';
      const next = lines[index + 1] ?? '';
      let diagnostics: Record<string, unknown> = {};
      if (next.trim() === '---') {
        const block = readYamlBlock(lines, index + 1, indent);
        diagnostics = block.data;
        index = block.end;
      }
      const parts = splitDirective(point[3] ?? '');
      const entry: TestPoint = {
        indent,
        ok,
        ...parts,
        suitePath: open.map((ancestor) => ancestor.name),
        children: own?.children ?? 0,
        failedChildren: own?.failedChildren ?? 0,
        diagnostics,
        comments: indent === 0 ? comments : [],
      };
      if (indent === 0) comments = [];
      const failed = statusOf(entry) === 'failed';
      for (const ancestor of open) {
        ancestor.children++;
        if (failed) ancestor.failedChildren++;
      }
      points.push(entry);
      continue;
    }
    const total = summaryLine.exec(line.trim());
    if (total?.[1] && total[2]) summary[total[1]] = Number(total[2]);
    else if (/^\s*#/.test(line)) comments.push(line.replace(/^\s*#\s?/, ''));
    if (/^\s*Bail out!/.test(line)) parsed.runnerErrors.push(`TAP bailed out: ${line.trim().slice(0, 300)}`);
  }

  if (!hasTap) return null;

  const tests = [];
  for (const point of points) {
    if (point.diagnostics.exitCode !== undefined && point.children === 0) {
      const cause = detectRunnerError(point.comments.join('\n'));
      parsed.runnerErrors.push(
        `${point.name} exited with code ${String(point.diagnostics.exitCode)} before reporting its tests${cause ? ` (${cause})` : ''}`,
      );
      continue;
    }
    const status = statusOf(point);
    // A suite or a test with subtests is a test itself only when it failed on its own (a describe body
    // that threw, a failing hook) and none of its subtests carries that failure.
    const grouping = point.children > 0 || point.diagnostics.type === 'suite';
    if (grouping && !(status === 'failed' && point.failedChildren === 0)) continue;
    const duration = point.diagnostics.duration_ms;
    tests.push(
      makeTestCase({
        suitePath: point.suitePath,
        name: point.name,
        status,
        durationMs: typeof duration === 'number' ? duration : undefined,
        message: point.reason ?? diagnosticText(point.diagnostics.error),
      }),
    );
  }
  parsed.tests = withUniqueIds(tests);
  // node:test's closing counts include the files that failed to run; the named tests are the better count.
  if (summary.tests !== undefined && points.length === 0) {
    parsed.summary = {
      passed: summary.pass ?? 0,
      failed: summary.fail ?? 0,
      skipped: (summary.skipped ?? 0) + (summary.todo ?? 0),
    };
  }
  if (points.length === 0 && (summary.tests ?? 0) === 0) parsed.noTests = true;
  return parsed;
}

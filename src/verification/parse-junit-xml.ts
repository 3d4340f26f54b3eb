import { XMLParser } from 'fast-xml-parser';
import {
  emptyParse,
  makeTestCase,
  mergeById,
  type ParsedTests,
  type ParseOptions,
  relativePath,
} from './parsed-tests.js';
import { detectRunnerError } from './runner-errors.js';
import type { TestCase, TestStatus } from './test-run-result.js';

type XmlNode = Record<string, unknown>;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: true,
  trimValues: false,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'skipped', 'system-out'].includes(name),
});

function asNodes(value: unknown): XmlNode[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) =>
    item && typeof item === 'object' ? (item as XmlNode) : { '#text': String(item ?? '') },
  );
}

function attribute(node: XmlNode, name: string): string | undefined {
  const value = node[`@${name}`];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function text(node: XmlNode | undefined): string | undefined {
  const value = node?.['#text'];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** pytest reports a test module it could not import as a test case whose error says so. */
function isCollectionError(node: XmlNode): boolean {
  return asNodes(node.error).some((error) => attribute(error, 'message') === 'collection failure');
}

/** JUnit 4 reports a test class it could not set up as a test named after the failing phase. */
function isClassSetupError(name: string, node: XmlNode): boolean {
  return asNodes(node.error).length > 0 && (name === 'initializationError' || name === 'classMethod');
}

function failureMessage(node: XmlNode, problem: XmlNode | undefined): string | undefined {
  const message = problem ? attribute(problem, 'message') : undefined;
  const body = text(problem);
  const output = text(asNodes(node['system-out'])[0]);
  return message ?? body ?? output;
}

function statusOf(node: XmlNode): { status: TestStatus; problem: XmlNode | undefined } {
  const failure = asNodes(node.failure)[0] ?? asNodes(node.error)[0];
  if (failure) return { status: 'failed', problem: failure };
  const skipped = asNodes(node.skipped)[0];
  if (skipped)
    return { status: attribute(skipped, 'type') === 'todo' ? 'todo' : 'skipped', problem: skipped };
  if (attribute(node, 'status') === 'notrun' || attribute(node, 'status') === 'disabled') {
    return { status: 'skipped', problem: undefined };
  }
  return { status: 'passed', problem: undefined };
}

function readSuite(
  suite: XmlNode,
  suitePath: string[],
  options: ParseOptions,
  out: ParsedTests,
  tests: TestCase[],
): void {
  for (const testcase of asNodes(suite.testcase)) {
    const name = attribute(testcase, 'name') ?? '(unnamed)';
    const classname = attribute(testcase, 'classname');
    if (isCollectionError(testcase) || isClassSetupError(name, testcase)) {
      const body = text(asNodes(testcase.error)[0]) ?? '';
      const cause = detectRunnerError(body) ?? body.split('\n')[0];
      out.runnerErrors.push(`${classname ? `${classname}.` : ''}${name} could not be loaded: ${cause}`);
      continue;
    }
    const { status, problem } = statusOf(testcase);
    const file = attribute(testcase, 'file');
    // node:test writes classname="test" on every case and ctest repeats the name: neither says more.
    const useClassname = classname !== undefined && classname !== name && classname !== 'test';
    const seconds = Number(attribute(testcase, 'time'));
    tests.push(
      makeTestCase({
        file: file ? relativePath(file, options.root) : undefined,
        suitePath: [...suitePath, ...(useClassname ? [classname] : [])],
        name,
        status,
        durationMs: Number.isFinite(seconds) ? seconds * 1000 : undefined,
        message: failureMessage(testcase, problem),
      }),
    );
  }
  // Nested suites are node:test's describe blocks; the outermost suite is the file or class, already named.
  for (const nested of asNodes(suite.testsuite)) {
    readSuite(nested, [...suitePath, attribute(nested, 'name') ?? ''], options, out, tests);
  }
}

/**
 * JUnit XML reports (pytest, Maven Surefire, Gradle, ctest, vitest and node:test's junit reporter), one
 * or more files. A test reported in two files (Surefire's `@Nested` classes) counts once. Returns null
 * when no file holds a `<testsuite>` or `<testsuites>` element.
 */
export function parseJunitXml(
  files: Readonly<Record<string, string>>,
  options: ParseOptions = {},
): ParsedTests | null {
  const out = emptyParse();
  const tests: TestCase[] = [];
  let read = 0;
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    let document: XmlNode;
    try {
      document = xml.parse(content) as XmlNode;
    } catch (error) {
      out.notes.push(
        `${path} is not well-formed XML (${(error as Error).message.split('\n')[0]}); it was skipped`,
      );
      continue;
    }
    const root = document.testsuites;
    if (root === undefined && document.testsuite === undefined) {
      out.notes.push(`${path} has no <testsuites> or <testsuite> element; it was skipped`);
      continue;
    }
    read++;
    const container = root && typeof root === 'object' ? (root as XmlNode) : {};
    // node:test puts top-level tests directly under <testsuites>.
    readSuite({ testcase: container.testcase }, [], options, out, tests);
    for (const suite of asNodes(root === undefined ? document.testsuite : container.testsuite)) {
      readSuite(suite, [], options, out, tests);
    }
  }
  if (read === 0) return null;
  out.tests = mergeById(tests);
  if (out.tests.length === 0 && out.runnerErrors.length === 0) out.noTests = true;
  return out;
}

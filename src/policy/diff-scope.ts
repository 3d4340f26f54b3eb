import picomatch from 'picomatch';
import { z } from 'zod';
import { untrusted } from '../agent/prompt.js';
import { ConstraintCheck } from '../domain/constraint-check.js';
import { GantryError } from '../domain/errors.js';
import { languageOf } from '../repomap/languages.js';
import {
  type ApiComparison,
  compareApi,
  type ExportedApi,
  exportedSymbols,
  isApiSourceFile,
} from './public-api.js';
import { isTestFile, rustTestModuleRanges } from './test-files.js';

/**
 * The rules the diff scope check enforces. `constraint.*` apply when the request carries the
 * matching constraint; `scope.*` apply to every run.
 */
export const DiffScopeRule = z.enum([
  'constraint.public-api',
  'constraint.migrations',
  'constraint.dependencies',
  'constraint.tests-only',
  'constraint.reproduction-test',
  'scope.outside-plan',
  'scope.ci',
]);
export type DiffScopeRule = z.infer<typeof DiffScopeRule>;

/** One broken rule. The message is written for the coding agent: what, which files, what to do. */
export const DiffScopeViolation = z.strictObject({
  rule: DiffScopeRule,
  /** The request constraint the rule enforces, as the requester wrote it; absent for `scope.*` rules nobody asked for. */
  constraint: z.string().optional(),
  files: z.array(z.string()),
  message: z.string(),
});
export type DiffScopeViolation = z.infer<typeof DiffScopeViolation>;

export { ConstraintCheck } from '../domain/constraint-check.js';

/** The result of the diff scope check: any violation blocks the pull request. */
export const DiffScopeReport = z.strictObject({
  violations: z.array(DiffScopeViolation),
  checks: z.array(ConstraintCheck),
});
export type DiffScopeReport = z.infer<typeof DiffScopeReport>;

export interface ChangedFile {
  path: string;
  status: 'added' | 'modified' | 'deleted';
}

export interface DiffScopeInput {
  /** The request's constraints, as written. */
  constraints: readonly string[];
  /** Every file the final diff touches, relative to the repository root. */
  changedFiles: readonly ChangedFile[];
  /** Files the plan expects to change; empty means the plan did not narrow the scope. Entries may be directories (`src/billing/`) or globs. */
  expectedScope: readonly string[];
  /** Tests the agent added as reproduction; they are never outside the scope. */
  testFiles: readonly string[];
  /** A file's content on the base commit, or undefined when it did not exist. */
  readBefore(path: string): Promise<string | undefined>;
  /** A file's content after the change, or undefined when it no longer exists. */
  readAfter(path: string): Promise<string | undefined>;
}

const migrationFile = picomatch(['**/migrations/**', '**/migrate/**', '**/*.sql'], { dot: true });
const dependencyFile = picomatch(
  [
    '**/package.json',
    '**/package-lock.json',
    '**/npm-shrinkwrap.json',
    '**/pnpm-lock.yaml',
    '**/yarn.lock',
    '**/bun.lock',
    '**/bun.lockb',
    '**/requirements*.txt',
    '**/pyproject.toml',
    '**/Pipfile',
    '**/Pipfile.lock',
    '**/poetry.lock',
    '**/uv.lock',
    '**/go.mod',
    '**/go.sum',
    '**/Cargo.toml',
    '**/Cargo.lock',
    '**/Gemfile',
    '**/Gemfile.lock',
    '**/composer.json',
    '**/composer.lock',
    '**/pom.xml',
    '**/build.gradle*',
    '**/gradle.lockfile',
  ],
  { dot: true },
);
const ciFile = picomatch(
  [
    '.github/workflows/**',
    '.github/actions/**',
    '.gitlab-ci.yml',
    '.circleci/**',
    '.buildkite/**',
    'Jenkinsfile',
    'azure-pipelines.yml',
    'bitbucket-pipelines.yml',
    '.travis.yml',
  ],
  { dot: true },
);
/** package.json fields that decide what gets installed; scripts, name and the rest are not dependencies. */
const dependencyFields = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
  'bundledDependencies',
  'bundleDependencies',
  'overrides',
  'resolutions',
  'packageManager',
  'engines',
] as const;

const LEFT_TO_REVIEWER = 'not machine-checkable: left to the reviewer';

/** What a checker found for one constraint; its violations get the constraint attached by the caller. */
interface Finding {
  honoured: boolean;
  how: string;
  /** False when part of the change could not be checked (a language Gantry cannot read). */
  checked?: boolean;
  violations: Array<Omit<DiffScopeViolation, 'constraint'>>;
}

/** Facts about the diff, computed once and shared by every checker. */
interface DiffFacts {
  input: DiffScopeInput;
  paths: string[];
  isTest(path: string): boolean;
  outsidePlan: string[];
  ciFiles: string[];
}

/**
 * Checkers for constraints people write often, first match wins. The public-API one comes first so
 * that "the package's public API" is not read as a dependency constraint.
 */
const checkers: ReadonlyArray<{ applies: RegExp; check: (facts: DiffFacts) => Promise<Finding> | Finding }> =
  [
    { applies: /\bapi\b|\bexport(?:s|ed)?\b|\bsignatures?\b|public interface/i, check: checkPublicApi },
    { applies: /migration/i, check: checkMigrations },
    { applies: /dependenc|package|lockfile/i, check: checkDependencies },
    { applies: /\bci\b|workflow|pipeline/i, check: checkCi },
    { applies: /only (the )?tests?|tests? only/i, check: checkTestsOnly },
    { applies: /only what the request needs|scope/i, check: checkPlanScope },
    { applies: /reproduction test/i, check: checkReproductionTest },
  ];

/**
 * Checks the final diff, before the pull request, against the request's constraints and the rules
 * that hold for every run (no CI changes; nothing outside the plan's expected scope except tests).
 * Every constraint gets a check entry saying how it was checked; one no checker understands is left
 * to the reviewer, never silently passed as checked. Any violation blocks the pull request; feed
 * `renderViolationsForAgent(report)` back to the patch loop.
 *
 * "Do not change the public API" is read strictly: every exported symbol of every non-test
 * JavaScript or TypeScript file counts, and a new export is a change too.
 *
 * @example
 * const report = await checkDiffScope({
 *   constraints: ['Do not change the public API'],
 *   changedFiles: [{ path: 'src/invoice.js', status: 'modified' }],
 *   expectedScope: ['src/invoice.js'],
 *   testFiles: ['test/invoice.test.js'],
 *   readBefore: (path) => git.show('base', path),
 *   readAfter: (path) => workspace.read(path),
 * });
 * if (report.violations.length) feedback = renderViolationsForAgent(report);
 */
export async function checkDiffScope(input: DiffScopeInput): Promise<DiffScopeReport> {
  const paths = input.changedFiles.map((file) => normalise(file.path));
  const declaredTests = new Set(input.testFiles.map(normalise));
  const rustTestsOnly = await rustFilesChangingOnlyTests(input);
  const isTest = (path: string) => declaredTests.has(path) || rustTestsOnly.has(path) || isTestFile(path);
  const facts: DiffFacts = {
    input,
    paths,
    isTest,
    outsidePlan: filesOutsidePlan(paths, input.expectedScope, [...input.testFiles, ...rustTestsOnly]),
    ciFiles: paths.filter((path) => ciFile(path)),
  };

  const violations: DiffScopeViolation[] = [];
  const checks: ConstraintCheck[] = [];
  for (const constraint of input.constraints) {
    const checker = checkers.find((candidate) => candidate.applies.test(constraint));
    if (!checker) {
      checks.push({ constraint, honoured: true, how: LEFT_TO_REVIEWER, checked: false });
      continue;
    }
    const finding = await checker.check(facts);
    checks.push({
      constraint,
      honoured: finding.honoured,
      how: finding.how,
      ...(finding.checked === false ? { checked: false } : {}),
    });
    for (const violation of finding.violations) addOnce(violations, { ...violation, constraint });
  }
  for (const violation of [ciViolation(facts), outsidePlanViolation(facts)]) {
    if (violation && !violations.some((existing) => existing.rule === violation.rule))
      violations.push(violation);
  }
  return { violations, checks };
}

/**
 * Renders the report's violations as the REASONING_ERROR block the patch loop sends to the coding
 * agent: what was broken, in which files, and what to do. Request constraints are quoted only inside
 * untrusted blocks, because the requester wrote them. Returns '' when there is nothing to fix.
 *
 * @example
 * const feedback = renderViolationsForAgent(report);
 * // REASONING_ERROR (diff scope check): the pull request is blocked ...
 */
export function renderViolationsForAgent(report: DiffScopeReport): string {
  if (report.violations.length === 0) return '';
  const lines = [
    `REASONING_ERROR (diff scope check): the pull request is blocked because the final diff breaks ${report.violations.length} rule(s). Fix every one, run the tests again, then call finish.`,
  ];
  report.violations.forEach((violation, index) => {
    lines.push(
      '',
      `${index + 1}. [${violation.rule}] ${violation.files.join(', ')}`,
      `   ${violation.message}`,
    );
    if (violation.constraint) {
      lines.push(
        '   The request constraint this enforces:',
        untrusted('request-constraint', violation.constraint),
      );
    }
  });
  return lines.join('\n');
}

async function checkPublicApi({ input, isTest }: DiffFacts): Promise<Finding> {
  const changed = input.changedFiles.map((file) => ({ ...file, path: normalise(file.path) }));
  const sources = changed.filter((file) => isApiSourceFile(file.path) && !isTest(file.path));
  // Exports are read for JavaScript and TypeScript only: another language's change is not checked.
  const unreadable = changed
    .filter(
      (file) => !isApiSourceFile(file.path) && !isTest(file.path) && languageOf(file.path) !== undefined,
    )
    .map((file) => file.path);
  const unreadableNote = unreadable.length
    ? `; not checked: ${unreadable.join(', ')} (Gantry reads the public API of JavaScript and TypeScript only), so ${LEFT_TO_REVIEWER}`
    : '';
  if (sources.length === 0) {
    return unreadable.length
      ? {
          honoured: true,
          checked: false,
          how: `not checked: ${unreadable.join(', ')} changed, and Gantry reads the public API of JavaScript and TypeScript only, so ${LEFT_TO_REVIEWER}`,
          violations: [],
        }
      : {
          honoured: true,
          how: 'no non-test source file changed, so no exported symbol changed',
          violations: [],
        };
  }
  const violations: Finding['violations'] = [];
  const summaries: string[] = [];
  const uncheckable: string[] = [];
  for (const file of sources) {
    const before = apiOf(file.status === 'added' ? undefined : await input.readBefore(file.path), file.path);
    if (before instanceof GantryError) {
      // The agent cannot fix a base file Gantry cannot parse; a person has to judge it.
      uncheckable.push(file.path);
      continue;
    }
    const after = apiOf(file.status === 'deleted' ? undefined : await input.readAfter(file.path), file.path);
    if (after instanceof GantryError) {
      summaries.push(`${file.path} (does not parse)`);
      violations.push({
        rule: 'constraint.public-api',
        files: [file.path],
        message: `${after.message}. Its exported symbols cannot be compared with the version before the change; fix the syntax error.`,
      });
      continue;
    }
    const difference = compareApi(before, after);
    if (difference.removed.length + difference.added.length + difference.changed.length === 0) continue;
    summaries.push(`${file.path} (${describeDifference(difference)})`);
    violations.push({
      rule: 'constraint.public-api',
      files: [file.path],
      message: apiChangeMessage(file, difference, before, after),
    });
  }
  const compared = sources.map((file) => file.path).filter((path) => !uncheckable.includes(path));
  const notChecked = uncheckable.length
    ? `; ${uncheckable.join(', ')} did not parse before the change, so ${LEFT_TO_REVIEWER}`
    : '';
  if (violations.length) {
    return {
      honoured: false,
      how: `exported symbols changed: ${summaries.join('; ')}${notChecked}${unreadableNote}`,
      violations,
    };
  }
  return {
    honoured: true,
    ...(uncheckable.length || unreadable.length ? { checked: false } : {}),
    how: compared.length
      ? `compared the exported symbols and signatures of ${compared.join(', ')} before and after the change: none removed, added or changed${notChecked}${unreadableNote}`
      : `${uncheckable.join(', ')} did not parse before the change, so ${LEFT_TO_REVIEWER}${unreadableNote}`,
    violations: [],
  };
}

/**
 * Rust sources whose change stays inside their `#[cfg(test)]` modules: the rest of the file is the
 * same before and after, so they are test changes by the same conventions the review uses.
 */
async function rustFilesChangingOnlyTests(input: DiffScopeInput): Promise<Set<string>> {
  const found = new Set<string>();
  for (const file of input.changedFiles) {
    const path = normalise(file.path);
    if (!path.endsWith('.rs') || file.status === 'deleted' || isTestFile(path)) continue;
    const before = file.status === 'added' ? '' : ((await input.readBefore(path)) ?? '');
    const after = (await input.readAfter(path)) ?? '';
    if (outsideTestModules(before) === outsideTestModules(after)) found.add(path);
  }
  return found;
}

function outsideTestModules(content: string): string {
  const ranges = rustTestModuleRanges(content);
  return content
    .split('\n')
    .filter((_, index) => !ranges.some((range) => index + 1 >= range.start && index + 1 <= range.end))
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .join('\n');
}

function apiOf(source: string | undefined, path: string): ExportedApi | GantryError {
  if (source === undefined) return new Map();
  try {
    return exportedSymbols(source, path);
  } catch (error) {
    if (error instanceof GantryError) return error;
    throw error;
  }
}

function apiChangeMessage(
  file: ChangedFile,
  difference: ApiComparison,
  before: ExportedApi,
  after: ExportedApi,
): string {
  const path = file.path;
  if (file.status === 'deleted') {
    return `${path} was deleted, which removes its exports ${names(difference.removed)}. Restore ${path} with those exports, or ask for a request without this constraint.`;
  }
  const renames = findRenames(difference, before, after);
  const renamedFrom = new Set(renames.map(([from]) => from));
  const renamedTo = new Set(renames.map(([, to]) => to));
  const removed = difference.removed.filter((name) => !renamedFrom.has(name));
  const added = difference.added.filter((name) => !renamedTo.has(name));
  const found: string[] = [];
  const todo: string[] = [];
  for (const [from, to] of renames) {
    found.push(`renamed export ${from} to ${to} (same signature, new name)`);
    todo.push(`export ${to} as ${from} again`);
  }
  if (removed.length) {
    found.push(`removed exports ${names(removed)}`);
    todo.push(`put back the exports ${names(removed)}`);
  }
  for (const name of difference.changed) {
    found.push(
      `changed the exported signature of ${name} from \`${clip(before.get(name))}\` to \`${clip(after.get(name))}\``,
    );
  }
  if (difference.changed.length) {
    todo.push(`restore the exported signature of ${names(difference.changed)} in ${path}`);
  }
  if (added.length) {
    found.push(
      `added exports ${names(added)} (read strictly, "do not change the public API" forbids new exports too)`,
    );
    todo.push(`make ${names(added)} module-private instead of exported`);
  }
  const subject = file.status === 'added' ? `${path} is a new file that` : `In ${path}, the change`;
  return `${subject} ${found.join('; ')}. To fix it: ${todo.join('; ')}. Or ask for a request without this constraint.`;
}

/** An export that disappeared while one with the same signature appeared was renamed. */
function findRenames(
  difference: ApiComparison,
  before: ExportedApi,
  after: ExportedApi,
): Array<[string, string]> {
  const unmatched = [...difference.added];
  const renames: Array<[string, string]> = [];
  for (const from of difference.removed) {
    const index = unmatched.findIndex((to) => after.get(to) === before.get(from));
    const to = unmatched[index];
    if (to === undefined) continue;
    renames.push([from, to]);
    unmatched.splice(index, 1);
  }
  return renames;
}

function describeDifference({ removed, added, changed }: ApiComparison): string {
  return [
    removed.length ? `removed: ${removed.join(', ')}` : '',
    changed.length ? `changed: ${changed.join(', ')}` : '',
    added.length ? `added: ${added.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function checkMigrations({ paths }: DiffFacts): Finding {
  const offending = paths.filter((path) => migrationFile(path));
  return pathFinding(offending, 'migration files', {
    rule: 'constraint.migrations',
    message: `The diff changes migration files (${offending.join(', ')}), which the request forbids. Restore each one to its content before the change (delete the ones you added) and make the fix without a migration, or ask for a request without this constraint.`,
  });
}

async function checkDependencies({ input, paths }: DiffFacts): Promise<Finding> {
  const offending: string[] = [];
  for (const file of input.changedFiles) {
    const path = normalise(file.path);
    if (!dependencyFile(path)) continue;
    if (file.status === 'modified' && /(?:^|\/)package\.json$/.test(path)) {
      if (await packageDependenciesEqual(input, path)) continue;
    }
    offending.push(path);
  }
  const manifestsWithoutDependencyChanges = paths.filter(
    (path) => dependencyFile(path) && !offending.includes(path),
  );
  const finding = pathFinding(offending, 'dependency manifests or lockfiles', {
    rule: 'constraint.dependencies',
    message: `The diff changes dependencies in ${offending.join(', ')}, which the request forbids. Restore the dependency declarations and lockfiles to their content before the change and make the fix with the dependencies already installed, or ask for a request without this constraint.`,
  });
  if (finding.honoured && manifestsWithoutDependencyChanges.length) {
    finding.how = `${manifestsWithoutDependencyChanges.join(', ')} changed outside the dependency fields; no dependency changed (checked on the final diff)`;
  }
  return finding;
}

/** A package.json edit that only touches scripts or metadata does not change dependencies. */
async function packageDependenciesEqual(input: DiffScopeInput, path: string): Promise<boolean> {
  try {
    const before = JSON.parse((await input.readBefore(path)) ?? 'null') as Record<string, unknown> | null;
    const after = JSON.parse((await input.readAfter(path)) ?? 'null') as Record<string, unknown> | null;
    if (!before || !after) return false;
    return dependencyFields.every((field) => canonicalJson(before[field]) === canonicalJson(after[field]));
  } catch {
    // A manifest that no longer parses may change anything; count it.
    return false;
  }
}

function checkCi(facts: DiffFacts): Finding {
  const violation = ciViolation(facts);
  return {
    ...verdict(facts.ciFiles, 'CI configuration files'),
    violations: violation ? [violation] : [],
  };
}

function checkTestsOnly({ paths, isTest }: DiffFacts): Finding {
  const offending = paths.filter((path) => !isTest(path));
  return pathFinding(offending, 'non-test files', {
    rule: 'constraint.tests-only',
    message: `The request allows changes to tests only, but the diff also changes ${offending.join(', ')}. Restore those files to their content before the change, or ask for a request without this constraint.`,
  });
}

function checkPlanScope(facts: DiffFacts): Finding {
  if (facts.input.expectedScope.length === 0) {
    return {
      honoured: true,
      how: `${facts.paths.length} file(s) changed; the plan did not narrow the scope`,
      violations: [],
    };
  }
  const violation = outsidePlanViolation(facts);
  return {
    ...verdict(facts.outsidePlan, 'files outside the plan'),
    violations: violation ? [violation] : [],
  };
}

function checkReproductionTest({ input, paths }: DiffFacts): Finding {
  const tests = input.testFiles.map(normalise);
  if (tests.length === 0) return { honoured: true, how: 'no reproduction test was added', violations: [] };
  const kept = tests.some((test) => paths.includes(test));
  return {
    honoured: kept,
    how: kept
      ? `reproduction test(s) kept in the change: ${tests.join(', ')}`
      : `reproduction test(s) missing from the final diff: ${tests.join(', ')}`,
    violations: kept
      ? []
      : [
          {
            rule: 'constraint.reproduction-test',
            files: tests,
            message: `The reproduction test(s) ${tests.join(', ')} are no longer in the final diff. Restore them as they were after the reproduce phase, without weakening them, and make them pass by fixing the code.`,
          },
        ],
  };
}

function ciViolation({ ciFiles }: DiffFacts): DiffScopeViolation | undefined {
  if (ciFiles.length === 0) return undefined;
  return {
    rule: 'scope.ci',
    files: ciFiles,
    message: `The diff changes CI configuration (${ciFiles.join(', ')}); Gantry never changes CI workflows. Restore those files to their content before the change (delete the ones you added).`,
  };
}

function outsidePlanViolation({ input, outsidePlan }: DiffFacts): DiffScopeViolation | undefined {
  if (outsidePlan.length === 0) return undefined;
  return {
    rule: 'scope.outside-plan',
    files: outsidePlan,
    message: `The diff changes files outside the plan's expected scope (${input.expectedScope.join(', ')}): ${outsidePlan.join(', ')}. Restore them to their content before the change and keep the fix inside the planned files; tests may be added anywhere.`,
  };
}

function pathFinding(
  offending: string[],
  what: string,
  violation: Omit<DiffScopeViolation, 'files' | 'constraint'>,
): Finding {
  return {
    ...verdict(offending, what),
    violations: offending.length ? [{ ...violation, files: offending }] : [],
  };
}

function verdict(offending: readonly string[], what: string): { honoured: boolean; how: string } {
  return offending.length
    ? { honoured: false, how: `changed ${what}: ${offending.join(', ')}` }
    : { honoured: true, how: `no ${what} changed (checked on the final diff)` };
}

/**
 * The changed paths outside the plan's expected scope, tests aside: the one definition the diff scope
 * check, the evidence packet and the review share. Nothing is outside a plan that does not narrow.
 *
 * @example
 * filesOutsidePlan(['src/a.js', 'test/a.test.js', 'README.md'], ['src/'], []); // ['README.md']
 */
export function filesOutsidePlan(
  paths: readonly string[],
  expectedScope: readonly string[],
  testFiles: readonly string[],
): string[] {
  if (expectedScope.length === 0) return [];
  const inPlan = planScopeMatcher(expectedScope);
  const declared = new Set(testFiles.map(normalise));
  return paths.map(normalise).filter((path) => !inPlan(path) && !declared.has(path) && !isTestFile(path));
}

/** Plan entries are paths, directories (trailing `/`) or globs. */
function planScopeMatcher(expectedScope: readonly string[]): (path: string) => boolean {
  const matchers = expectedScope.map((raw) => {
    const entry = normalise(raw);
    if (picomatch.scan(entry).isGlob) return picomatch(entry, { dot: true });
    if (entry.endsWith('/')) return (path: string) => path.startsWith(entry);
    return (path: string) => path === entry;
  });
  return (path) => matchers.some((matches) => matches(path));
}

function addOnce(violations: DiffScopeViolation[], violation: DiffScopeViolation): void {
  const duplicate = violations.some(
    (existing) =>
      existing.rule === violation.rule &&
      existing.message === violation.message &&
      existing.files.join('\n') === violation.files.join('\n'),
  );
  if (!duplicate) violations.push(violation);
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

function names(list: readonly string[]): string {
  return list.join(', ');
}

/** Signatures can be long; the agent needs enough to recognise them, the file has the rest. */
function clip(signature: string | undefined): string {
  const text = signature ?? '';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

import picomatch from 'picomatch';

/**
 * Where tests live, by the conventions of each ecosystem Gantry works on. The one definition the
 * review's untested-source check, the diff scope check and the evidence packet share.
 */
export const TEST_FILE_PATTERNS: readonly string[] = [
  // JavaScript and TypeScript; `test/` and `tests/` also hold Python, Rust, C and C++ suites.
  '**/*.test.*',
  '**/*.spec.*',
  '**/__tests__/**',
  '**/test/**',
  '**/tests/**',
  // Python
  '**/test_*.py',
  '**/*_test.py',
  '**/conftest.py',
  // Go
  '**/*_test.go',
  // Rust: integration tests live in `tests/`, benchmarks in `benches/`, an out-of-line test module in `tests.rs`.
  '**/benches/**',
  '**/tests.rs',
  // JVM source sets (`src/test/java` is under `test/`); Kotlin Multiplatform's `src/jvmTest/`, `src/commonTest/`.
  '**/src/*Test/**',
  '**/src/testFixtures/**',
  // C and C++ harnesses
  '**/t/**',
  '**/test_*.c',
  '**/*_test.c',
  '**/check_*.c',
  '**/test_*.cc',
  '**/*_test.cc',
  '**/test_*.cpp',
  '**/*_test.cpp',
  // Ruby
  '**/spec/**',
  '**/*_spec.rb',
  '**/*_test.rb',
  // Shell test suites
  '**/*.bats',
];

const conventionalTest = picomatch([...TEST_FILE_PATTERNS], { dot: true });

/**
 * Whether a path is a test file by convention, or because the run or the repository declares it one
 * (the run's reproduction tests, the Makefile's test prerequisites). Paths are repository-relative.
 * A Rust source whose inline `#[cfg(test)]` module changed is a test change too, but that needs the
 * diff: see `splitRustChange`.
 *
 * @example
 * isTestFile('src/jvmTest/kotlin/ParserTest.kt'); // true
 * isTestFile('harness/parse_cases.c', ['harness/parse_cases.c']); // true: declared
 */
export function isTestFile(path: string, declared: Iterable<string> = []): boolean {
  const normalised = normaliseTestPath(path);
  for (const entry of declared) if (normaliseTestPath(entry) === normalised) return true;
  return conventionalTest(normalised);
}

/**
 * A test-file predicate over fixed patterns and declared files, built once for many paths.
 *
 * @example
 * const isTest = testFileMatcher({ declared: reproduction.testFiles });
 * diff.filter((file) => isTest(file.path));
 */
export function testFileMatcher(
  options: { patterns?: readonly string[]; declared?: Iterable<string> } = {},
): (path: string) => boolean {
  const matches = options.patterns ? picomatch([...options.patterns], { dot: true }) : conventionalTest;
  const declared = new Set([...(options.declared ?? [])].map(normaliseTestPath));
  return (path) => {
    const normalised = normaliseTestPath(path);
    return declared.has(normalised) || matches(normalised);
  };
}

/** Prerequisites of these Makefile targets are the repository's own test harness. */
const MAKE_TEST_TARGETS = new Set(['test', 'tests', 'check']);
/** A prerequisite is a test source when it is code or a script, not an object, archive or phony name. */
const HARNESS_SOURCE = /\.(?:c|cc|cpp|cxx|h|hpp|sh|bash|bats|t|pl|py)$/;

/**
 * The source files a Makefile's `test`, `tests` or `check` targets list as prerequisites: the
 * harness of a C project whose tests follow no naming convention. Variables (`$(TESTS)`), order-only
 * markers and prerequisites that are not code are left out; line continuations are followed.
 *
 * @example
 * makeTestPrerequisites('check: harness/run.c harness/cases.sh\n\tcc -o run harness/run.c && ./run');
 * // ['harness/run.c', 'harness/cases.sh']
 */
export function makeTestPrerequisites(makefile: string): string[] {
  const found = new Set<string>();
  const lines = makefile.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of lines) {
    const rule = /^([^\t#:=][^#:=]*?)\s*::?(?![:=])(.*)$/.exec(line);
    if (!rule?.[1]) continue;
    const targets = rule[1].trim().split(/\s+/);
    if (!targets.some((target) => MAKE_TEST_TARGETS.has(target))) continue;
    const prerequisites = (rule[2] ?? '').split(/[;#]/)[0] ?? '';
    for (const word of prerequisites.trim().split(/\s+/)) {
      if (!word || word === '|' || word.includes('$') || !HARNESS_SOURCE.test(word)) continue;
      found.add(normaliseTestPath(word));
    }
  }
  return [...found];
}

/** Line numbers, both ends included, from 1. */
interface Lines {
  start: number;
  end: number;
}

const cfgTest = /^\s*#\[cfg\((?:test\b|all\(\s*test\b|any\([^)]*\btest\b)[^\]]*\]\s*$/;
const otherAttribute = /^\s*#!?\[/;
const moduleOpening = /^(\s*)(?:pub(?:\([^)]*\))?\s+)?mod\s+[A-Za-z_][A-Za-z0-9_]*\s*\{/;
/** The function context git writes after a hunk header when the hunk sits inside `mod tests {`. */
const testModuleContext = /^(\s*)(?:pub(?:\([^)]*\))?\s+)?mod\s+(?:\w+_)?tests?\s*\{/;

/**
 * The line ranges of a Rust file's `#[cfg(test)]` modules, attribute to closing brace. The module
 * ends at the first `}` at the indentation of its `mod` line, as rustfmt writes it.
 *
 * @example
 * rustTestModuleRanges('fn a() {}\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n');
 * // [{ start: 2, end: 6 }]
 */
export function rustTestModuleRanges(content: string): Lines[] {
  const lines = content.split('\n');
  const ranges: Lines[] = [];
  let attribute: number | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (attribute === undefined) {
      if (cfgTest.test(line)) attribute = index;
      continue;
    }
    const opening = moduleOpening.exec(line);
    if (opening) {
      const end = moduleEnd(lines, index, opening[1] ?? '');
      ranges.push({ start: attribute + 1, end: end + 1 });
      attribute = undefined;
      index = end;
    } else if (!otherAttribute.test(line) && line.trim() !== '' && !cfgTest.test(line)) {
      attribute = undefined; // the attribute belonged to another item
    }
  }
  return ranges;
}

function moduleEnd(lines: readonly string[], opening: number, indent: string): number {
  const first = lines[opening] as string;
  if (braceBalance(first) <= 0) return opening; // `mod tests { ... }` on one line
  const closing = new RegExp(`^${indent}\\}`);
  for (let index = opening + 1; index < lines.length; index++) {
    if (closing.test(lines[index] as string)) return index;
  }
  return lines.length - 1;
}

function braceBalance(line: string): number {
  const code = line.replace(/"(?:\\.|[^"\\])*"/g, '').replace(/\/\/.*$/, '');
  return (code.match(/\{/g)?.length ?? 0) - (code.match(/\}/g)?.length ?? 0);
}

/** A Rust file's changed lines, split by whether they sit inside a `#[cfg(test)]` module. */
export interface RustChange {
  testLines: string[];
  otherLines: string[];
}

/**
 * Splits the changed lines of a Rust file's patch into test-module lines and the rest. With the
 * file's content after the change, test modules are found in the whole file; without it, from the
 * hunks alone: a `#[cfg(test)]` module seen in the hunk, or a hunk git labels as inside `mod tests {`.
 * A removed line counts as inside a module when the lines around where it was are.
 *
 * @example
 * const { testLines, otherLines } = splitRustChange(file.patch, await readAfter(file.path));
 * // only test lines changed: a test change, not an untested source change
 */
export function splitRustChange(patch: string, contentAfter?: string): RustChange {
  const ranges = contentAfter === undefined ? undefined : rustTestModuleRanges(contentAfter);
  const inRanges = (line: number) => (ranges ?? []).some((range) => line >= range.start && line <= range.end);
  const change: RustChange = { testLines: [], otherLines: [] };
  let newLine = 0;
  let hunk: HunkState | undefined;
  for (const line of patch.split('\n')) {
    const header = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@ ?(.*)$/.exec(line);
    if (header) {
      newLine = Number(header[1]);
      hunk = startHunk(header[2] ?? '');
      continue;
    }
    if (!hunk) continue;
    const mark = line[0];
    const text = line.slice(1);
    if (mark === '-') {
      const inside = ranges ? inRanges(newLine) && inRanges(newLine - 1) : hunk.inside;
      (inside ? change.testLines : change.otherLines).push(text);
      continue;
    }
    if (mark !== '+' && mark !== ' ') continue; // "\ No newline at end of file"
    const inside = ranges ? inRanges(newLine) : advance(hunk, text);
    if (mark === '+') (inside ? change.testLines : change.otherLines).push(text);
    newLine++;
  }
  return change;
}

interface HunkState {
  inside: boolean;
  /** The indentation of the `mod` line, whose closing brace ends the module. */
  indent: string;
  attribute: boolean;
}

function startHunk(context: string): HunkState {
  const opening = testModuleContext.exec(context);
  return { inside: Boolean(opening), indent: opening?.[1] ?? '', attribute: false };
}

/** Whether a new-side line of a hunk is in a test module, moving the state past it. */
function advance(state: HunkState, line: string): boolean {
  if (state.inside) {
    if (new RegExp(`^${state.indent}\\}`).test(line)) state.inside = false;
    return true;
  }
  if (cfgTest.test(line)) {
    state.attribute = true;
    return true;
  }
  if (!state.attribute) return false;
  const opening = moduleOpening.exec(line);
  if (opening) {
    state.attribute = false;
    state.inside = braceBalance(line) > 0;
    state.indent = opening[1] ?? '';
    return true;
  }
  if (otherAttribute.test(line) || line.trim() === '') return true;
  state.attribute = false;
  return false;
}

function normaliseTestPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

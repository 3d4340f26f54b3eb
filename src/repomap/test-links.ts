import type { TestLink } from '../domain/context.js';
import { comparePaths } from './repository-files.js';

type Family = 'js' | 'python' | 'go' | 'jvm';

const JS_EXTENSIONS = ['ts', 'tsx', 'mts', 'cts', 'js', 'jsx', 'mjs', 'cjs'];
const JS_TEST = new RegExp(`^(.+)\\.(?:test|spec)\\.(${JS_EXTENSIONS.join('|')})$`);
const JS_FILE = new RegExp(`^(.+)\\.(${JS_EXTENSIONS.join('|')})$`);
const EXTENSIONS: Readonly<Record<Family, readonly string[]>> = {
  js: JS_EXTENSIONS,
  python: ['py'],
  go: ['go'],
  jvm: ['java', 'kt'],
};
/** Directory names that hold tests, and what they mirror in the source tree. */
const TEST_DIRECTORIES = new Set(['__tests__', 'test', 'tests', 'spec', 'testing']);
const SOURCE_DIRECTORIES = ['src', 'lib', 'main', ''];

interface ParsedFile {
  file: string;
  family: Family;
  stem: string;
  extension: string;
  directory: string;
}

/** Recognises a test file by the naming conventions of its ecosystem. */
function parseTest(file: string): ParsedFile | undefined {
  const slash = file.lastIndexOf('/');
  const directory = slash < 0 ? '' : file.slice(0, slash);
  const name = file.slice(slash + 1);
  const parsed = (family: Family, stem: string | undefined, extension: string | undefined) =>
    stem && extension ? { file, family, stem, extension, directory } : undefined;
  let match = JS_TEST.exec(name);
  if (match) return parsed('js', match[1], match[2]);
  match = JS_FILE.exec(name);
  if (match && directory.split('/').includes('__tests__')) return parsed('js', match[1], match[2]);
  match = /^test_(.+)\.(py)$/.exec(name) ?? /^(.+)_test\.(py)$/.exec(name);
  if (match) return parsed('python', match[1], match[2]);
  match = /^(.+)_test\.(go)$/.exec(name);
  if (match) return parsed('go', match[1], match[2]);
  match = /^(.+?)Tests?\.(java|kt)$/.exec(name);
  if (match) return parsed('jvm', match[1], match[2]);
  return undefined;
}

/** Recognises a file that a test could be about: same ecosystem, not itself a test. */
function parseSource(file: string): ParsedFile | undefined {
  if (parseTest(file)) return undefined;
  const slash = file.lastIndexOf('/');
  const directory = slash < 0 ? '' : file.slice(0, slash);
  const name = file.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const stem = name.slice(0, dot);
  const extension = name.slice(dot + 1);
  const family = (Object.keys(EXTENSIONS) as Family[]).find((key) => EXTENSIONS[key].includes(extension));
  // Declaration files describe code; they are not the code a test exercises.
  if (!family || (family === 'js' && stem.endsWith('.d')) || (family === 'python' && stem === 'conftest')) {
    return undefined;
  }
  return { file, family, stem, extension, directory };
}

/**
 * Links each test file to the source file it tests, by the naming conventions of each ecosystem:
 * `foo.test.ts`, `foo.spec.js`, `__tests__/foo.js` → `foo.ts|tsx|js|...`; `test_foo.py`,
 * `foo_test.py` → `foo.py`; `foo_test.go` → `foo.go` (same package directory only);
 * `FooTest.java`, `FooTests.kt` → `Foo.java` / `Foo.kt`.
 *
 * When several files share the name, the closest wins: the test's own directory (or the one
 * above its `__tests__`/`test`/`tests` directory), then the mirrored path (`test/` → `src/`,
 * `lib/` or `main/`, as in `src/test/java` → `src/main/java`), then anything under `src/`,
 * then under `lib/`, then elsewhere; ties go to the longest shared directory prefix. Only files
 * in `files` are linked, and a test without a source gets no link.
 *
 * @example
 * linkTestsToSources(['src/foo.ts', 'test/foo.test.ts']);
 * // [{ test: 'test/foo.test.ts', source: 'src/foo.ts' }]
 */
export function linkTestsToSources(files: readonly string[]): TestLink[] {
  const sources = new Map<string, ParsedFile[]>();
  const tests: ParsedFile[] = [];
  for (const file of files) {
    const test = parseTest(file);
    if (test) {
      tests.push(test);
      continue;
    }
    const source = parseSource(file);
    if (!source) continue;
    const key = `${source.family}:${source.stem}`;
    const same = sources.get(key);
    if (same) same.push(source);
    else sources.set(key, [source]);
  }
  const links: TestLink[] = [];
  for (const test of tests) {
    const candidates = (sources.get(`${test.family}:${test.stem}`) ?? []).filter(
      (source) => test.family !== 'go' || source.directory === test.directory,
    );
    // The mirrors depend on the test alone: computed once, not once per candidate source.
    const mirrors = mirrorsOf(test.directory ? test.directory.split('/') : []);
    const best = candidates
      .map((source) => ({ source, key: closeness(test, source, mirrors) }))
      .reduce<{ source: ParsedFile; key: Array<number | string> } | undefined>(
        (top, each) => (top && compareKeys(top.key, each.key) <= 0 ? top : each),
        undefined,
      );
    if (best) links.push({ test: test.file, source: best.source.file });
  }
  return links.sort((a, b) => comparePaths(a.test, b.test));
}

function closeness(
  test: ParsedFile,
  source: ParsedFile,
  mirrors: ReadonlyMap<string, number>,
): Array<number | string> {
  const testSegments = test.directory ? test.directory.split('/') : [];
  const sourceSegments = source.directory ? source.directory.split('/') : [];
  const lastTestSegment = testSegments.at(-1);
  const mirror = mirrors.get(source.directory);
  let place: number;
  if (
    source.directory === test.directory ||
    (lastTestSegment !== undefined &&
      TEST_DIRECTORIES.has(lastTestSegment) &&
      source.directory === testSegments.slice(0, -1).join('/'))
  ) {
    place = 0;
  } else if (mirror !== undefined) {
    // A mirror into src/ beats one into lib/, main/ or the bare parent.
    place = 1 + mirror / 10;
  } else if (sourceSegments.includes('src')) {
    place = 2;
  } else if (sourceSegments.includes('lib')) {
    place = 3;
  } else {
    place = 4;
  }
  let shared = 0;
  while (shared < testSegments.length && testSegments[shared] === sourceSegments[shared]) shared += 1;
  const extensions = EXTENSIONS[test.family];
  const extensionRank = source.extension === test.extension ? -1 : extensions.indexOf(source.extension);
  return [place, -shared, extensionRank, source.file.length, source.file];
}

/**
 * Directories a test directory mirrors: each test-directory segment swapped for a source one,
 * mapped to the rank of that source directory in {@link SOURCE_DIRECTORIES}.
 */
function mirrorsOf(segments: readonly string[]): Map<string, number> {
  const mirrors = new Map<string, number>();
  segments.forEach((segment, index) => {
    if (!TEST_DIRECTORIES.has(segment)) return;
    SOURCE_DIRECTORIES.forEach((replacement, rank) => {
      const mirrored = [...segments.slice(0, index), replacement, ...segments.slice(index + 1)];
      const directory = mirrored.filter(Boolean).join('/');
      mirrors.set(directory, Math.min(rank, mirrors.get(directory) ?? rank));
    });
  });
  return mirrors;
}

function compareKeys(a: ReadonlyArray<number | string>, b: ReadonlyArray<number | string>): number {
  for (let index = 0; index < a.length; index += 1) {
    const left = a[index] as number | string;
    const right = b[index] as number | string;
    if (left === right) continue;
    if (typeof left === 'number' && typeof right === 'number') return left - right;
    return comparePaths(String(left), String(right));
  }
  return 0;
}

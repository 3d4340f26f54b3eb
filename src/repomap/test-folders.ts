import { comparePaths } from './repository-files.js';

/** Directory names that hold tests by convention. */
const TEST_DIRECTORY_NAMES = new Set([
  'test',
  'tests',
  '__tests__',
  'spec',
  'specs',
  'e2e',
  'integration-tests',
]);

/**
 * The directories that hold tests: the outermost directory named test, tests, __tests__, spec, specs,
 * e2e or integration-tests on each file's path (`tests`, `packages/api/test`, `src/test` of a Maven
 * module), once each, in path order.
 *
 * @example
 * findTestFolders(['tests/test_app.py', 'tests/unit/test_x.py', 'web/src/__tests__/a.test.ts']);
 * // ['tests', 'web/src/__tests__']
 */
export function findTestFolders(files: readonly string[]): string[] {
  const folders = new Set<string>();
  for (const file of files) {
    const segments = file.split('/');
    const index = segments.slice(0, -1).findIndex((segment) => TEST_DIRECTORY_NAMES.has(segment));
    if (index >= 0) folders.add(segments.slice(0, index + 1).join('/'));
  }
  return [...folders].sort(comparePaths);
}

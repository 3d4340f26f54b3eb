import ignore from 'ignore';

/** Build outputs and dependency trees in any repository, whatever its .gitignore says. */
export const GENERATED_PATTERNS = [
  'node_modules/',
  'dist/',
  'build/',
  'out/',
  'target/',
  'coverage/',
  '.venv/',
  'venv/',
  '__pycache__/',
  '.pytest_cache/',
  '.gradle/',
  '*.pyc',
  '*.o',
  '*.a',
  '*.so',
  '*.dylib',
  '*.class',
  '*.jar',
  '*.exe',
  '*.min.js',
] as const;

/**
 * Which paths an edit may not write because they are generated: the well-known build outputs and
 * whatever the repository's root .gitignore ignores. A path the request itself names is allowed (the
 * request asks for that file). Returns the reason for a generated path, undefined for a source file.
 *
 * @example
 * const generated = generatedPathRule('dist/\n', 'Fix the parser');
 * generated('dist/index.js'); // 'dist/index.js is generated (ignored by .gitignore or a build output) …'
 */
export function generatedPathRule(
  gitignore: string | undefined,
  requestText: string,
): (path: string) => string | undefined {
  const rules = ignore().add([...GENERATED_PATTERNS]);
  if (gitignore) rules.add(gitignore);
  return (path) => {
    if (!rules.ignores(path) || requestText.includes(path)) return undefined;
    return `${path} is generated (a build output or ignored by the repository's .gitignore); edit its source instead, or name the file in the request if the change must include it`;
  };
}

import type { RepositoryCommand, ToolchainKind } from '../domain/context.js';

/** The toolchain each language needs; languages with none of their own (data, markup) need nothing. */
const BY_LANGUAGE: Readonly<Record<string, ToolchainKind>> = {
  javascript: 'node',
  typescript: 'node',
  vue: 'node',
  svelte: 'node',
  python: 'python',
  java: 'java',
  kotlin: 'java',
  scala: 'java',
  groovy: 'java',
  rust: 'rust',
  go: 'go',
  c: 'c',
  cpp: 'c',
};

/** The toolchain each detected command's program runs on. */
const BY_PROGRAM: Readonly<Record<string, ToolchainKind>> = {
  npm: 'node',
  npx: 'node',
  pnpm: 'node',
  yarn: 'node',
  node: 'node',
  python: 'python',
  python3: 'python',
  pytest: 'python',
  pip: 'python',
  uv: 'python',
  poetry: 'python',
  tox: 'python',
  nox: 'python',
  mypy: 'python',
  ruff: 'python',
  flake8: 'python',
  pylint: 'python',
  black: 'python',
  isort: 'python',
  mvn: 'java',
  gradle: 'java',
  './gradlew': 'java',
  './mvnw': 'java',
  cargo: 'rust',
  go: 'go',
  make: 'c',
  cmake: 'c',
  ctest: 'c',
};

/**
 * The toolchains a repository needs, from its languages and the programs of its commands, in a fixed
 * order. The sandbox's view exposes these and no other host toolchain.
 *
 * @example
 * toolchainsFor({ python: 12, c: 3 }, [{ argv: ['make', 'test'] }]); // ['python', 'c']
 */
export function toolchainsFor(
  languages: Readonly<Record<string, number>>,
  commands: readonly Pick<RepositoryCommand, 'argv'>[],
): ToolchainKind[] {
  const needed = new Set<ToolchainKind>();
  for (const language of Object.keys(languages)) {
    const toolchain = BY_LANGUAGE[language];
    if (toolchain) needed.add(toolchain);
  }
  for (const command of commands) {
    const toolchain = BY_PROGRAM[command.argv[0] ?? ''];
    if (toolchain) needed.add(toolchain);
  }
  const order: ToolchainKind[] = ['node', 'python', 'java', 'rust', 'go', 'c'];
  return order.filter((kind) => needed.has(kind));
}

const LANGUAGE_BY_EXTENSION: Readonly<Record<string, string>> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  pyi: 'python',
  go: 'go',
  java: 'java',
  kt: 'kotlin',
  kts: 'kotlin',
  scala: 'scala',
  groovy: 'groovy',
  rb: 'ruby',
  rs: 'rust',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  hh: 'cpp',
  cs: 'csharp',
  fs: 'fsharp',
  php: 'php',
  swift: 'swift',
  m: 'objective-c',
  dart: 'dart',
  ex: 'elixir',
  exs: 'elixir',
  erl: 'erlang',
  hs: 'haskell',
  clj: 'clojure',
  lua: 'lua',
  r: 'r',
  jl: 'julia',
  pl: 'perl',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  ps1: 'powershell',
  sql: 'sql',
  tf: 'terraform',
  vue: 'vue',
  svelte: 'svelte',
  html: 'html',
  css: 'css',
  scss: 'css',
  sass: 'css',
  less: 'css',
  proto: 'protobuf',
};

/**
 * The language a file is written in, judged by its extension alone; `undefined` for data,
 * documentation and anything unrecognised.
 *
 * @example
 * languageOf('src/app.test.ts'); // 'typescript'
 */
export function languageOf(file: string): string | undefined {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return LANGUAGE_BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
}

/**
 * Counts files per language; files in no known language are not counted.
 *
 * @example
 * countLanguages(['a.ts', 'b.ts', 'c.py', 'README.md']); // { typescript: 2, python: 1 }
 */
export function countLanguages(files: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of files) {
    const language = languageOf(file);
    if (language) counts[language] = (counts[language] ?? 0) + 1;
  }
  return counts;
}

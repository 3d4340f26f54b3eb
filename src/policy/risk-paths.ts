/** A path a request mentions, and why Gantry took it for one. */
export interface PathMention {
  /** As written, without a leading `./` or `/`, trailing punctuation or a `:line` suffix. */
  path: string;
  /** `looks-like-a-path` by its shape; `exists-in-repository` when only the file list says so. */
  kind: 'looks-like-a-path' | 'exists-in-repository';
  /** The reason in words, for the risk assessment: "looks like a path: it contains a /". */
  because: string;
  /** The repository's files it names, when a file list was given (`session.ts` → `src/auth/session.ts`). */
  repositoryPaths: string[];
}

/**
 * Extensions of files people name in issues: source, configuration, data, documents and keys. A
 * dotted word with any other ending is code (`options.method`, `JSON.parse`), not a file.
 */
const KNOWN_EXTENSIONS = new Set(
  (
    'ts tsx mts cts js jsx mjs cjs vue svelte astro py pyi ipynb go rs java kt kts scala sc groovy gradle ' +
    'rb erb rake php cs fs fsx vb swift m mm c h cc cpp cxx hh hpp hxx ino zig nim dart ex exs erl hrl ' +
    'clj cljs cljc edn hs lhs ml mli elm lua pl pm jl sh bash zsh fish ps1 psm1 bat cmd bats sql prisma ' +
    'graphql gql proto thrift avsc json jsonc json5 jsonl ndjson yaml yml toml ini cfg conf config env ' +
    'properties xml plist lock sum mod work tf tfvars hcl nix bzl bazel cmake mk make dockerfile ' +
    'md mdx markdown rst adoc txt html htm css scss sass less styl svg png jpg jpeg gif webp ico pdf csv tsv ' +
    'parquet pem key crt cer csr der p12 pfx jks keystore pub asc gpg patch diff wasm so dylib dll jar war'
  ).split(' '),
);

/** Dot files and directories known by name (a dotted word like `.then` is not one). */
const KNOWN_DOT_NAMES = new Set(
  (
    'env npmrc yarnrc pnpmrc pypirc netrc gitignore gitattributes gitmodules gitkeep mailmap dockerignore ' +
    'editorconfig babelrc eslintrc eslintignore prettierrc prettierignore stylelintrc browserslistrc swcrc ' +
    'nvmrc node-version python-version ruby-version tool-versions terraformrc htaccess htpasswd ' +
    'bashrc zshrc profile clang-format clang-tidy github gitlab circleci buildkite husky vscode devcontainer'
  ).split(' '),
);

/** Files known by a name without an extension (also with one: `Dockerfile.dev`). */
const KNOWN_FILE_NAMES = new Set(
  (
    'CODEOWNERS OWNERS Makefile GNUmakefile makefile Dockerfile Containerfile Jenkinsfile Procfile Gemfile ' +
    'Rakefile Vagrantfile Pipfile Brewfile Justfile justfile Tiltfile Earthfile BUILD WORKSPACE LICENSE ' +
    'README CHANGELOG CONTRIBUTING NOTICE AUTHORS id_rsa id_dsa id_ecdsa id_ed25519'
  ).split(' '),
);

/** Files named in the reason before "and N more". */
const NAMED_REPOSITORY_PATHS = 3;

/**
 * Finds the file paths a piece of request text mentions, in order of first mention, without
 * duplicates, each with the reason it counted. A token looks like a path when it starts with `./`,
 * contains a `/`, ends in a known file extension, or is a well-known file name (`CODEOWNERS`,
 * `.env`). With the repository's file list, inline code (`` `session` ``) that names one of its files
 * or directories counts too; prose words do not, since too many of them are also directory names.
 * Words in inline code that are neither (`` `NormalizedOptions` ``, `` `method` ``) are code, not
 * paths. URLs, version numbers and abbreviations like "e.g." are never paths.
 *
 * @example
 * pathMentionsIn('`NormalizedOptions` breaks in src/auth/session.ts', ['src/auth/session.ts']);
 * // [{ path: 'src/auth/session.ts', kind: 'looks-like-a-path',
 * //    because: 'looks like a path: it contains a /', repositoryPaths: ['src/auth/session.ts'] }]
 */
export function pathMentionsIn(text: string, files?: readonly string[]): PathMention[] {
  const found = new Map<string, PathMention>();
  for (const token of candidateTokens(text)) {
    const candidate = normalisePath(token.text);
    if (candidate === undefined || found.has(candidate)) continue;
    const shape = pathShape(token.text, candidate);
    const repositoryPaths = files ? inRepository(candidate, files) : [];
    if (shape) {
      found.set(candidate, { path: candidate, kind: 'looks-like-a-path', because: shape, repositoryPaths });
    } else if (token.quoted && repositoryPaths.length) {
      found.set(candidate, {
        path: candidate,
        kind: 'exists-in-repository',
        because: `exists in the repository: ${named(repositoryPaths)}`,
        repositoryPaths,
      });
    }
  }
  return [...found.values()];
}

/**
 * The paths of `pathMentionsIn`, without the reasons.
 *
 * @example
 * pathsMentionedIn('The job in `.github/workflows/ci.yml` fails, see src/invoice.ts.');
 * // ['.github/workflows/ci.yml', 'src/invoice.ts']
 */
export function pathsMentionedIn(text: string, files?: readonly string[]): string[] {
  return pathMentionsIn(text, files).map((mention) => mention.path);
}

interface Token {
  text: string;
  /** Written as inline code, so the author meant a literal name. */
  quoted: boolean;
}

function* candidateTokens(text: string): Generator<Token> {
  const inlineCode = /`([^`\s]+)`/g;
  for (const match of text.matchAll(inlineCode)) {
    if (match[1]) yield { text: match[1], quoted: true };
  }
  for (const word of text.replace(inlineCode, ' ').split(/[\s"'()[\]<>{},;|]+/)) {
    if (word) yield { text: word, quoted: false };
  }
}

function normalisePath(token: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(token) || token.startsWith('mailto:')) return undefined;
  const trimmed = token
    .replace(/[.,:;!?]+$/, '')
    .replace(/^\.\//, '')
    .replace(/^\/+/, '')
    .replace(/:\d+(?::\d+)?$/, '');
  return /[\p{L}\p{N}]/u.test(trimmed) ? trimmed : undefined;
}

/** Why a token is a path by its shape alone, or undefined when it is not. */
function pathShape(raw: string, candidate: string): string | undefined {
  const pathCharacters = /^[\w.@+~-]+(?:\/[\w.@+~-]+)*\/?$/;
  if (!pathCharacters.test(candidate)) return undefined;
  if (/^\.\.?\//.test(raw)) return `looks like a path: it starts with ${raw.startsWith('..') ? '../' : './'}`;
  if (candidate.includes('/')) return 'looks like a path: it contains a /';
  const dot = /^\.([\w-]+)(?:\.([\w-]+))*$/.exec(candidate);
  if (dot) {
    const name = dot[1] ?? '';
    const extension = candidate.slice(candidate.lastIndexOf('.') + 1).toLowerCase();
    if (KNOWN_DOT_NAMES.has(name.toLowerCase()))
      return `looks like a path: .${name} is a well-known file name`;
    return candidate.lastIndexOf('.') > 0 && KNOWN_EXTENSIONS.has(extension)
      ? `looks like a path: it ends in .${extension}`
      : undefined;
  }
  const stem = candidate.split('.')[0] ?? '';
  if (KNOWN_FILE_NAMES.has(stem)) return `looks like a path: ${stem} is a well-known file name`;
  const extension = /\.([A-Za-z][A-Za-z0-9]*)$/.exec(candidate)?.[1]?.toLowerCase();
  if (extension && stem !== '' && KNOWN_EXTENSIONS.has(extension))
    return `looks like a path: it ends in .${extension}`;
  return undefined;
}

/** The repository's files a token names: itself, a trailing part of it, or a directory on its way. */
function inRepository(candidate: string, files: readonly string[]): string[] {
  const token = candidate.replace(/\/+$/, '');
  if (token === '') return [];
  return files.filter(
    (file) =>
      file === token ||
      file.endsWith(`/${token}`) ||
      file.startsWith(`${token}/`) ||
      file.includes(`/${token}/`),
  );
}

function named(paths: readonly string[]): string {
  const shown = paths.slice(0, NAMED_REPOSITORY_PATHS).join(', ');
  const more = paths.length - NAMED_REPOSITORY_PATHS;
  return more > 0 ? `${shown} and ${more} more` : shown;
}

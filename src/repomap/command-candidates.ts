import path from 'node:path';
import type { CommandSource, RepositoryCommand, SkippedStep } from '../domain/context.js';
import { comparePaths } from './repository-files.js';

/**
 * What every command finder reads: the repository's root, its files, and the directories they sit in.
 * Finders only read files (through `readRepositoryText`), never run them.
 */
export interface Repository {
  root: string;
  files: readonly string[];
  has: ReadonlySet<string>;
  directories: ReadonlySet<string>;
}

/** A command as a finder saw it, before equivalent ones from other sources are merged. */
export interface Candidate {
  command: RepositoryCommand & { source: CommandSource; confidence: number };
  /** Where it came from, for a person: `package.json scripts.test`, `CI workflow .github/workflows/ci.yml line 23`. */
  via: string;
}

/** What a finder returns: the commands it found and the steps it saw but will not run. */
export interface Findings {
  candidates: Candidate[];
  skipped: SkippedStep[];
}

export function repositoryOf(root: string, files: readonly string[]): Repository {
  const directories = new Set<string>();
  for (const file of files) {
    for (let slash = file.indexOf('/'); slash > 0; slash = file.indexOf('/', slash + 1)) {
      directories.add(file.slice(0, slash));
    }
  }
  return { root, files, has: new Set(files), directories };
}

export function inScope(scope: string, name: string): string {
  return scope ? `${scope}/${name}` : name;
}

/** The scope a file sits in: `packages/a/package.json` → `packages/a`. */
export function scopeOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash < 0 ? '' : file.slice(0, slash);
}

/** `./web/` → `web`, `.` → `` (the root); undefined when it leaves the repository. */
export function normalizeScope(directory: string): string | undefined {
  const normalized = path.posix.normalize(directory.replaceAll('\\', '/')).replace(/\/+$/, '');
  if (normalized === '.' || normalized === '') return '';
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../')) return undefined;
  return normalized;
}

export function firstLevelDirectories(repository: Repository): string[] {
  return [...repository.directories].filter((directory) => !directory.includes('/')).sort(comparePaths);
}

export function candidate(
  fields: Omit<RepositoryCommand, 'needsNetwork' | 'source' | 'confidence' | 'cwd'> & {
    source: CommandSource;
    confidence: number;
    cwd?: string | undefined;
    needsNetwork?: boolean;
  },
  via: string,
): Candidate {
  const { cwd, needsNetwork, ...rest } = fields;
  return { command: { ...rest, ...(cwd ? { cwd } : {}), needsNetwork: needsNetwork ?? false }, via };
}

/** The 1-based line of the first match of `pattern` in `text` at or after `from`, if any. */
export function lineOf(text: string, pattern: RegExp, from = 0): number | undefined {
  const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
  const global = new RegExp(pattern.source, flags);
  global.lastIndex = from;
  const match = global.exec(text);
  return match ? lineAt(text, match.index) : undefined;
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (
    let index = text.indexOf('\n');
    index !== -1 && index < offset;
    index = text.indexOf('\n', index + 1)
  ) {
    line += 1;
  }
  return line;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function where(file: string, line: number | undefined): string {
  return line ? `${file} line ${line}` : file;
}

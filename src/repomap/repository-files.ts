import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { InvalidInputError } from '../domain/errors.js';

const execFileAsync = promisify(execFile);

/** Directories a walk never enters: VCS metadata, dependencies, build output, Gantry's own state. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([
  '.git',
  'node_modules',
  '.gantry',
  '__pycache__',
  'target',
  'build',
  'dist',
  '.venv',
]);

/** The files of a repository, relative to its root, as Gantry sees them. */
export interface RepositoryFiles {
  /** Real, absolute path of the mapped directory. */
  root: string;
  /** Sorted, POSIX separators, relative to `root`. */
  files: string[];
  /** `git` when the list came from `git ls-files`, `walk` otherwise. */
  source: 'git' | 'walk';
  /** The commit checked out, when `root` is a git work tree with a HEAD. */
  head?: string;
}

const HINT = "Check the request's repository.path: it must name a local directory holding the repository.";

/**
 * Lists the files of the repository at `dir`: the tracked files when it is a git work tree,
 * otherwise every file outside {@link SKIPPED_DIRECTORIES}.
 *
 * @throws InvalidInputError when `dir` does not exist, cannot be read or is not a directory.
 * @example
 * const { files, source } = await listRepositoryFiles('./examples/billing-service');
 */
export async function listRepositoryFiles(dir: string): Promise<RepositoryFiles> {
  const root = await resolveRepositoryRoot(dir);
  const tracked = await listTrackedFiles(root);
  if (tracked) {
    const head = await runGit(root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
    return { root, files: tracked, source: 'git', ...(head ? { head: head.trim() } : {}) };
  }
  const files = await walk(root, '');
  return { root, files: files.sort(comparePaths), source: 'walk' };
}

async function resolveRepositoryRoot(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new InvalidInputError(`Repository path ${absolute} ${what}.`, {
      input: dir,
      hint: HINT,
      cause: error,
    });
  }
  if (!info.isDirectory()) {
    throw new InvalidInputError(`Repository path ${absolute} is not a directory.`, {
      input: dir,
      hint: HINT,
    });
  }
  return realpath(absolute);
}

/** Code-unit order, so the same tree maps to the same list on every machine and locale. */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

async function listTrackedFiles(root: string): Promise<string[] | undefined> {
  const inside = await runGit(root, ['rev-parse', '--is-inside-work-tree']);
  if (inside?.trim() !== 'true') return undefined;
  const staged = await runGit(root, ['ls-files', '-z', '--stage']);
  const deleted = await runGit(root, ['ls-files', '-z', '--deleted']);
  if (staged === undefined) return undefined;
  const gone = new Set((deleted ?? '').split('\0').filter(Boolean));
  const files = new Set<string>();
  for (const entry of staged.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const mode = entry.slice(0, entry.indexOf(' '));
    const file = entry.slice(tab + 1);
    // 160000 is a submodule: a directory of another repository, not a file of this one.
    if (mode === '160000' || gone.has(file)) continue;
    files.add(file);
  }
  return [...files].sort(comparePaths);
}

async function runGit(cwd: string, args: string[]): Promise<string | undefined> {
  // A caller running inside a git hook exports GIT_DIR and friends, which would point git elsewhere.
  const env = { ...process.env };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_PREFIX']) delete env[name];
  try {
    const { stdout } = await execFileAsync(
      'git',
      ['-c', 'core.fsmonitor=false', '-c', 'core.quotePath=false', ...args],
      { cwd, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
    );
    return stdout;
  } catch {
    return undefined;
  }
}

async function walk(root: string, relative: string): Promise<string[]> {
  const entries = await readdir(path.join(root, relative), { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(entry.name)) found.push(...(await walk(root, child)));
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      // Symbolic links are listed, never followed, as git records them.
      found.push(child);
    }
  }
  return found;
}

/**
 * Resolves a repository file to its real path, refusing anything that is not a regular file
 * inside the repository: a symbolic link to `~/.aws/credentials` or a FIFO named `package.json`
 * is repository content too, and must neither leak host files nor hang the map.
 */
async function resolveInside(
  root: string,
  relative: string,
): Promise<{ real: string; size: number } | undefined> {
  try {
    const real = await realpath(path.join(root, relative));
    if (!real.startsWith(root + path.sep)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { real, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a repository file as UTF-8 text, or `undefined` when it is missing, outside the
 * repository, not a regular file or larger than `maxBytes`.
 *
 * @example
 * const manifest = await readRepositoryText(root, 'package.json');
 */
export async function readRepositoryText(
  root: string,
  relative: string,
  maxBytes = 2 * 1024 * 1024,
): Promise<string | undefined> {
  const file = await resolveInside(root, relative);
  if (!file || file.size > maxBytes) return undefined;
  const handle = await open(file.real, 'r');
  try {
    return (await handle.readFile()).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Hashes a repository file's bytes (sha256, hex) and decodes its first `headBytes` bytes,
 * or `undefined` when it is not a regular file inside the repository.
 *
 * @example
 * const digest = await digestRepositoryFile(root, 'AGENTS.md', 8192);
 */
export async function digestRepositoryFile(
  root: string,
  relative: string,
  headBytes: number,
): Promise<{ sha256: string; head: string } | undefined> {
  const file = await resolveInside(root, relative);
  if (!file) return undefined;
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of createReadStream(file.real)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    if (kept < headBytes) {
      const slice = bytes.subarray(0, headBytes - kept);
      chunks.push(slice);
      kept += slice.length;
    }
  }
  return { sha256: hash.digest('hex'), head: new TextDecoder('utf-8').decode(Buffer.concat(chunks)) };
}

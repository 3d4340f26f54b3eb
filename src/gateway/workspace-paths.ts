import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, posix, relative, resolve, sep } from 'node:path';

/** Why a path was refused; the gateway turns it into a denied tool call. */
export class PathRefusedError extends Error {
  override name = 'PathRefusedError';
}

/**
 * Resolves a path the agent wrote against the workspace, refusing absolute paths, traversal,
 * symlinks that lead outside, and paths that start with `-` (a program would read them as options).
 * Returns the workspace-relative POSIX path and the host path.
 *
 * @example
 * await confineToWorkspace('/ws', 'src/invoice.js'); // { relative: 'src/invoice.js', host: '/ws/src/invoice.js' }
 * await confineToWorkspace('/ws', '../etc/passwd');  // throws PathRefusedError
 * await confineToWorkspace('/ws', '--help');          // throws PathRefusedError
 */
export async function confineToWorkspace(
  workspace: string,
  path: string,
): Promise<{ relative: string; host: string }> {
  if (path.includes('\0')) throw new PathRefusedError('the path contains a NUL byte');
  // Tools pass paths to programs as operands; one starting with - would be read as an option.
  if (path.startsWith('-'))
    throw new PathRefusedError(`paths may not start with "-": ${path}; write ./${path} for a file named so`);
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path))
    throw new PathRefusedError(`absolute paths are not allowed: ${path}`);
  const normalized = posix.normalize(path.replaceAll('\\', '/'));
  if (normalized === '..' || normalized.startsWith('../')) {
    throw new PathRefusedError(`the path leaves the workspace: ${path}`);
  }
  const root = workspaceRoot(workspace);
  const host = resolve(root, normalized);
  if (!isInside(root, host)) throw new PathRefusedError(`the path leaves the workspace: ${path}`);
  // A symlink anywhere along the path may point outside: resolve the deepest part that exists.
  const real = realpathOfExistingPrefix(host, path);
  if (!isInside(root, real))
    throw new PathRefusedError(`the path resolves outside the workspace through a symlink: ${path}`);
  const rel = relative(root, host).split(sep).join('/');
  // Checked on the resolved path too: a symlink in the repository could otherwise lead into .git.
  if (isGitPath(rel) || isGitPath(relative(root, real).split(sep).join('/')))
    throw new PathRefusedError(`the repository's .git directory is off limits: ${path}`);
  return { relative: rel === '' ? '.' : rel, host };
}

/** A workspace's own real path does not change while a run uses it; resolving it once saves a syscall per call. */
const roots = new Map<string, string>();
function workspaceRoot(workspace: string): string {
  let root = roots.get(workspace);
  if (!root) {
    root = realpathSync(workspace);
    if (roots.size > 256) roots.clear();
    roots.set(workspace, root);
  }
  return root;
}

function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function isGitPath(rel: string): boolean {
  return rel === '.git' || rel.startsWith('.git/');
}

/** Symlinks followed before giving up, as the kernel's own limit does (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/**
 * Synchronous on purpose: a few microseconds of metadata reads on the gateway's hot path, where waiting
 * behind the thread pool made the tail latency of every decision.
 */
function realpathOfExistingPrefix(path: string, asWritten: string, hops = 0): string {
  let current = path;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(current);
      return rest.length ? resolve(real, ...rest.reverse()) : real;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new PathRefusedError(`the path runs into a symlink loop: ${asWritten}`);
      // ENOTDIR: a later part sits under a regular file, so nothing there exists yet either.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      // A dangling symlink: a write through it would create its target, so its target is what counts.
      const link = lstatOrUndefined(current);
      if (link?.isSymbolicLink()) {
        if (hops >= MAX_SYMLINK_HOPS)
          throw new PathRefusedError(`the path runs into a symlink loop: ${asWritten}`);
        const target = resolve(dirname(current), readlinkSync(current));
        return realpathOfExistingPrefix(resolve(target, ...rest.reverse()), asWritten, hops + 1);
      }
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(current.slice(parent.length + 1));
      current = parent;
    }
  }
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

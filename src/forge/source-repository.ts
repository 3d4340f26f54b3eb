import { constants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidInputError } from '../domain/errors.js';
import { isWithin } from './repository-path-policy.js';

/**
 * A git repository found at an import path, read only as plain files: Gantry never runs git in it,
 * since its configuration (core.fsmonitor, hooks, include.path, filters…) would run its commands.
 */
export interface SourceRepository {
  /** The work tree being imported (a real path). */
  workTree: string;
  /** The work tree's own git directory: it holds HEAD. */
  gitDir: string;
  /** Where objects, refs and packed-refs live: `gitDir`, or the main repository's for a linked worktree. */
  commonDir: string;
}

/** A source repository layout, ref or object file Gantry will not read. */
export class SourceRepositoryError extends InvalidInputError {
  override name = 'SourceRepositoryError';
}

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const LOOSE_OBJECT_DIR = /^[0-9a-f]{2}$/;
const LOOSE_OBJECT_FILE = /^(?:[0-9a-f]{38}|[0-9a-f]{62})$/;
const PACK_FILE = /^pack-(?:[0-9a-f]{40}|[0-9a-f]{64})\.pack$/;
/** Characters git forbids in a ref name besides control characters, and `@{`; see git-check-ref-format(1). */
const REF_FORBIDDEN = /[ ~^:?*[\\]|@\{|\.\./;
const MAX_SMALL_FILE_BYTES = 64 * 1024;
const MAX_PACKED_REFS_BYTES = 256 * 1024 * 1024;
const MAX_SYMREF_DEPTH = 5;
const COPY_CONCURRENCY = 16;

/**
 * The git repository whose work tree is `workTree`, or undefined when it has no `.git`. A `.git`
 * symlink or `gitdir:` file is followed only inside the work tree, or to a linked worktree of another
 * repository (`<repo>/worktrees/<name>` whose `gitdir` points back here); the main repository of a
 * linked worktree must pass `allowCommonDir` (the caller's path policy).
 *
 * @example
 * const source = await locateSourceRepository('/srv/repos/billing', (dir) => policy.check(dir));
 */
export async function locateSourceRepository(
  workTree: string,
  allowCommonDir: (dir: string) => Promise<unknown>,
): Promise<SourceRepository | undefined> {
  const dotGit = path.join(workTree, '.git');
  const stat = await fs.lstat(dotGit).catch(() => undefined);
  if (!stat) return undefined;
  let gitDir: string;
  if (stat.isDirectory()) {
    gitDir = dotGit;
  } else if (stat.isSymbolicLink() || stat.isFile()) {
    const target = stat.isFile() ? await gitdirFileTarget(workTree) : dotGit;
    gitDir = await fs.realpath(target).catch((cause) => {
      throw refusal(`${dotGit} points at ${target}, which does not exist`, workTree, { cause });
    });
    if (!isWithin(gitDir, workTree) && !isLinkedWorktreeDir(gitDir)) {
      throw refusal(
        `${dotGit} points at ${gitDir}, outside the repository and not a linked worktree (<repo>/worktrees/<name>); Gantry does not follow it`,
        workTree,
      );
    }
  } else {
    throw refusal(`${dotGit} is neither a directory nor a gitdir file`, workTree);
  }
  const commonDir = await commonDirOf(workTree, gitDir);
  if (!isWithin(commonDir, workTree)) await allowCommonDir(commonDir);
  return { workTree, gitDir, commonDir };
}

/**
 * The commit the source's HEAD names, from HEAD, loose refs and packed-refs read as files; undefined
 * when HEAD names a branch that has no commit yet.
 *
 * @example
 * const commit = await resolveSourceHead(source); // '3f2a…'
 */
export async function resolveSourceHead(source: SourceRepository): Promise<string | undefined> {
  await refuseShallow(source);
  let content = await readPlainFile(source.gitDir, 'HEAD', MAX_SMALL_FILE_BYTES);
  if (content === undefined) throw refusal(`${source.gitDir} has no HEAD`, source.workTree);
  for (let depth = 0; depth < MAX_SYMREF_DEPTH; depth++) {
    const value = content.trim();
    if (OBJECT_ID.test(value)) return value;
    const ref = /^ref: (.+)$/.exec(value)?.[1];
    if (!ref || !isValidRefName(ref)) {
      throw refusal(
        `a ref of ${source.gitDir} holds neither a commit id nor a valid ref name`,
        source.workTree,
      );
    }
    if (ref === 'refs/heads/.invalid') {
      throw refusal(
        `${source.gitDir} keeps its refs in a reftable, which Gantry cannot read`,
        source.workTree,
      );
    }
    const loose = await readPlainFile(source.commonDir, ref, MAX_SMALL_FILE_BYTES);
    if (loose === undefined) return packedRef(source, ref);
    content = loose;
  }
  throw refusal(
    `the symbolic refs of ${source.gitDir} nest more than ${MAX_SYMREF_DEPTH} deep`,
    source.workTree,
  );
}

/**
 * Copies the source's loose objects and `.pack` files into `objectsDir` (pack indexes are rebuilt by the
 * caller). Nothing else under objects/ is copied, `info/alternates` included; a symlink is refused.
 * Returns whether the source borrows objects from elsewhere, which explains missing objects.
 *
 * @example
 * const { borrowsObjects } = await copySourceObjects(source, '/forge/.quarantine-x/objects');
 */
export async function copySourceObjects(
  source: SourceRepository,
  objectsDir: string,
): Promise<{ borrowsObjects: boolean }> {
  const from = path.join(source.commonDir, 'objects');
  await requireRealDirectory(from, source.workTree);
  const copies: { from: string; to: string }[] = [];
  for (const entry of await fs.readdir(from, { withFileTypes: true })) {
    if (LOOSE_OBJECT_DIR.test(entry.name) || entry.name === 'pack') {
      const dir = path.join(from, entry.name);
      await requireRealDirectory(dir, source.workTree);
      const wanted = entry.name === 'pack' ? PACK_FILE : LOOSE_OBJECT_FILE;
      for (const file of await fs.readdir(dir, { withFileTypes: true })) {
        if (file.isSymbolicLink()) {
          throw refusal(
            `${path.join(dir, file.name)} is a symbolic link, not an object file`,
            source.workTree,
          );
        }
        if (file.isFile() && wanted.test(file.name)) {
          copies.push({ from: path.join(dir, file.name), to: path.join(objectsDir, entry.name, file.name) });
        }
      }
    }
  }
  for (let start = 0; start < copies.length; start += COPY_CONCURRENCY) {
    await Promise.all(
      copies.slice(start, start + COPY_CONCURRENCY).map((copy) => copyPlainFile(copy, source.workTree)),
    );
  }
  const info = path.join(from, 'info');
  const borrowed = await Promise.all(
    ['alternates', 'http-alternates'].map((name) =>
      fs.lstat(path.join(info, name)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const promisor = await fs
    .readdir(path.join(from, 'pack'))
    .then((names) => names.some((name) => name.endsWith('.promisor')))
    .catch(() => false);
  return { borrowsObjects: borrowed.includes(true) || promisor };
}

/** Git's rules for a full ref name under refs/ (git-check-ref-format(1)), without its rare exceptions. */
export function isValidRefName(ref: string): boolean {
  if (!ref.startsWith('refs/') || REF_FORBIDDEN.test(ref) || ref.endsWith('.')) return false;
  if ([...ref].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) return false;
  return ref.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

async function gitdirFileTarget(workTree: string): Promise<string> {
  const content = await readPlainFile(workTree, '.git', MAX_SMALL_FILE_BYTES);
  const target = /^gitdir: (.+?)\r?\n?$/.exec(content ?? '')?.[1];
  if (!target)
    throw refusal(`${path.join(workTree, '.git')} is a file but not a "gitdir: <path>" file`, workTree);
  return path.resolve(workTree, target);
}

/** True for `<repo>/worktrees/<name>`, the git directory of a linked worktree. */
function isLinkedWorktreeDir(gitDir: string): boolean {
  return path.basename(path.dirname(gitDir)) === 'worktrees';
}

async function commonDirOf(workTree: string, gitDir: string): Promise<string> {
  const pointer = await readPlainFile(gitDir, 'commondir', MAX_SMALL_FILE_BYTES);
  if (pointer === undefined) {
    if (isWithin(gitDir, workTree)) return gitDir;
    throw refusal(
      `${gitDir} is outside the repository and has no commondir, so it is not a linked worktree`,
      workTree,
    );
  }
  const commonDir = await fs.realpath(path.resolve(gitDir, pointer.trim())).catch(() => undefined);
  // The normal layout: <common>/worktrees/<name>, whose gitdir file points back at this work tree's .git.
  const back = await readPlainFile(gitDir, 'gitdir', MAX_SMALL_FILE_BYTES);
  const backTo = back && (await fs.realpath(path.resolve(gitDir, back.trim())).catch(() => undefined));
  const normal =
    commonDir !== undefined &&
    commonDir === path.dirname(path.dirname(gitDir)) &&
    backTo === path.join(workTree, '.git');
  if (!normal || !commonDir) {
    throw refusal(
      `${gitDir} is not a normal linked worktree (<repo>/worktrees/<name> with commondir "../.." and gitdir pointing back at ${path.join(workTree, '.git')})`,
      workTree,
    );
  }
  return commonDir;
}

async function refuseShallow(source: SourceRepository): Promise<void> {
  const shallow = await readPlainFile(source.commonDir, 'shallow', MAX_PACKED_REFS_BYTES);
  if (shallow?.trim()) {
    throw new SourceRepositoryError(`${source.workTree} is a shallow clone, so its history is incomplete`, {
      input: source.workTree,
      hint: 'run `git fetch --unshallow` in it, or point repository.path at a full clone',
    });
  }
}

async function packedRef(source: SourceRepository, ref: string): Promise<string | undefined> {
  const packed = await readPlainFile(source.commonDir, 'packed-refs', MAX_PACKED_REFS_BYTES);
  for (const line of packed?.split('\n') ?? []) {
    if (line.startsWith('#') || line.startsWith('^')) continue;
    const [id = '', name] = line.trim().split(' ');
    if (name !== ref) continue;
    if (!OBJECT_ID.test(id))
      throw refusal(`packed-refs of ${source.commonDir} holds an invalid id for ${ref}`, source.workTree);
    return id;
  }
  return undefined;
}

/**
 * A regular file's text below `base`, or undefined when it does not exist. Neither the file nor any
 * directory on the way to it may be a symlink leading out of `base`.
 */
async function readPlainFile(base: string, relative: string, maxBytes: number): Promise<string | undefined> {
  const file = path.join(base, relative);
  const dir = await fs.realpath(path.dirname(file)).catch(() => undefined);
  if (dir === undefined) return undefined;
  if (!isWithin(dir, await fs.realpath(base)))
    throw refusal(`${path.dirname(file)} leads outside ${base}`, base);
  const handle = await fs
    .open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      if (error.code === 'ELOOP')
        throw refusal(`${file} is a symbolic link; Gantry reads only plain files`, base);
      throw error;
    });
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw refusal(`${file} is not a regular file`, base);
    if (stat.size > maxBytes) throw refusal(`${file} is larger than ${maxBytes} bytes`, base);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

async function requireRealDirectory(dir: string, workTree: string): Promise<void> {
  const stat = await fs.lstat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw refusal(
      `${dir} is ${stat?.isSymbolicLink() ? 'a symbolic link' : 'missing'}, not a directory of objects`,
      workTree,
    );
  }
}

async function copyPlainFile(copy: { from: string; to: string }, workTree: string): Promise<void> {
  const handle = await fs
    .open(copy.from, constants.O_RDONLY | constants.O_NOFOLLOW)
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ELOOP')
        throw refusal(`${copy.from} is a symbolic link, not an object file`, workTree);
      throw error;
    });
  const stat = await handle.stat().catch(async (error) => {
    await handle.close();
    throw error;
  });
  if (!stat.isFile()) {
    await handle.close();
    throw refusal(`${copy.from} is not a regular file`, workTree);
  }
  await fs.mkdir(path.dirname(copy.to), { recursive: true });
  await pipeline(handle.createReadStream(), createWriteStream(copy.to, { flags: 'wx', mode: 0o444 }));
}

function refusal(reason: string, workTree: string, options: { cause?: unknown } = {}): SourceRepositoryError {
  return new SourceRepositoryError(`cannot import the git repository at ${workTree}: ${reason}`, {
    input: workTree,
    hint: 'point repository.path at an ordinary clone (git clone <repo>) of the repository and run the request again',
    cause: options.cause,
  });
}

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError } from '../domain/errors.js';
import { LocalForge } from './local-forge.js';
import { RepositoryPathPolicy, RepositoryPathRefusedError } from './repository-path-policy.js';
import { SourceRepositoryError } from './source-repository.js';

const run = promisify(execFile);

/** The tests' own git, isolated from the machine's configuration like the forge's. */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test Person',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test Person',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  });
  return stdout.trim();
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the operation to fail, but it succeeded');
  return outcome;
}

let scratch: string;
let markers: string;
let forge: LocalForge;

beforeEach(async () => {
  scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-forge-import-')));
  markers = path.join(scratch, 'markers');
  await fs.mkdir(markers);
  forge = new LocalForge({ root: path.join(scratch, 'forge') });
});

afterEach(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
}

/** A git work tree with two commits on `trunk`; returns its HEAD. */
async function sourceRepository(dir: string): Promise<string> {
  await writeFiles(dir, { 'README.md': 'one\n', '.gitattributes': '* filter=x diff=x\n' });
  await git(dir, 'init', '-q', '--initial-branch=trunk');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'first');
  await fs.writeFile(path.join(dir, 'README.md'), 'two\n');
  await git(dir, 'commit', '-q', '-am', 'second');
  return git(dir, 'rev-parse', 'HEAD');
}

/** A command that leaves a file named `name` in the markers directory when anything runs it. */
function mark(name: string): string {
  return `touch ${path.join(markers, name)}`;
}

const HOOKS = ['post-checkout', 'reference-transaction', 'pre-auto-gc', 'post-index-change', 'pre-commit'];

/** Plants every configuration a hostile repository can use to run a command in a host-side git. */
async function plantHostileConfig(gitDir: string): Promise<void> {
  const hooks = path.join(gitDir, 'hostile-hooks');
  for (const dir of [hooks, path.join(gitDir, 'hooks')]) {
    await fs.mkdir(dir, { recursive: true });
    for (const hook of HOOKS) {
      await fs.writeFile(path.join(dir, hook), `#!/bin/sh\n${mark(`hook-${hook}`)}\n`, { mode: 0o755 });
    }
  }
  const included = path.join(gitDir, 'included.config');
  await fs.writeFile(included, `[core]\n\tfsmonitor = ${mark('included-fsmonitor')}\n`);
  await fs.appendFile(
    path.join(gitDir, 'config'),
    [
      '[core]',
      `\thooksPath = ${hooks}`,
      `\talternateRefsCommand = ${mark('alternate-refs')}`,
      `\tsshCommand = ${mark('ssh')}`,
      `\tpager = ${mark('pager')}`,
      '[include]',
      `\tpath = ${included}`,
      '[uploadpack]',
      `\tpackObjectsHook = ${mark('pack-objects-hook')}`,
      '[filter "x"]',
      `\tsmudge = ${mark('smudge')}`,
      `\tclean = ${mark('clean')}`,
      '\trequired = true',
      '[diff "x"]',
      `\ttextconv = ${mark('textconv')}`,
      '[diff]',
      `\texternal = ${mark('diff-external')}`,
      '',
    ].join('\n'),
  );
}

describe('LocalForge import of a hostile git repository', () => {
  it('imports the HEAD history without running any command the repository configures', async () => {
    // Prepare
    const source = path.join(scratch, 'hostile');
    const head = await sourceRepository(source);
    await plantHostileConfig(path.join(source, '.git'));
    // The planted configuration is live: git run in the source itself runs it.
    await git(source, 'status', '--porcelain');
    expect(await fs.readdir(markers)).toContain('included-fsmonitor');
    await fs.rm(markers, { recursive: true });
    await fs.mkdir(markers);

    // Act
    const repo = await forge.ensureRepository({ name: 'hostile', path: source, defaultBranch: 'main' });

    // Assess
    expect(repo).toEqual({ name: 'hostile', defaultBranch: 'main', head });
    expect(await fs.readdir(markers)).toEqual([]);
    const gitDir = path.join(scratch, 'forge', 'hostile.git');
    expect(await git(gitDir, 'rev-list', '--count', 'main')).toBe('2');
    expect(await git(gitDir, 'config', '--get', 'gantry.importedFrom')).toBe(source);
    expect(
      await git(gitDir, 'config', '--get-regexp', '^(filter|diff|include|uploadpack)\\.').catch(() => ''),
    ).toBe('');
    expect(await git(gitDir, 'config', '--get', 'core.hooksPath')).toBe('hooks');
    expect((await fs.readdir(path.join(scratch, 'forge'))).sort()).toEqual(['hostile.git']);
  });

  it('imports only the history of HEAD, reading packed refs and a nested branch name as files', async () => {
    // Prepare
    const source = path.join(scratch, 'packed');
    await sourceRepository(source);
    await git(source, 'checkout', '-q', '-b', 'feature/deep/work');
    await fs.writeFile(path.join(source, 'feature.txt'), 'feature\n');
    await git(source, 'add', '-A');
    await git(source, 'commit', '-q', '-m', 'feature');
    const head = await git(source, 'rev-parse', 'HEAD');
    await git(source, 'checkout', '-q', 'trunk');
    await fs.writeFile(path.join(source, 'private.txt'), 'only on trunk\n');
    await git(source, 'add', '-A');
    await git(source, 'commit', '-q', '-m', 'private');
    await git(source, 'checkout', '-q', 'feature/deep/work');
    await git(source, 'gc', '-q');
    await expect(
      fs.stat(path.join(source, '.git', 'refs', 'heads', 'feature', 'deep', 'work')),
    ).rejects.toThrow();
    expect(await fs.readFile(path.join(source, '.git', 'packed-refs'), 'utf8')).toContain(
      'feature/deep/work',
    );

    // Act
    const repo = await forge.ensureRepository({ name: 'packed', path: source, defaultBranch: 'main' });

    // Assess
    expect(repo.head).toBe(head);
    const gitDir = path.join(scratch, 'forge', 'packed.git');
    expect(await git(gitDir, 'for-each-ref', '--format=%(refname)')).toBe('refs/heads/main');
    const objects = await git(gitDir, 'cat-file', '--batch-all-objects', '--batch');
    expect(objects).not.toContain('only on trunk');
  });

  it('imports a SHA-256 repository into a SHA-256 forge repository', async () => {
    // Prepare
    const source = path.join(scratch, 'sha256');
    await writeFiles(source, { 'a.txt': 'a\n' });
    await git(source, 'init', '-q', '--object-format=sha256');
    await git(source, 'add', '-A');
    await git(source, 'commit', '-q', '-m', 'first');
    const head = await git(source, 'rev-parse', 'HEAD');

    // Act
    const repo = await forge.ensureRepository({ name: 'sha256', path: source, defaultBranch: 'main' });

    // Assess
    expect(head).toMatch(/^[0-9a-f]{64}$/);
    expect(repo.head).toBe(head);
    const gitDir = path.join(scratch, 'forge', 'sha256.git');
    expect(await git(gitDir, 'rev-parse', '--show-object-format')).toBe('sha256');
  });

  it('refuses a repository whose objects live behind objects/info/alternates, and imports it once they are local', async () => {
    // Prepare
    const origin = path.join(scratch, 'origin');
    await sourceRepository(origin);
    const borrowed = path.join(scratch, 'borrowed');
    await git(scratch, 'clone', '-q', '--shared', origin, borrowed);

    // Act
    const refused = await failureOf(
      forge.ensureRepository({ name: 'borrowed', path: borrowed, defaultBranch: 'main' }),
    );
    await git(borrowed, 'repack', '-q', '-a', '-d');
    const imported = await forge.ensureRepository({
      name: 'borrowed',
      path: borrowed,
      defaultBranch: 'main',
    });

    // Assess
    expect(refused).toBeInstanceOf(ForgeError);
    expect(refused.message).toMatch(/history of its HEAD [0-9a-f]{40} is incomplete/);
    expect((refused as ForgeError).hint).toMatch(/objects\/info\/alternates/);
    expect(imported.head).toBe(await git(origin, 'rev-parse', 'HEAD'));
    expect((await fs.readdir(path.join(scratch, 'forge'))).filter((name) => name.startsWith('.'))).toEqual(
      [],
    );
  });

  it('imports a linked worktree and a .git file that stays inside the repository', async () => {
    // Prepare
    const main = path.join(scratch, 'main');
    await sourceRepository(main);
    const worktree = path.join(scratch, 'wt');
    await git(main, 'worktree', 'add', '-q', '-b', 'side', worktree);
    await fs.writeFile(path.join(worktree, 'side.txt'), 'side\n');
    await git(worktree, 'add', '-A');
    await git(worktree, 'commit', '-q', '-m', 'side');
    const inside = path.join(scratch, 'inside');
    const insideHead = await sourceRepository(inside);
    await fs.rename(path.join(inside, '.git'), path.join(inside, '.repo'));
    await fs.writeFile(path.join(inside, '.git'), 'gitdir: .repo\n');

    // Act
    const fromWorktree = await forge.ensureRepository({ name: 'wt', path: worktree, defaultBranch: 'main' });
    const fromInside = await forge.ensureRepository({ name: 'inside', path: inside, defaultBranch: 'main' });

    // Assess
    expect(fromWorktree.head).toBe(await git(worktree, 'rev-parse', 'HEAD'));
    expect(fromInside.head).toBe(insideHead);
  });

  it('refuses a .git file or symlink that points elsewhere on the host, and a symlinked object', async () => {
    // Prepare
    const elsewhere = path.join(scratch, 'elsewhere');
    await sourceRepository(elsewhere);
    const pointing = path.join(scratch, 'pointing');
    await writeFiles(pointing, { 'a.txt': 'a\n', '.git': `gitdir: ${path.join(elsewhere, '.git')}\n` });
    const linked = path.join(scratch, 'linked');
    await writeFiles(linked, { 'a.txt': 'a\n' });
    await fs.symlink(path.join(elsewhere, '.git'), path.join(linked, '.git'));
    const stolen = path.join(scratch, 'stolen-worktree');
    await git(elsewhere, 'worktree', 'add', '-q', '-b', 'other', path.join(scratch, 'real-worktree'));
    await writeFiles(stolen, {
      '.git': await fs.readFile(path.join(scratch, 'real-worktree', '.git'), 'utf8'),
    });
    const symlinkedObject = path.join(scratch, 'symlinked-object');
    await sourceRepository(symlinkedObject);
    const objects = path.join(symlinkedObject, '.git', 'objects');
    const [fanout = ''] = (await fs.readdir(objects)).filter((name) => /^[0-9a-f]{2}$/.test(name));
    const [object = ''] = await fs.readdir(path.join(objects, fanout));
    await fs.rm(path.join(objects, fanout, object));
    await fs.symlink('/etc/hostname', path.join(objects, fanout, object));

    // Act
    const errors = await Promise.all(
      [pointing, linked, stolen, symlinkedObject].map((dir) =>
        failureOf(forge.ensureRepository({ name: path.basename(dir), path: dir, defaultBranch: 'main' })),
      ),
    );

    // Assess
    const [fromFile, fromLink, fromStolen, fromObject] = errors;
    for (const error of errors) expect(error).toBeInstanceOf(SourceRepositoryError);
    expect(fromFile?.message).toMatch(/outside the repository and not a linked worktree/);
    expect(fromLink?.message).toMatch(/outside the repository and not a linked worktree/);
    expect(fromStolen?.message).toMatch(/is not a normal linked worktree/);
    expect(fromObject?.message).toMatch(/is a symbolic link, not an object file/);
    expect((errors[0] as SourceRepositoryError).hint).toMatch(/ordinary clone/);
    expect(await fs.readdir(path.join(scratch, 'forge')).catch(() => [])).toEqual([]);
  });
});

describe('LocalForge import of a plain directory', () => {
  it('stores symlinks as links, never their targets, and does not walk a symlinked directory', async () => {
    // Prepare
    await writeFiles(path.join(scratch, 'secret'), { 'token.txt': 'TOP-SECRET-TOKEN\n' });
    const project = path.join(scratch, 'project');
    await writeFiles(project, { 'index.js': 'export {};\n' });
    await fs.symlink(path.join(scratch, 'secret', 'token.txt'), path.join(project, 'leak'));
    await fs.symlink('/etc/shadow', path.join(project, 'shadow'));
    await fs.symlink('../secret', path.join(project, 'shared'));

    // Act
    await forge.ensureRepository({ name: 'project', path: project, defaultBranch: 'main' });

    // Assess
    const gitDir = path.join(scratch, 'forge', 'project.git');
    const tree = await git(gitDir, 'ls-tree', '-r', '--format=%(objectmode) %(path)', 'main');
    expect(tree.split('\n')).toEqual(['100644 index.js', '120000 leak', '120000 shadow', '120000 shared']);
    expect(await git(gitDir, 'cat-file', 'blob', 'main:leak')).toBe(
      path.join(scratch, 'secret', 'token.txt'),
    );
    expect(await git(gitDir, 'cat-file', 'blob', 'main:shared')).toBe('../secret');
    expect(await git(gitDir, 'cat-file', '--batch-all-objects', '--batch')).not.toContain('TOP-SECRET');
  });

  it('runs nothing a .gitattributes, a nested .git/config or an unborn repository configures', async () => {
    // Prepare
    const project = path.join(scratch, 'unborn');
    await writeFiles(project, {
      '.gitattributes': '* filter=x diff=x\n',
      'app.js': 'export {};\n',
      'sub/lib.js': 'export {};\n',
    });
    await git(project, 'init', '-q');
    await plantHostileConfig(path.join(project, '.git'));
    await fs.mkdir(path.join(project, 'sub', '.git'));
    await fs.writeFile(
      path.join(project, 'sub', '.git', 'config'),
      `[core]\n\tfsmonitor = ${mark('nested-fsmonitor')}\n[filter "x"]\n\tclean = ${mark('nested-clean')}\n`,
    );

    // Act
    const repo = await forge.ensureRepository({ name: 'unborn', path: project, defaultBranch: 'main' });

    // Assess
    expect(await fs.readdir(markers)).toEqual([]);
    const gitDir = path.join(scratch, 'forge', 'unborn.git');
    expect(await git(gitDir, 'log', '-1', '--format=%an', repo.head)).toBe('Gantry import');
    expect((await git(gitDir, 'ls-tree', '-r', '--name-only', 'main')).split('\n')).toEqual([
      '.gitattributes',
      'app.js',
      'sub/lib.js',
    ]);
    expect(await git(gitDir, 'cat-file', 'blob', 'main:app.js')).toBe('export {};');
  });

  it('leaves out a Gantry home that sits inside the imported directory under another name', async () => {
    // Prepare
    const project = path.join(scratch, 'with-home');
    await writeFiles(project, { 'app.js': 'export {};\n', 'state/signing.key': 'KEY\n' });
    const homed = new LocalForge({
      root: path.join(project, 'state', 'forge'),
      repositoryPaths: new RepositoryPathPolicy({
        roots: [scratch],
        gantryHome: path.join(project, 'state'),
      }),
    });

    // Act
    await homed.ensureRepository({ name: 'with-home', path: project, defaultBranch: 'main' });

    // Assess
    const gitDir = path.join(project, 'state', 'forge', 'with-home.git');
    expect(await git(gitDir, 'ls-tree', '-r', '--name-only', 'main')).toBe('app.js');
  });
});

describe('LocalForge repository paths', () => {
  it('resolves a symlinked repository.path, records the real path, and judges the real path', async () => {
    // Prepare
    const project = path.join(scratch, 'real-project');
    await writeFiles(project, { 'a.txt': 'a\n' });
    await fs.symlink(project, path.join(scratch, 'link'));
    await fs.symlink('/etc', path.join(scratch, 'etc-link'));

    // Act
    const imported = await forge.ensureRepository({
      name: 'linked',
      path: path.join(scratch, 'link'),
      defaultBranch: 'main',
    });
    const again = await forge.ensureRepository({ name: 'linked', path: project, defaultBranch: 'main' });
    const refused = await failureOf(
      forge.ensureRepository({ name: 'etc', path: path.join(scratch, 'etc-link'), defaultBranch: 'main' }),
    );

    // Assess
    expect(again).toEqual(imported);
    const gitDir = path.join(scratch, 'forge', 'linked.git');
    expect(await git(gitDir, 'config', '--get', 'gantry.importedFrom')).toBe(project);
    expect(refused).toBeInstanceOf(RepositoryPathRefusedError);
    expect((refused as RepositoryPathRefusedError).rule).toBe('system-directory');
    expect(refused.message).toContain('etc-link (really /etc)');
    expect(await fs.readdir(path.join(scratch, 'forge'))).toEqual(['linked.git']);
  });

  it('refuses a name already imported from another directory, saying both paths', async () => {
    // Prepare
    const first = path.join(scratch, 'first');
    const second = path.join(scratch, 'second');
    await writeFiles(first, { 'a.txt': 'first\n' });
    await writeFiles(second, { 'a.txt': 'second\n' });
    const imported = await forge.ensureRepository({ name: 'billing', path: first, defaultBranch: 'main' });

    // Act
    const refused = await failureOf(
      forge.ensureRepository({ name: 'billing', path: second, defaultBranch: 'main' }),
    );
    const byName = await forge.ensureRepository({ name: 'billing', defaultBranch: 'main' });

    // Assess
    expect(refused).toBeInstanceOf(ForgeError);
    expect(refused.message).toBe(
      `repository "billing" in the forge was imported from ${first}, but the request names ${second}`,
    );
    expect((refused as ForgeError).hint).toMatch(/another repository\.name/);
    expect(byName).toEqual(imported);
  });

  it('refuses a path outside the allowed roots or inside the forge, with what to do', async () => {
    // Prepare
    const allowed = path.join(scratch, 'allowed');
    const outside = path.join(scratch, 'outside');
    await writeFiles(allowed, { 'a.txt': 'a\n' });
    await writeFiles(outside, { 'a.txt': 'a\n' });
    const strict = new LocalForge({
      root: path.join(scratch, 'home', 'forge'),
      repositoryPaths: new RepositoryPathPolicy({ roots: [allowed], gantryHome: path.join(scratch, 'home') }),
    });
    await strict.ensureRepository({ name: 'allowed', path: allowed, defaultBranch: 'main' });

    // Act
    const outsideError = await failureOf(
      strict.ensureRepository({ name: 'outside', path: outside, defaultBranch: 'main' }),
    );
    const homeError = await failureOf(
      strict.ensureRepository({
        name: 'forge',
        path: path.join(scratch, 'home', 'forge'),
        defaultBranch: 'main',
      }),
    );

    // Assess
    expect(outsideError).toBeInstanceOf(RepositoryPathRefusedError);
    expect((outsideError as RepositoryPathRefusedError).rule).toBe('outside-allowed-roots');
    expect(outsideError.message).toContain(outside);
    expect((outsideError as RepositoryPathRefusedError).hint).toMatch(/--repository-root <dir>/);
    expect((outsideError as RepositoryPathRefusedError).hint).toContain(
      path.join(scratch, 'home', 'settings.yaml'),
    );
    expect((homeError as RepositoryPathRefusedError).rule).toBe('gantry-home');
    expect(await fs.readdir(path.join(scratch, 'home', 'forge'))).toEqual(['allowed.git']);
  });
});

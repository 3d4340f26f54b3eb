import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitDirOf } from '../src/forge/git-command.js';
import { LocalForge } from '../src/forge/local-forge.js';
import { BwrapSandbox } from '../src/sandbox/bwrap.js';
import { WorkspaceGit } from '../src/steps/workspace-git.js';

/**
 * The sandbox may write anything in the work tree. Everything it can plant there that git would obey
 * (hooks, configuration, attributes, a nested repository, a `.git` file pointing elsewhere) is planted
 * from inside the real sandbox, then every host-side git operation Gantry performs on a workspace runs:
 * none of the planted commands may run on the host.
 */
describe('host-side git over a workspace the sandbox wrote', () => {
  let root: string;
  let forge: LocalForge;
  let workspace: string;
  let base: string;
  // Outside /tmp and the workspace: a host path the planted commands would write if git ran them.
  const markers = join('/var/tmp', `gantry-host-git-${randomUUID()}`);
  const marker = (name: string) => `touch ${markers}/${name}`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gantry-host-git-'));
    await mkdir(markers, { recursive: true });
    const source = join(root, 'source');
    await mkdir(source);
    await writeFile(join(source, 'app.js'), 'export const answer = 41;\n');
    forge = new LocalForge({ root: join(root, 'forge') });
    base = (await forge.ensureRepository({ name: 'app', path: source, defaultBranch: 'main' })).head;
    await mkdir(join(root, 'workspaces'));
    workspace = join(root, 'workspaces', 'run');
    await forge.checkout('app', 'main', workspace);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(markers, { recursive: true, force: true });
  });

  it('keeps the git directory outside the work tree, where the sandbox cannot see it', async () => {
    // Act
    const result = await new BwrapSandbox().run({
      argv: ['sh', '-c', `ls -a; test -e '${gitDirOf(workspace)}' && echo git-dir-visible; true`],
      workspace,
    });

    // Assess
    expect(existsSync(gitDirOf(workspace))).toBe(true);
    expect(result.stdout.split('\n')).not.toContain('.git');
    expect(result.stdout).not.toContain('git-dir-visible');
  });

  it('runs nothing the workspace plants: hooks, config, includes, attributes, drivers, a nested repository', async () => {
    // Prepare: planted from inside the sandbox, as a hostile repository or model turn would.
    const hook = (name: string) =>
      `printf '#!/bin/sh\\n${marker(name)}\\n' > .git/hooks/${name}; chmod +x .git/hooks/${name}`;
    const config = [
      '[core]',
      `\\tfsmonitor = ${marker('fsmonitor')}`,
      '\\thooksPath = .git/hooks',
      '\\tworktree = /',
      `\\tpager = ${marker('pager')}`,
      `\\tsshCommand = ${marker('ssh')}`,
      `\\talternateRefsCommand = ${marker('alternate-refs')}`,
      '[include]',
      '\\tpath = ../included.cfg',
      '[filter "evil"]',
      `\\tclean = ${marker('clean')}`,
      `\\tsmudge = ${marker('smudge')}`,
      `\\tprocess = ${marker('filter-process')}`,
      '[diff]',
      `\\texternal = ${marker('diff-external')}`,
      '[diff "evil"]',
      `\\ttextconv = ${marker('textconv')}`,
      '[merge "evil"]',
      `\\tdriver = ${marker('merge-driver')}`,
      '[pager]',
      `\\tdiff = ${marker('pager-diff')}`,
    ].join('\\n');
    const plant = [
      'mkdir -p .git/hooks .git/objects/info nested/.git sub',
      `printf '${config}\\n' > .git/config`,
      `printf '[core]\\n\\tfsmonitor = ${marker('included')}\\n' > included.cfg`,
      "echo 'ref: refs/heads/main' > .git/HEAD",
      'echo /etc > .git/objects/info/alternates',
      ...[
        'pre-commit',
        'post-commit',
        'post-checkout',
        'pre-push',
        'reference-transaction',
        'post-rewrite',
      ].map(hook),
      `printf '[core]\\n\\tfsmonitor = ${marker('nested-fsmonitor')}\\n' > nested/.git/config`,
      "echo 'ref: refs/heads/main' > nested/.git/HEAD",
      'mkdir -p nested/.git/objects nested/.git/refs',
      'echo nested > nested/file.txt',
      'echo "gitdir: /etc" > sub/.git',
      'echo sub > sub/file.txt',
      "printf '* filter=evil diff=evil merge=evil\\n' > .gitattributes",
      "echo 'export const answer = 42;' > app.js",
    ].join(' && ');
    const planted = await new BwrapSandbox().run({ argv: ['sh', '-c', plant], workspace });
    expect(planted.stderr).toBe('');
    expect(planted.exitCode).toBe(0);
    const git = new WorkspaceGit(workspace, join(root, 'workspaces'));

    // Act: every operation the runtime performs on a workspace.
    await git.createBranch('gantry/run-fix');
    const commit = await git.commitPaths('Fix the answer', [
      '.gitattributes',
      'app.js',
      'included.cfg',
      'nested/file.txt',
      'sub/file.txt',
    ]);
    const changes = await git.changes(base);
    await git.numstat(base);
    const diff = await git.diff(base);
    await git.show(commit, 'app.js');
    await git.filesBetween(base, commit);
    await git.mergeOf(commit, commit);
    await forge.pushBranch('app', workspace, 'gantry/run-fix');
    await git.revert(commit, 'Revert the fix');
    await git.resetTo(commit);

    // Assess
    expect(await readdir(markers)).toEqual([]);
    expect(changes.map((change) => change.path).sort()).toEqual([
      '.gitattributes',
      'app.js',
      'included.cfg',
      'nested/file.txt',
      'sub/file.txt',
    ]);
    expect(diff).toContain('+export const answer = 42;');
    const tree = execFileSync('git', ['--git-dir', gitDirOf(workspace), 'ls-tree', '-r', commit], {
      encoding: 'utf8',
    });
    // Planted .git entries are never committed, and no nested repository becomes a gitlink.
    expect(tree).not.toContain('160000');
    expect(tree).not.toMatch(/\t(?:.*\/)?\.git(?:\/|$)/m);
  });

  it('commits only the paths the recorded edits wrote, never what a build or test run left', async () => {
    // Prepare: a build in the sandbox leaves a compiled binary and outputs beside the real edit.
    const git = new WorkspaceGit(workspace, join(root, 'workspaces'));
    await git.createBranch('gantry/run-build-outputs');
    const build = await new BwrapSandbox().run({
      argv: [
        'sh',
        '-c',
        "mkdir -p dist && echo built > dist/app.js && printf '\\177ELF' > a.out && echo 'export const answer = 43;' > app.js",
      ],
      workspace,
    });
    expect(build.exitCode).toBe(0);

    // Act
    const commit = await git.commitPaths('Change the answer', ['app.js']);

    // Assess
    const files = execFileSync(
      'git',
      ['--git-dir', gitDirOf(workspace), 'show', '--name-only', '--format=', commit],
      {
        encoding: 'utf8',
      },
    );
    expect(files.trim().split('\n')).toEqual(['app.js']);
  });

  it('never falls through to an enclosing repository when the git directory is missing', async () => {
    // Prepare: a work tree inside another repository, its own git directory gone.
    const enclosing = join(root, 'enclosing');
    const inner = join(enclosing, 'workspaces', 'orphan');
    await mkdir(inner, { recursive: true });
    execFileSync('git', ['init', '-q', enclosing]);
    execFileSync('git', [
      '-C',
      enclosing,
      '-c',
      'user.name=x',
      '-c',
      'user.email=x@x',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'outer',
    ]);
    const git = new WorkspaceGit(inner, join(enclosing, 'workspaces'));

    // Act
    const attempt = git.head();

    // Assess
    await expect(attempt).rejects.toThrow(/not a git repository|does not exist|cannot/i);
  });
});

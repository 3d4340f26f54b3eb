import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForgeError, InvalidInputError } from '../domain/errors.js';
import { separatedWorkTreeEnv } from './git-command.js';
import { branchNameFor, LocalForge } from './local-forge.js';
import { PULLS_REF } from './pull-request-records.js';

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
      ...separatedWorkTreeEnv(cwd),
    },
  });
  return stdout.trim();
}

/** The error a promise rejects with; a promise that resolves fails the test. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the operation to fail, but it succeeded');
  return outcome;
}

let scratch: string;

beforeEach(async () => {
  scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-forge-'));
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

async function plainProject(): Promise<string> {
  const dir = path.join(scratch, 'billing');
  await writeFiles(dir, {
    'package.json': '{"name":"billing"}\n',
    'src/invoice.ts': 'export const vat = 0.2;\n',
    'node_modules/left-pad/index.js': 'module.exports = 1;\n',
    'src/node_modules/x.js': 'nested dependency\n',
    'dist/invoice.js': 'built\n',
    'coverage/lcov.info': 'coverage\n',
    '.gantry/state.json': '{}\n',
  });
  return dir;
}

/** Imports a plain project, checks it out and commits a change on a gantry branch. */
async function workspaceWithChange(forge: LocalForge, branch: string) {
  const repo = await forge.ensureRepository({
    name: 'billing',
    path: await plainProject(),
    defaultBranch: 'main',
  });
  const workspace = path.join(scratch, `ws-${branch.replace(/\W/g, '-')}`);
  await forge.checkout('billing', 'main', workspace);
  await git(workspace, 'checkout', '-q', '-b', branch);
  await fs.writeFile(path.join(workspace, 'src/invoice.ts'), `export const vat = 0.21; // ${branch}\n`);
  await git(workspace, 'commit', '-q', '-am', `Change for ${branch}`);
  return { repo, workspace, commit: await git(workspace, 'rev-parse', 'HEAD') };
}

describe('LocalForge.ensureRepository', () => {
  it('imports a plain directory as one deterministic commit, without skipped directories', async () => {
    // Prepare
    const project = await plainProject();
    const first = new LocalForge({ root: path.join(scratch, 'forge-a') });
    const second = new LocalForge({ root: path.join(scratch, 'forge-b') });

    // Act
    const a = await first.ensureRepository({ name: 'billing', path: project, defaultBranch: 'main' });
    const b = await second.ensureRepository({ name: 'billing', path: project, defaultBranch: 'main' });

    // Assess
    expect(a.head).toMatch(/^[0-9a-f]{40}$/);
    expect(b.head).toBe(a.head);
    expect(a).toEqual({ name: 'billing', defaultBranch: 'main', head: a.head });
    const gitDir = path.join(scratch, 'forge-a', 'billing.git');
    const files = await git(gitDir, 'ls-tree', '-r', '--name-only', 'main');
    expect(files.split('\n')).toEqual(['package.json', 'src/invoice.ts']);
    expect(await git(gitDir, 'log', '-1', '--format=%an <%ae>', 'main')).toBe(
      'Gantry import <import@gantry.local>',
    );
    expect(await git(gitDir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(
      (await fs.readdir(path.join(scratch, 'forge-a'))).filter((name) => name.startsWith('.import-')),
    ).toEqual([]);
  });

  it('imports a git work tree at its current HEAD commit as the default branch', async () => {
    // Prepare
    const source = path.join(scratch, 'service');
    await writeFiles(source, { 'README.md': 'one\n' });
    await git(source, 'init', '-q', '--initial-branch=trunk');
    await git(source, 'add', '-A');
    await git(source, 'commit', '-q', '-m', 'first');
    await fs.writeFile(path.join(source, 'README.md'), 'two\n');
    await git(source, 'commit', '-q', '-am', 'second');
    const sourceHead = await git(source, 'rev-parse', 'HEAD');
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });

    // Act
    const repo = await forge.ensureRepository({ name: 'service', path: source, defaultBranch: 'main' });
    const again = await forge.ensureRepository({ name: 'service', defaultBranch: 'main' });

    // Assess
    expect(repo).toEqual({ name: 'service', defaultBranch: 'main', head: sourceHead });
    expect(again).toEqual(repo);
    const gitDir = path.join(scratch, 'forge', 'service.git');
    expect(await git(gitDir, 'rev-list', '--count', 'main')).toBe('2');
  });

  it("is not swayed by the user's git configuration or environment", async () => {
    // Prepare
    const project = await plainProject();
    const baseline = await new LocalForge({ root: path.join(scratch, 'forge-a') }).ensureRepository({
      name: 'billing',
      path: project,
      defaultBranch: 'main',
    });
    const hostile = path.join(scratch, 'hostile.gitconfig');
    await fs.writeFile(path.join(scratch, 'hostile.ignore'), '*.ts\n');
    await fs.writeFile(
      hostile,
      `[commit]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n[user]\n\tname = Someone Else\n` +
        `[core]\n\texcludesFile = ${path.join(scratch, 'hostile.ignore')}\n\thooksPath = /dev/null\n`,
    );
    const saved = { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL, GIT_DIR: process.env.GIT_DIR };
    Object.assign(process.env, { GIT_CONFIG_GLOBAL: hostile, GIT_DIR: path.join(scratch, 'elsewhere') });

    // Act
    const imported = await new LocalForge({ root: path.join(scratch, 'forge-b') })
      .ensureRepository({ name: 'billing', path: project, defaultBranch: 'main' })
      .finally(() => {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      });

    // Assess
    expect(imported.head).toBe(baseline.head);
  });

  it('imports a directory inside another repository by its files alone', async () => {
    // Prepare
    const outer = path.join(scratch, 'monorepo');
    await writeFiles(outer, { 'root.txt': 'outer\n', 'services/billing/app.ts': 'export {};\n' });
    await git(outer, 'init', '-q');
    await git(outer, 'add', '-A');
    await git(outer, 'commit', '-q', '-m', 'outer');
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });

    // Act
    await forge.ensureRepository({
      name: 'billing',
      path: path.join(outer, 'services/billing'),
      defaultBranch: 'main',
    });

    // Assess
    const gitDir = path.join(scratch, 'forge', 'billing.git');
    expect(await git(gitDir, 'ls-tree', '-r', '--name-only', 'main')).toBe('app.ts');
    expect(await git(gitDir, 'log', '-1', '--format=%an', 'main')).toBe('Gantry import');
  });

  it('refuses a repository that is not in the forge when its path does not exist, naming both', async () => {
    // Prepare
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });
    const missing = path.join(scratch, 'nowhere');

    // Act
    const error = await failureOf(
      forge.ensureRepository({ name: 'ghost', path: missing, defaultBranch: 'main' }),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/"ghost".*nowhere/);
    expect((error as InvalidInputError).hint).toMatch(/repository\.path/);
    expect(await fs.readdir(path.join(scratch, 'forge')).catch(() => [])).toEqual([]);
  });
});

describe('LocalForge.pushBranch', () => {
  it('pushes a gantry branch idempotently and never moves the default branch', async () => {
    // Prepare
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });
    const branch = branchNameFor('run1', 'Fix VAT rounding');
    const { repo, workspace, commit } = await workspaceWithChange(forge, branch);
    const gitDir = path.join(scratch, 'forge', 'billing.git');

    // Act
    const pushed = await forge.pushBranch('billing', workspace, branch);
    const pushedAgain = await forge.pushBranch('billing', workspace, branch);

    // Assess
    expect(pushed).toBe(commit);
    expect(pushedAgain).toBe(commit);
    expect(await git(gitDir, 'rev-parse', `refs/heads/${branch}`)).toBe(commit);
    expect(await git(gitDir, 'rev-parse', 'refs/heads/main')).toBe(repo.head);
    expect(await git(workspace, 'config', 'user.name')).toBe('Gantry agent');
  });

  it('refuses the default branch, branches outside gantry/ and invalid names; the hook rejects a direct push', async () => {
    // Prepare
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });
    const { repo, workspace } = await workspaceWithChange(forge, 'gantry/run2-change');
    const gitDir = path.join(scratch, 'forge', 'billing.git');
    await git(workspace, 'branch', 'feature/x');

    // Act
    const toDefault = await failureOf(forge.pushBranch('billing', workspace, 'main'));
    const outsidePrefix = await failureOf(forge.pushBranch('billing', workspace, 'feature/x'));
    const invalid = await failureOf(forge.pushBranch('billing', workspace, 'gantry/bad..name'));
    const direct = await failureOf(git(workspace, 'push', 'origin', 'HEAD:main'));
    const directRecords = await failureOf(git(workspace, 'push', 'origin', `HEAD:${PULLS_REF}`));

    // Assess
    expect(toDefault).toBeInstanceOf(ForgeError);
    expect(toDefault.message).toMatch(/default branch/);
    expect(outsidePrefix).toBeInstanceOf(ForgeError);
    expect(outsidePrefix.message).toMatch(/only branches under gantry\//);
    expect(invalid.message).toMatch(/not a valid git branch name/);
    expect(direct.message).toMatch(/pushing to the default branch \(refs\/heads\/main\) is refused/);
    expect(direct.message).toMatch(/pre-receive hook declined/);
    expect(directRecords.message).toMatch(/written by the forge only/);
    expect(await git(gitDir, 'rev-parse', 'refs/heads/main')).toBe(repo.head);
    expect(await git(gitDir, 'for-each-ref', '--format=%(refname)', PULLS_REF)).toBe('');
  });

  it('checks out a commit detached and returns it', async () => {
    // Prepare
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });
    const repo = await forge.ensureRepository({
      name: 'billing',
      path: await plainProject(),
      defaultBranch: 'main',
    });
    const workspace = path.join(scratch, 'detached');
    await fs.mkdir(workspace);

    // Act
    const checkedOut = await forge.checkout('billing', repo.head, workspace);
    const intoNonEmpty = await failureOf(forge.checkout('billing', 'main', workspace));

    // Assess
    expect(checkedOut).toBe(repo.head);
    expect(await fs.readFile(path.join(workspace, 'src/invoice.ts'), 'utf8')).toBe(
      'export const vat = 0.2;\n',
    );
    expect(intoNonEmpty).toBeInstanceOf(ForgeError);
    expect(intoNonEmpty.message).toMatch(/not empty/);
  });
});

describe('LocalForge pull requests', () => {
  async function pushedBranches(forge: LocalForge, count: number) {
    const branches: string[] = [];
    const first = await workspaceWithChange(forge, 'gantry/run0-first');
    await forge.pushBranch('billing', first.workspace, 'gantry/run0-first');
    branches.push('gantry/run0-first');
    for (let index = 1; index < count; index++) {
      const branch = `gantry/run${index}-change`;
      await git(first.workspace, 'checkout', '-q', '-b', branch, 'main');
      await fs.writeFile(path.join(first.workspace, `change-${index}.txt`), `${index}\n`);
      await git(first.workspace, 'add', '-A');
      await git(first.workspace, 'commit', '-q', '-m', `change ${index}`);
      await forge.pushBranch('billing', first.workspace, branch);
      branches.push(branch);
    }
    return { ...first, branches };
  }

  function request(branch: string, runId = 'run0') {
    return {
      repository: 'billing',
      branch,
      base: 'main',
      title: `Change ${branch}`,
      body: 'Evidence: …',
      runId,
    };
  }

  it('opens one pull request per branch, numbered 1 and 2, with refs/pull/<n>/head at the head commit', async () => {
    // Prepare
    const forge = new LocalForge({
      root: path.join(scratch, 'forge'),
      now: () => new Date('2025-01-02T03:04:05Z'),
    });
    const { branches, repo } = await pushedBranches(forge, 2);
    const [first = '', second = ''] = branches;
    const gitDir = path.join(scratch, 'forge', 'billing.git');

    // Act
    const opened = await forge.openPullRequest(request(first));
    const reopened = await forge.openPullRequest({ ...request(first), title: 'A retry with another title' });
    const other = await forge.openPullRequest(request(second, 'run1'));

    // Assess
    expect(opened).toEqual({
      repository: 'billing',
      number: 1,
      url: 'gantry://billing/pull/1',
      title: `Change ${first}`,
      body: 'Evidence: …',
      branch: first,
      base: 'main',
      head: await git(gitDir, 'rev-parse', first),
      state: 'open',
      runId: 'run0',
      createdAt: '2025-01-02T03:04:05.000Z',
    });
    expect(reopened).toEqual(opened);
    expect(other.number).toBe(2);
    expect(await git(gitDir, 'rev-parse', 'refs/pull/1/head')).toBe(opened.head);
    expect(await git(gitDir, 'rev-parse', 'refs/pull/2/head')).toBe(other.head);
    expect(await git(gitDir, 'ls-tree', '--name-only', PULLS_REF)).toBe('1.json\n2.json');
    expect(await git(gitDir, 'rev-list', '--count', PULLS_REF)).toBe('2');
    expect(await forge.listPullRequests('billing')).toEqual([opened, other]);
    expect(await git(gitDir, 'rev-parse', 'refs/heads/main')).toBe(repo.head);
  });

  it('gives concurrent openers distinct numbers and keeps the records for a new forge instance', async () => {
    // Prepare
    const root = path.join(scratch, 'forge');
    const forge = new LocalForge({ root });
    const { branches } = await pushedBranches(forge, 5);
    const writers = branches.map(() => new LocalForge({ root }));

    // Act
    const opened = await Promise.all(
      branches.map((branch, index) => writers[index]?.openPullRequest(request(branch))),
    );
    const sameBranchRace = await Promise.all([
      forge.openPullRequest(request(branches[0] ?? '')),
      new LocalForge({ root }).openPullRequest(request(branches[0] ?? '')),
    ]);
    const fresh = new LocalForge({ root });

    // Assess
    expect(opened.map((pull) => pull?.number).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(sameBranchRace.map((pull) => pull.number)).toEqual([opened[0]?.number, opened[0]?.number]);
    const listed = await fresh.listPullRequests('billing');
    expect(listed.map((pull) => pull.number)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(listed.map((pull) => pull.branch))).toEqual(new Set(branches));
    const second = listed.find((pull) => pull.number === 2);
    expect(await fresh.getPullRequest('billing', 2)).toEqual(second);
    expect(await fresh.getPullRequest('billing', 6)).toBeUndefined();
    const gitDir = path.join(root, 'billing.git');
    expect(await git(gitDir, 'rev-list', '--count', PULLS_REF)).toBe('5');
    for (const pull of listed) {
      expect(await git(gitDir, 'rev-parse', `refs/pull/${pull.number}/head`)).toBe(pull.head);
    }
  });

  it('moves an open pull request to a commit pushed later on its branch', async () => {
    // Prepare
    const forge = new LocalForge({ root: path.join(scratch, 'forge') });
    const { workspace, branches } = await pushedBranches(forge, 1);
    const branch = branches[0] ?? '';
    await forge.openPullRequest(request(branch));
    await git(workspace, 'checkout', '-q', branch);
    await fs.writeFile(path.join(workspace, 'review.txt'), 'addressed review\n');
    await git(workspace, 'add', '-A');
    await git(workspace, 'commit', '-q', '-m', 'address review');

    // Act
    const pushed = await forge.pushBranch('billing', workspace, branch);

    // Assess
    expect((await forge.getPullRequest('billing', 1))?.head).toBe(pushed);
    expect(await git(path.join(scratch, 'forge', 'billing.git'), 'rev-parse', 'refs/pull/1/head')).toBe(
      pushed,
    );
  });
});

describe('branchNameFor', () => {
  it.each([
    ['01J9Z3', 'Fix: rounding of VAT in invoices', 'gantry/01J9Z3-fix-rounding-of-vat-in-invoices'],
    ['r1', 'Café crème — déjà vu', 'gantry/r1-cafe-creme-deja-vu'],
    ['r1', '!!! ???', 'gantry/r1-change'],
    ['r1', '', 'gantry/r1-change'],
    ['r1', 'Refs/heads/main..lock ~^:?*[', 'gantry/r1-refs-heads-main-lock'],
    ['run/../x', 'Add', 'gantry/run-x-add'],
  ])('names run %s "%s" as %s', (runId, title, expected) => {
    expect(branchNameFor(runId, title)).toBe(expected);
  });

  it('keeps the slug within 40 characters at a word boundary, and cuts one overlong word', async () => {
    // Act
    const long = branchNameFor('r1', 'Handle the situation where invoices have many negative credit lines');
    const oneWord = branchNameFor('r1', 'x'.repeat(100));

    // Assess
    expect(long).toBe('gantry/r1-handle-the-situation-where-invoices-have');
    expect(oneWord).toBe(`gantry/r1-${'x'.repeat(40)}`);
    for (const name of [long, oneWord]) {
      await expect(git(scratch, 'check-ref-format', '--branch', name)).resolves.toBe(name);
    }
  });
});

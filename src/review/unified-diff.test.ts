import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedLines, type DiffFile, hunkRanges, parseUnifiedDiff } from './unified-diff.js';

let repo: string;
let diff: DiffFile[];
let raw: string;

const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: repo,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: repo,
    },
  });

const numbered = (from: number, to: number, label = 'line') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${label} ${from + i}`).join('\n');

beforeAll(async () => {
  // Prepare: a base commit, then one commit that adds, modifies, deletes, renames and adds binary and oddly named files.
  repo = await mkdtemp(join(tmpdir(), 'gantry-diff-'));
  git('init', '-q', '-b', 'main');
  await mkdir(join(repo, 'src'));
  await writeFile(join(repo, 'src/invoice.js'), `${numbered(1, 30)}\n`);
  await writeFile(join(repo, 'src/old.js'), 'export const a = 1;\nexport const b = 2;\n');
  await writeFile(join(repo, 'src/moved.js'), `${numbered(1, 20, 'moved')}\n`);
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  const lines = numbered(1, 30).split('\n');
  lines[4] = 'line 5 changed';
  lines.splice(25, 1); // remove line 26
  await writeFile(join(repo, 'src/invoice.js'), `${lines.join('\n')}\n`);
  await unlink(join(repo, 'src/old.js'));
  await mkdir(join(repo, 'lib'));
  await rename(join(repo, 'src/moved.js'), join(repo, 'lib/moved.js'));
  await writeFile(join(repo, 'src/new file.js'), 'export const added = true;\n');
  await writeFile(join(repo, 'src/café.js'), 'export const cafe = 1;\n');
  await writeFile(join(repo, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0, 0]));
  git('add', '-A');
  git('commit', '-q', '-m', 'change');
  raw = git('diff', '-M', 'HEAD~1..HEAD');
  diff = parseUnifiedDiff(raw);
});

afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('parseUnifiedDiff on real git diff output', () => {
  it('finds every file with its status, unquoting the paths git quotes', () => {
    // Act
    const summary = diff.map(({ path, status, previousPath }) => ({ path, status, previousPath }));

    // Assess
    expect(summary).toEqual(
      expect.arrayContaining([
        { path: 'src/invoice.js', status: 'modified', previousPath: undefined },
        { path: 'src/old.js', status: 'deleted', previousPath: undefined },
        { path: 'lib/moved.js', status: 'renamed', previousPath: 'src/moved.js' },
        { path: 'src/new file.js', status: 'added', previousPath: undefined },
        { path: 'src/café.js', status: 'added', previousPath: undefined },
        { path: 'logo.png', status: 'added', previousPath: undefined },
      ]),
    );
    expect(diff).toHaveLength(6);
    expect(raw).toContain('"b/src/caf\\303\\251.js"');
  });

  it('keeps each file’s hunks as its patch and reads their line ranges from the @@ headers', () => {
    // Prepare
    const invoice = diff.find((file) => file.path === 'src/invoice.js') as DiffFile;
    const deleted = diff.find((file) => file.path === 'src/old.js') as DiffFile;
    const added = diff.find((file) => file.path === 'src/new file.js') as DiffFile;

    // Act
    const ranges = hunkRanges(invoice);

    // Assess
    expect(invoice.patch.startsWith('@@ -2,7 +2,7 @@')).toBe(true);
    expect(ranges).toEqual([
      { start: 2, end: 8 },
      { start: 23, end: 28 },
    ]);
    expect(changedLines(invoice.patch)).toEqual(['line 5', 'line 5 changed', 'line 26']);
    expect(hunkRanges(deleted)).toEqual([{ start: 1, end: 2 }]);
    expect(hunkRanges(added)).toEqual([{ start: 1, end: 1 }]);
  });

  it('gives a binary file its one-line note and a pure rename no hunks', () => {
    // Prepare
    const binary = diff.find((file) => file.path === 'logo.png') as DiffFile;
    const moved = diff.find((file) => file.path === 'lib/moved.js') as DiffFile;

    // Assess
    expect(binary.patch).toMatch(/^Binary files \/dev\/null and b\/logo.png differ$/);
    expect(hunkRanges(binary)).toEqual([]);
    expect(moved.patch).toBe('');
    expect(hunkRanges(moved)).toEqual([]);
  });

  it('returns nothing for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});

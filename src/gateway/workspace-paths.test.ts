import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confineToWorkspace, PathRefusedError } from './workspace-paths.js';

describe('confineToWorkspace', () => {
  let workspace: string;
  let outside: string;

  beforeAll(async () => {
    workspace = await realpath(await mkdtemp(join(tmpdir(), 'gantry-paths-')));
    outside = await realpath(await mkdtemp(join(tmpdir(), 'gantry-paths-outside-')));
    await mkdir(join(workspace, 'src', 'lib'), { recursive: true });
    await writeFile(join(workspace, 'src', 'invoice.js'), 'export {};\n');
    await mkdir(join(workspace, '.git'));
    await writeFile(join(workspace, '.git', 'config'), '[core]\n');
    await writeFile(join(outside, 'secret.txt'), 'outside\n');
    // Symlinks a hostile repository could hold.
    await symlink('/etc/passwd', join(workspace, 'passwd-link'));
    await symlink('/etc', join(workspace, 'etc-link'));
    await symlink(join(outside, 'not-yet-there.txt'), join(workspace, 'dangling-link'));
    await symlink(outside, join(workspace, 'outside-dir'));
    await symlink('.git', join(workspace, 'git-link'));
    await symlink('src/invoice.js', join(workspace, 'invoice-link'));
    await symlink('../src', join(workspace, 'src', 'lib', 'up'));
    await symlink('loop-b', join(workspace, 'loop-a'));
    await symlink('loop-a', join(workspace, 'loop-b'));
  });

  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  async function refusal(path: string): Promise<string> {
    const error = await confineToWorkspace(workspace, path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `${JSON.stringify(path)} should be refused`).toBeInstanceOf(PathRefusedError);
    return (error as PathRefusedError).message;
  }

  it('resolves an ordinary relative path to the workspace-relative and host path', async () => {
    // Act
    const confined = await confineToWorkspace(workspace, 'src/invoice.js');
    // Assess
    expect(confined).toEqual({ relative: 'src/invoice.js', host: join(workspace, 'src', 'invoice.js') });
  });

  it('normalises harmless dots and backslashes and accepts files that do not exist yet', async () => {
    expect((await confineToWorkspace(workspace, './src/./lib/../invoice.js')).relative).toBe(
      'src/invoice.js',
    );
    expect((await confineToWorkspace(workspace, 'src\\invoice.js')).relative).toBe('src/invoice.js');
    expect((await confineToWorkspace(workspace, 'test/new.test.js')).relative).toBe('test/new.test.js');
    expect((await confineToWorkspace(workspace, '.')).relative).toBe('.');
    // Percent-encoding is not decoded by anything downstream, so it names a directory inside.
    expect((await confineToWorkspace(workspace, '%2e%2e/x')).relative).toBe('%2e%2e/x');
    // A path running through a regular file does not exist, and is still inside.
    expect((await confineToWorkspace(workspace, 'src/invoice.js/x')).relative).toBe('src/invoice.js/x');
  });

  it('refuses traversal out of the workspace, however it is spelled', async () => {
    for (const path of [
      '..',
      '../x',
      'a/../../x',
      'src/../../x',
      './../x',
      'a/./b/../../../x',
      '..\\x',
      'a\\..\\..\\x',
    ]) {
      expect(await refusal(path)).toContain('leaves the workspace');
    }
  });

  it('refuses absolute paths and NUL bytes', async () => {
    expect(await refusal('/etc/passwd')).toContain('absolute');
    expect(await refusal(join(workspace, 'src', 'invoice.js'))).toContain('absolute');
    expect(await refusal('C:\\Windows\\win.ini')).toContain('absolute');
    expect(await refusal('src/invoice.js\0.png')).toContain('NUL');
  });

  it("refuses the repository's .git directory, directly or through traversal inside", async () => {
    for (const path of [
      '.git',
      '.git/config',
      './.git/config',
      'src/../.git/config',
      '.git/hooks/pre-commit',
    ]) {
      expect(await refusal(path)).toContain('.git');
    }
    // A file merely named like .git is fine.
    expect((await confineToWorkspace(workspace, '.gitignore')).relative).toBe('.gitignore');
  });

  it('refuses symlinks that lead outside: to a file, to a directory, and to a file not created yet', async () => {
    expect(await refusal('passwd-link')).toContain('symlink');
    expect(await refusal('etc-link/passwd')).toContain('symlink');
    expect(await refusal('etc-link')).toContain('symlink');
    expect(await refusal('outside-dir/secret.txt')).toContain('symlink');
    expect(await refusal('outside-dir/new-file.txt')).toContain('symlink');
    expect(await refusal('outside-dir/new-dir/new-file.txt')).toContain('symlink');
  });

  it('refuses a dangling symlink whose target, once written, would be outside', async () => {
    expect(await refusal('dangling-link')).toContain('symlink');
  });

  it('refuses a symlink inside the workspace that leads into .git', async () => {
    expect(await refusal('git-link/config')).toContain('.git');
    expect(await refusal('git-link')).toContain('.git');
  });

  it('refuses a symlink loop instead of failing with a raw error', async () => {
    expect(await refusal('loop-a')).toContain('loop');
    expect(await refusal('loop-a/x')).toContain('loop');
  });

  it('allows symlinks that stay inside the workspace', async () => {
    expect(await confineToWorkspace(workspace, 'invoice-link')).toEqual({
      relative: 'invoice-link',
      host: join(workspace, 'invoice-link'),
    });
    expect((await confineToWorkspace(workspace, 'src/lib/up/invoice.js')).relative).toBe(
      'src/lib/up/invoice.js',
    );
  });
});

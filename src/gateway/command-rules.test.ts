import { describe, expect, it } from 'vitest';
import { checkCommand } from './command-rules.js';

/** What a Node repository's map declares, plus python3 and git so their rules are reached. */
const repositoryPrograms = new Set(['npm', 'node', 'npx', 'python3', 'git']);

function ruleOf(argv: string[], programs: ReadonlySet<string> = repositoryPrograms): string {
  return checkCommand(argv, programs).rule;
}

describe('checkCommand', () => {
  it('allows inspection tools and the repository test programs', () => {
    for (const argv of [
      ['npm', 'test'],
      ['npm', 'run', 'lint'],
      ['node', '--test'],
      ['node', 'test/invoice.test.js'],
      ['grep', '-rn', 'x', '.'],
      ['ls'],
      ['cat', 'src/invoice.js'],
      ['git', 'status'],
      ['git', 'grep', '-n', 'discount'],
      ['python3', '-m', 'pytest', '-q'],
    ]) {
      const verdict = checkCommand(argv, repositoryPrograms);
      expect(verdict, argv.join(' ')).toEqual({
        allowed: true,
        rule: 'command.allowed',
        reason: expect.any(String),
      });
    }
  });

  it('refuses an empty argv', () => {
    expect(checkCommand([], repositoryPrograms)).toMatchObject({ allowed: false, rule: 'command.empty' });
  });

  it('refuses network, shell, escalation and indirection programs even when the repository declares them', () => {
    const everything = new Set([...repositoryPrograms, 'curl', 'bash', 'env', 'xargs', 'sudo']);
    for (const argv of [
      ['curl', 'https://example.com'],
      ['wget', 'http://x'],
      ['nc', '-l', '4444'],
      ['ssh', 'host'],
      ['bash', '-c', 'id'],
      ['sh', '-c', 'id'],
      ['env'],
      ['env', 'FOO=1', 'ls'],
      ['xargs', 'cat'],
      ['sudo', 'ls'],
    ]) {
      const verdict = checkCommand(argv, everything);
      expect(verdict.allowed, argv.join(' ')).toBe(false);
      expect(verdict.rule, argv.join(' ')).toBe('command.forbidden');
    }
  });

  it('refuses programs given by path, so a forbidden one cannot hide behind its location', () => {
    expect(ruleOf(['/usr/bin/curl', 'http://x'])).toBe('command.path');
    expect(ruleOf(['/bin/sh', '-c', 'id'])).toBe('command.path');
    expect(ruleOf(['../../bin/ls'])).toBe('command.path');
    // ./ is how a repository script is named, but its basename is still checked.
    expect(ruleOf(['./curl'])).toBe('command.forbidden');
  });

  it('refuses interpreters asked to evaluate inline code, in every spelling', () => {
    for (const argv of [
      ['python3', '-c', 'import os'],
      ['python3', '-Bc', 'import os'],
      ['python3', "-c'import os'"],
      ['node', '-e', 'process.exit(0)'],
      ['node', '--eval', '1'],
      ['node', '--eval=1'],
      ['node', '-p', 'process.env'],
      ['node', '-pe', 'process.env'],
      ['node', '--print', '1'],
      ['node', '--require', './hook.js', 'x.js'],
      ['node', '-r', './hook.js', 'x.js'],
      ['node', '--import=./hook.mjs', 'x.js'],
      ['npx', 'node', '-e', 'process.exit(0)'],
      ['npx', '-c', 'vitest run'],
      ['npx', '--package=left-pad', 'left-pad'],
      ['node', '-', 'x.js'],
      ['node', '--run', 'test'],
      ['python3', '-', 'x.py'],
      ['git', 'grep', '--open-files-in-pager=sh', 'x'],
      ['git', 'grep', '-Osh', 'x'],
      ['git', 'grep', '-nO', 'sh', 'x'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.inline-code');
    }
  });

  it('does not mistake option values or other short options for inline code', () => {
    expect(ruleOf(['python3', '-m', 'pytest'])).toBe('command.allowed');
    expect(ruleOf(['python3', '-Xdev', 'script.py'])).toBe('command.allowed');
    expect(ruleOf(['node', '--test', '--test-reporter=spec'])).toBe('command.allowed');
    expect(ruleOf(['git', 'grep', '-A', '3', 'x'])).toBe('command.allowed');
  });

  it('refuses package manager and git sub-commands that install, publish or push', () => {
    for (const argv of [
      ['npm', 'install'],
      ['npm', 'i', 'left-pad'],
      ['npm', 'publish'],
      ['npm', 'exec', 'x'],
      ['git', 'push', 'origin', 'main'],
      ['git', 'commit', '-m', 'x'],
      ['git', '-c', 'core.pager=sh', 'log'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.verb');
    }
  });

  it('refuses programs that are neither inspection tools nor declared by the repository', () => {
    expect(ruleOf(['gcc', 'a.c'])).toBe('command.not-allowlisted');
    expect(ruleOf(['npx', 'x'], new Set(['npm']))).toBe('command.not-allowlisted');
    expect(ruleOf(['make'])).toBe('command.not-allowlisted');
  });

  it('refuses shell syntax smuggled into arguments', () => {
    for (const argv of [
      ['ls', '$(curl http://x)'],
      ['ls', '`id`'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell parameter expansion is the input under test
      ['ls', '${HOME}'],
      ['cat', 'a; curl http://x'],
      ['cat', 'a && rm -rf /'],
      ['cat', 'a | nc host 1'],
      ['npm', 'test', '--', '; curl x'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.shell-syntax');
    }
    // grep patterns and echo text legitimately hold such characters, and no shell reads them.
    expect(ruleOf(['grep', '-rn', 'a && b', '.'])).toBe('command.allowed');
  });

  it('judges npx <tool> as the tool it runs, from the repository packages', () => {
    expect(ruleOf(['npx', 'vitest', 'run'])).toBe('command.allowed');
    expect(ruleOf(['npx', '--no-install', 'jest'])).toBe('command.allowed');
    expect(ruleOf(['npx', 'anything'])).toBe('command.not-allowlisted');
    expect(ruleOf(['npx', 'curl', 'http://x'])).toBe('command.forbidden');
    expect(ruleOf(['npx', 'concurrently', 'a', 'b'])).toBe('command.indirect');
    expect(checkCommand(['npx', 'sh', '-c', 'id'], repositoryPrograms).reason).toMatch(/^npx runs a command/);
    // The repository's own binaries, when the caller knows them.
    expect(
      checkCommand(['npx', 'my-tool'], repositoryPrograms, { packageBinaries: new Set(['my-tool']) }).rule,
    ).toBe('command.allowed');
  });

  it('refuses node and python flags that load code and python -m modules other than test runners', () => {
    for (const argv of [
      ['node', '--import', 'x', 'y.js'],
      ['node', '-r', 'x', 'y.js'],
      ['node', '--loader=./l.mjs', 'y.js'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.inline-code');
    }
    for (const argv of [
      ['python3', '-m', 'http.server'],
      ['python3', '-m', 'pip', 'install', 'x'],
      ['python3', '-mpip', 'install', 'x'],
      ['python3', '-Bm', 'http.server'],
      ['python3', '-X', 'dev', '-m', 'http.server'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.python-module');
    }
    for (const argv of [
      ['python3', '-m', 'pytest', '-q'],
      ['python3', '-m', 'unittest', 'discover'],
      ['python3', '-B', '-m', 'pytest'],
      ['python3', 'script.py', '-m', 'whatever'],
    ]) {
      expect(ruleOf(argv), argv.join(' ')).toBe('command.allowed');
    }
  });

  it('refuses environment prefixes that change which code loads, and NAME=value as a program', () => {
    expect(
      checkCommand(['vitest'], repositoryPrograms, { inScript: true, env: { NODE_OPTIONS: '--require=./x' } })
        .rule,
    ).toBe('command.env');
    expect(
      checkCommand(['vitest'], repositoryPrograms, { inScript: true, env: { LD_PRELOAD: 'x.so' } }).rule,
    ).toBe('command.env');
    expect(
      checkCommand(['vitest'], repositoryPrograms, { inScript: true, env: { NODE_ENV: 'test' } }).rule,
    ).toBe('command.allowed');
    expect(ruleOf(['NODE_OPTIONS=--require=./x', 'node', 'y.js'])).toBe('command.env');
    expect(ruleOf(['cross-env', 'NODE_OPTIONS=--require=./x', 'vitest'], new Set(['cross-env']))).toBe(
      'command.env',
    );
  });

  it('finds the verb behind the options that only say where a package manager runs', () => {
    const managers = new Set(['pnpm', 'yarn']);
    expect(ruleOf(['pnpm', '--dir', 'web', 'test'], managers)).toBe('command.allowed');
    expect(ruleOf(['yarn', '--cwd', 'web', 'test'], managers)).toBe('command.allowed');
    expect(ruleOf(['pnpm', '--dir', 'web', 'install'], managers)).toBe('command.verb');
  });
});

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Forge, PullRequest } from '../../ports/forge.js';
import { separatedWorkTreeEnv } from '../git-command.js';

const run = promisify(execFile);

/** Where the example repository the merge-queue tests and benchmark work on lives. */
export const BILLING_SERVICE_PATH = path.resolve(import.meta.dirname, '../../../examples/billing-service');

/** Git as a person would run it in a clone, isolated from the machine's configuration. */
export async function gitIn(cwd: string, ...args: string[]): Promise<string> {
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

/**
 * Opens a pull request that writes `files` on top of the default branch (or `from`), the way a
 * run does: clone, commit on a gantry/ branch, pushBranch, openPullRequest.
 *
 * @example
 * const pr = await openChange(forge, scratch, { repository: 'billing-service', name: 'add-notes', files: { 'NOTES.md': 'hi\n' } });
 */
export async function openChange(
  forge: Forge,
  scratch: string,
  change: { repository: string; name: string; files: Record<string, string>; from?: string; title?: string },
): Promise<PullRequest> {
  const branch = `gantry/${change.name}`;
  const dir = await fs.mkdtemp(path.join(scratch, `change-${change.name}-`));
  try {
    const head = await forge.defaultHead(change.repository);
    await forge.checkout(change.repository, change.from ?? head.commit, dir);
    await gitIn(dir, 'checkout', '--quiet', '-b', branch);
    for (const [file, content] of Object.entries(change.files)) {
      await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await fs.writeFile(path.join(dir, file), content);
    }
    await gitIn(dir, 'add', '--all');
    await gitIn(dir, 'commit', '--quiet', '-m', change.title ?? `Change ${change.name}`);
    await forge.pushBranch(change.repository, dir, branch);
    return await forge.openPullRequest({
      repository: change.repository,
      branch,
      base: head.branch,
      title: change.title ?? `Change ${change.name}`,
      body: `Writes ${Object.keys(change.files).join(', ')}.`,
      runId: `run-${change.name}`,
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A passing test file of its own for change `n`. */
export function passingTest(n: number): Record<string, string> {
  return {
    [`test/queue-${n}.test.js`]: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('change ${n} holds', () => {\n  assert.equal(${n} + 1, ${n + 1});\n});\n`,
  };
}

/** A test file of its own for change `n` that fails: the change breaks the suite. */
export function failingTest(n: number): Record<string, string> {
  return {
    [`test/queue-${n}.test.js`]: `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('change ${n} breaks the build', () => {\n  assert.equal('change ${n}', 'expected something else');\n});\n`,
  };
}

/** A new source file of its own for change `n`, no test. */
export function ownFile(n: number): Record<string, string> {
  return { [`src/notes/note-${n}.js`]: `export const note${n} = ${n};\n` };
}

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultRepositoryRoots,
  RepositoryPathPolicy,
  RepositoryPathRefusedError,
  type RepositoryPathRule,
} from './repository-path-policy.js';

let scratch: string;

beforeEach(async () => {
  scratch = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'gantry-path-policy-')));
});

afterEach(async () => {
  await fs.rm(scratch, { recursive: true, force: true });
});

/** The rule that refuses `target`, or 'allowed'. */
async function ruleFor(
  policy: RepositoryPathPolicy,
  target: string,
): Promise<RepositoryPathRule | 'allowed'> {
  return policy.check(target).then(
    () => 'allowed' as const,
    (error: unknown) => {
      if (error instanceof RepositoryPathRefusedError) return error.rule;
      throw error;
    },
  );
}

describe('RepositoryPathPolicy', () => {
  it.each<[string, RepositoryPathRule | 'allowed']>([
    ['/', 'filesystem-root'],
    ['/etc', 'system-directory'],
    ['/etc/ssh', 'system-directory'],
    ['/usr/local/src/app', 'system-directory'],
    ['/bin', 'system-directory'],
    ['/sbin', 'system-directory'],
    ['/lib', 'system-directory'],
    ['/lib64/x', 'system-directory'],
    ['/libx32', 'system-directory'],
    ['/boot', 'system-directory'],
    ['/dev/shm/repo', 'system-directory'],
    ['/proc/sys/kernel', 'system-directory'],
    ['/sys', 'system-directory'],
    ['/run/user/1000', 'system-directory'],
    ['/var', 'system-directory'],
    ['/var/lib/dpkg', 'system-directory'],
    ['/var/gantry-policy-test/repos/billing', 'allowed'],
    ['/var/gantry-policy-test/elsewhere', 'system-directory'],
    ['/root', 'home-directory'],
    ['/root/project', 'allowed'],
    ['/home', 'home-directory'],
    ['/home/alice', 'home-directory'],
    ['/home/alice/project', 'allowed'],
    ['/srv/outside', 'outside-allowed-roots'],
  ])('judges %s as %s', async (target, expected) => {
    // Prepare
    const policy = new RepositoryPathPolicy({
      roots: ['/', '/var/gantry-policy-test/repos'],
      gantryHome: path.join(scratch, 'home'),
    });
    const rooted =
      expected === 'outside-allowed-roots' ? new RepositoryPathPolicy({ roots: [scratch] }) : policy;

    // Act
    const rule = await ruleFor(rooted, target);

    // Assess
    expect(rule).toBe(expected);
  });

  it("refuses the user's home directory, the temporary directory and the Gantry home, but not below them", async () => {
    // Prepare
    const home = path.join(scratch, 'gantry-home');
    await fs.mkdir(path.join(home, 'forge'), { recursive: true });
    const policy = new RepositoryPathPolicy({ roots: ['/', os.homedir(), os.tmpdir()], gantryHome: home });

    // Act
    const rules = await Promise.all(
      [os.homedir(), os.tmpdir(), home, path.join(home, 'forge'), path.join(scratch, 'repo')].map((target) =>
        ruleFor(policy, target),
      ),
    );

    // Assess
    expect(rules).toEqual(['home-directory', 'temporary-directory', 'gantry-home', 'gantry-home', 'allowed']);
  });

  it('judges a symlink by the real path it leads to, and returns that path', async () => {
    // Prepare
    const repo = path.join(scratch, 'repo');
    await fs.mkdir(repo);
    await fs.symlink(repo, path.join(scratch, 'to-repo'));
    await fs.symlink('/etc', path.join(scratch, 'to-etc'));
    const policy = new RepositoryPathPolicy({ roots: [scratch] });

    // Act
    const real = await policy.check(path.join(scratch, 'to-repo'));
    const refused = await policy.check(path.join(scratch, 'to-etc')).catch((error: unknown) => error);

    // Assess
    expect(real).toBe(repo);
    expect(refused).toBeInstanceOf(RepositoryPathRefusedError);
    expect((refused as RepositoryPathRefusedError).path).toBe('/etc');
    expect((refused as RepositoryPathRefusedError).rule).toBe('system-directory');
    expect((refused as Error).message).toBe(
      `refusing repository.path ${path.join(scratch, 'to-etc')} (really /etc): it is inside the system directory /etc`,
    );
  });

  it('says which roots are allowed and how to add one', async () => {
    // Prepare
    const policy = new RepositoryPathPolicy({
      roots: [path.join(scratch, 'repos')],
      gantryHome: '/srv/gantry',
    });

    // Act
    const refused = (await policy
      .check('/srv/other')
      .catch((error: unknown) => error)) as RepositoryPathRefusedError;

    // Assess
    expect(refused.message).toBe(
      `refusing repository.path /srv/other: it is outside the allowed repository roots (${path.join(scratch, 'repos')})`,
    );
    expect(refused.hint).toBe(
      'allow its directory with --repository-root <dir> (repeatable) or a repositoryRoots entry in /srv/gantry/settings.yaml',
    );
    expect(refused.describe()).toContain('input: /srv/other');
  });

  it('allows the working directory and the temporary directory by default', async () => {
    // Prepare
    const policy = new RepositoryPathPolicy({ roots: defaultRepositoryRoots() });

    // Act
    const rules = await Promise.all(
      [path.join(process.cwd(), 'examples', 'billing-service'), scratch].map((target) =>
        ruleFor(policy, target),
      ),
    );

    // Assess
    expect(defaultRepositoryRoots()).toEqual([process.cwd(), os.tmpdir()]);
    expect(rules).toEqual(['allowed', 'allowed']);
  });
});

import { describe, expect, it } from 'vitest';
import type { RepositoryCommand } from '../domain/context.js';
import { planSetup } from './setup-plan.js';

const install = (ecosystem: RepositoryCommand['ecosystem'], argv: string[]): RepositoryCommand => ({
  ecosystem,
  kind: 'install',
  argv,
  declaredIn: 'manifest',
  needsNetwork: true,
});
const scriptsOff = { setup: { lifecycleScripts: false } };
const npmOnly = ['registry.npmjs.org:443'];

describe('planSetup', () => {
  it('installs npm dependencies without a lockfile too, with lifecycle scripts off', () => {
    // Act
    const plan = planSetup(
      { commands: [install('npm', ['npm', 'install', '--ignore-scripts'])], files: ['package.json'] },
      scriptsOff,
      npmOnly,
    );

    // Assess
    expect(plan.steps).toEqual([
      expect.objectContaining({ argv: ['npm', 'install', '--ignore-scripts'], network: true }),
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it('gives a Python project a virtualenv and, offline, its src layout on the path instead of a build', () => {
    // Act
    const plan = planSetup(
      {
        commands: [
          install('pytest', ['python3', '-m', 'pip', 'install', '--only-binary', ':all:', '-e', '.[test]']),
        ],
        files: ['pyproject.toml', 'src/mypkg/__init__.py', 'tests/test_a.py'],
        toolchains: ['python'],
      },
      scriptsOff,
      npmOnly,
    );

    // Assess
    expect(plan.steps.map((step) => step.argv[0])).toEqual(['python3', '.venv/bin/python']);
    expect(plan.steps[0]?.argv).toEqual(['python3', '-m', 'venv', '--system-site-packages', '.venv']);
    expect(plan.steps[1]?.argv.at(-1)).toBe('src');
    expect(plan.steps.every((step) => !step.network)).toBe(true);
    expect(plan.profile).toEqual({ toolchains: ['python'], virtualenv: '.venv', env: {} });
  });

  it('runs pip for real, into the virtualenv, when PyPI is allowlisted', () => {
    // Act
    const plan = planSetup(
      {
        commands: [install('pytest', ['python3', '-m', 'pip', 'install', '-r', 'requirements.txt'])],
        files: [],
      },
      scriptsOff,
      [...npmOnly, 'pypi.org:443', 'files.pythonhosted.org:443'],
    );

    // Assess
    expect(plan.steps[1]?.argv.slice(0, 4)).toEqual(['.venv/bin/python', '-m', 'pip', 'install']);
    expect(plan.steps[1]?.argv).toContain('--no-build-isolation');
    expect(plan.steps[1]?.network).toBe(true);
  });

  it('skips an install whose registry the allowlist does not reach, says why, and keeps the tools offline', () => {
    // Act
    const plan = planSetup(
      {
        commands: [
          install('go', ['go', 'mod', 'download']),
          install('pytest', ['python3', '-m', 'pip', 'install', '-r', 'requirements.txt']),
        ],
        files: [],
      },
      scriptsOff,
      npmOnly,
    );

    // Assess
    expect(plan.skipped.map((skip) => skip.ecosystem)).toEqual(['go', 'pip']);
    expect(plan.skipped[0]?.reason).toContain('proxy.golang.org is not in the registry allowlist');
    expect(plan.profile.env).toEqual({ GOFLAGS: '-mod=mod', GOPROXY: 'off' });
  });
});

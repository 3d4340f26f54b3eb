import type { RepositoryCommand, RepositoryContext } from '../domain/context.js';
import type { CapabilityContract } from '../policy/capabilities.js';
import { installArgv } from '../repomap/commands.js';
import type { SandboxProfile } from './step-deps.js';

/** One command of the setup phase. */
export interface SetupStep {
  ecosystem: string;
  argv: string[];
  /** Whether it may reach the registry allowlist through the egress proxy. */
  network: boolean;
  declaredIn: string;
}

/** An install the setup phase does not run, and why, for the map and the run to say. */
export interface SkippedSetup {
  ecosystem: string;
  argv: string[];
  reason: string;
}

export interface SetupPlan {
  steps: SetupStep[];
  skipped: SkippedSetup[];
  profile: SandboxProfile;
}

/** Where the run's virtualenv lives, relative to the workspace (kept out of commits by the git exclude). */
export const VIRTUALENV = '.venv';

/** Registries by the host an ecosystem's install needs. */
const REGISTRY_HOSTS: Readonly<Record<string, readonly string[]>> = {
  pip: ['pypi.org', 'files.pythonhosted.org'],
  go: ['proxy.golang.org'],
  maven: ['repo.maven.apache.org'],
  cargo: ['index.crates.io', 'static.crates.io'],
};

const reaches = (egress: readonly string[], ecosystem: string) =>
  (REGISTRY_HOSTS[ecosystem] ?? []).every((host) => egress.some((entry) => entry.startsWith(`${host}:`)));

/**
 * Puts a source root (relative to the workspace, its only argument) on the virtualenv's path with a
 * `.pth` file whose entry is relative to site-packages, so it holds wherever the workspace is mounted.
 */
const LINK_SOURCES = [
  'import os, sys, sysconfig',
  "site = sysconfig.get_paths()['purelib']",
  'root = os.path.abspath(sys.argv[1])',
  "open(os.path.join(site, '_gantry_workspace.pth'), 'w').write(os.path.relpath(root, site) + '\\n')",
].join('; ');

/** Where a Python project's importable sources are: `src` for a src layout, else the repository root. */
function sourceRoot(files: readonly string[]): string {
  return files.some((file) => /^src\/[^/]+\/__init__\.py$/.test(file) || /^src\/[^/]+\.py$/.test(file))
    ? 'src'
    : '.';
}

const isPipInstall = (command: RepositoryCommand) =>
  command.argv[0] === 'python3' && command.argv[1] === '-m' && command.argv[2] === 'pip';

/**
 * Decides what the setup phase runs for a repository: every install the map detected, whether or not
 * a lockfile exists, under the contract's lifecycle-script rule, reaching only the registry allowlist.
 * Python installs go into a virtualenv per workspace (`.venv`, with the system site packages, no build
 * isolation) that every later command runs with first on PATH; when PyPI is not allowlisted, an
 * editable install becomes the workspace's source root on the virtualenv's path (what `pip install -e`
 * amounts to, without needing a build backend), so the package under test is the workspace's. An install whose registry the
 * allowlist does not reach is skipped with the reason, and the ecosystem's tools are told to stay
 * offline.
 *
 * @example
 * const plan = planSetup(map, contract, ['registry.npmjs.org:443']);
 * plan.steps.map((s) => s.argv.join(' ')); // ['npm ci --ignore-scripts']
 */
export function planSetup(
  map: Pick<RepositoryContext, 'commands' | 'toolchains' | 'files'>,
  contract: Pick<CapabilityContract, 'setup'>,
  egress: readonly string[],
): SetupPlan {
  const steps: SetupStep[] = [];
  const skipped: SkippedSetup[] = [];
  const profile: SandboxProfile = { ...(map.toolchains ? { toolchains: map.toolchains } : {}), env: {} };
  let virtualenv = false;
  for (const command of map.commands.filter((c) => c.kind === 'install')) {
    if (isPipInstall(command)) {
      if (!virtualenv) {
        steps.push({
          ecosystem: 'pip',
          argv: ['python3', '-m', 'venv', '--system-site-packages', VIRTUALENV],
          network: false,
          declaredIn: command.declaredIn,
        });
        profile.virtualenv = VIRTUALENV;
        virtualenv = true;
      }
      const pip = installArgv(command, contract).slice(3);
      if (reaches(egress, 'pip')) {
        steps.push({
          ecosystem: 'pip',
          argv: [
            `${VIRTUALENV}/bin/python`,
            '-m',
            'pip',
            ...pip.slice(0, 1),
            '--no-build-isolation',
            ...pip.slice(1),
          ],
          network: true,
          declaredIn: command.declaredIn,
        });
      } else if (pip.includes('-e')) {
        // Offline, an editable install is what it amounts to: the workspace's sources on the
        // virtualenv's path (no build backend needed), dependencies from the system site packages.
        steps.push({
          ecosystem: 'pip',
          argv: [`${VIRTUALENV}/bin/python`, '-c', LINK_SOURCES, sourceRoot(map.files)],
          network: false,
          declaredIn: command.declaredIn,
        });
      } else {
        skipped.push({
          ecosystem: 'pip',
          argv: command.argv,
          reason:
            'PyPI is not in the registry allowlist, so requirements come from the system site packages the virtualenv sees',
        });
      }
      continue;
    }
    const ecosystem = command.ecosystem;
    if (ecosystem === 'go' || ecosystem === 'maven' || (ecosystem as string) === 'cargo') {
      if (!reaches(egress, ecosystem)) {
        skipped.push({
          ecosystem,
          argv: command.argv,
          reason: `${(REGISTRY_HOSTS[ecosystem] ?? []).join(', ')} is not in the registry allowlist, so ${ecosystem} builds offline from what the host has cached`,
        });
        if (ecosystem === 'go') Object.assign(profile.env, { GOFLAGS: '-mod=mod', GOPROXY: 'off' });
        if ((ecosystem as string) === 'cargo') profile.env.CARGO_NET_OFFLINE = 'true';
        continue;
      }
    }
    steps.push({
      ecosystem,
      argv: installArgv(command, contract),
      network: command.needsNetwork,
      declaredIn: command.declaredIn,
    });
  }
  return { steps, skipped, profile };
}

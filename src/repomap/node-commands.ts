import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import type { CommandKind, PackageManager } from '../domain/context.js';
import {
  type Candidate,
  candidate,
  type Findings,
  firstLevelDirectories,
  inScope,
  isRecord,
  lineOf,
  normalizeScope,
  type Repository,
} from './command-candidates.js';
import { IGNORE_SCRIPTS, YARN_BERRY_SCRIPTS_OFF } from './install-flags.js';
import { readRepositoryText } from './repository-files.js';

type NodeManager = 'npm' | 'pnpm' | 'yarn';

interface NodeProject {
  scope: string;
  manifest: string;
  text: string;
  scripts: Record<string, unknown>;
  manager: NodeManager;
  managerVersion: string | undefined;
  /** The lockfile in the project's own directory, if any. */
  lockfile: string | undefined;
  workspaces: string[];
  workspacesDeclaredIn: string | undefined;
  yarnBerry: boolean;
  name: string | undefined;
}

const LOCKFILES: ReadonlyArray<[string, NodeManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** The scripts each kind reads, in the order one is preferred: a check-only `format:check` before `format`. */
const SCRIPTS: ReadonlyArray<[CommandKind, readonly string[]]> = [
  ['build', ['build']],
  ['test', ['test']],
  ['lint', ['lint']],
  ['typecheck', ['typecheck', 'type-check', 'tsc', 'check-types', 'types']],
  ['format', ['format:check', 'fmt:check', 'format', 'fmt']],
];

export interface NodeFindings extends Findings {
  packageManager: PackageManager | undefined;
  /** The scripts of each package, by its directory, so a CI `npm run test:ci` counts as declared. */
  scripts: Map<string, { manifest: string; names: Set<string> }>;
}

/**
 * The npm, pnpm and yarn commands of the repository: the root's, each workspace package's (the
 * `workspaces` globs of package.json, or pnpm-workspace.yaml, expanded at any depth), and each
 * first-level directory's own package.json. A package's commands run in its directory (`cwd`), with
 * the root form beside them (`npm test --prefix web`). A workspace root without a test script of its
 * own gets the manager's way of running every package's tests (`npm run test --workspaces --if-present`).
 *
 * The manager comes from the `packageManager` field, else the lockfile, else npm (a workspace package
 * takes the root's). Installs are frozen when locked (`npm ci`, `pnpm install --frozen-lockfile`,
 * `yarn install --frozen-lockfile` or `--immutable` for Yarn 2+), `npm install` without a lockfile,
 * always with lifecycle scripts off; a workspace package is installed by the root.
 */
export async function nodeFindings(repository: Repository): Promise<NodeFindings> {
  const findings: NodeFindings = {
    candidates: [],
    skipped: [],
    packageManager: undefined,
    scripts: new Map(),
  };
  const root = await nodeProject(repository, '', undefined);
  const members = root ? workspaceMembers(repository, root.workspaces) : [];
  const memberSet = new Set(members);
  const others = firstLevelDirectories(repository).filter(
    (directory) => !memberSet.has(directory) && repository.has.has(inScope(directory, 'package.json')),
  );
  const projects: NodeProject[] = [];
  if (root) projects.push(root);
  for (const scope of [...members, ...others]) {
    const inWorkspace = memberSet.has(scope) || root?.workspacesDeclaredIn !== undefined;
    const project = await nodeProject(repository, scope, inWorkspace ? root : undefined);
    if (project) projects.push(project);
  }
  for (const project of projects) {
    findings.scripts.set(project.scope, {
      manifest: project.manifest,
      names: new Set(Object.keys(project.scripts)),
    });
  }
  if (root) {
    findings.packageManager = {
      name: root.manager,
      ...(root.managerVersion ? { version: root.managerVersion } : {}),
      declaredIn: root.managerVersion ? root.manifest : (root.lockfile ?? root.manifest),
    };
  }
  for (const project of projects) {
    // A package without its own lockfile under a workspace root is installed, and run, by the root.
    const member =
      project.scope !== '' &&
      !project.lockfile &&
      root !== undefined &&
      root.workspacesDeclaredIn !== undefined;
    if (!member) findings.candidates.push(installCandidate(project));
    findings.candidates.push(...scriptCandidates(project));
  }
  const aggregate =
    root &&
    workspaceTestCandidate(
      root,
      projects.filter((project) => memberSet.has(project.scope)),
    );
  if (aggregate) findings.candidates.push(aggregate);
  return findings;
}

async function nodeProject(
  repository: Repository,
  scope: string,
  workspaceRoot: NodeProject | undefined,
): Promise<NodeProject | undefined> {
  const manifest = inScope(scope, 'package.json');
  if (!repository.has.has(manifest)) return undefined;
  const text = await readRepositoryText(repository.root, manifest);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    // An unreadable manifest declares nothing Gantry could run with confidence.
    return undefined;
  }
  if (!isRecord(parsed) || text === undefined) return undefined;
  const declared = typeof parsed.packageManager === 'string' ? parsed.packageManager : '';
  const declaredMatch = /^(npm|pnpm|yarn)@(\d+[^+\s]*)?/.exec(declared);
  const lock = LOCKFILES.find(([name]) => repository.has.has(inScope(scope, name)));
  const manager =
    (declaredMatch?.[1] as NodeManager | undefined) ?? lock?.[1] ?? workspaceRoot?.manager ?? 'npm';
  const version = declaredMatch?.[2];
  const yarnMajor = declaredMatch?.[1] === 'yarn' && version ? Number.parseInt(version, 10) : undefined;
  const lockfile = LOCKFILES.find(
    ([name, owner]) => owner === manager && repository.has.has(inScope(scope, name)),
  )?.[0];
  const { globs, declaredIn } = await workspaceGlobs(repository, scope, parsed);
  return {
    scope,
    manifest,
    text,
    scripts: isRecord(parsed.scripts) ? parsed.scripts : {},
    manager,
    managerVersion: version,
    lockfile: lockfile ? inScope(scope, lockfile) : undefined,
    workspaces: globs,
    workspacesDeclaredIn: declaredIn,
    yarnBerry:
      yarnMajor !== undefined
        ? yarnMajor >= 2
        : (workspaceRoot?.yarnBerry ?? false) ||
          repository.has.has(inScope(scope, '.yarnrc.yml')) ||
          repository.has.has('.yarnrc.yml'),
    name: typeof parsed.name === 'string' ? parsed.name : undefined,
  };
}

async function workspaceGlobs(
  repository: Repository,
  scope: string,
  manifest: Record<string, unknown>,
): Promise<{ globs: string[]; declaredIn: string | undefined }> {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const field = isRecord(manifest.workspaces) ? manifest.workspaces.packages : manifest.workspaces;
  if (field !== undefined) return { globs: strings(field), declaredIn: inScope(scope, 'package.json') };
  const pnpmFile = inScope(scope, 'pnpm-workspace.yaml');
  if (!repository.has.has(pnpmFile)) return { globs: [], declaredIn: undefined };
  const text = await readRepositoryText(repository.root, pnpmFile);
  try {
    const parsed: unknown = parseYaml(text ?? '');
    return { globs: isRecord(parsed) ? strings(parsed.packages) : [], declaredIn: pnpmFile };
  } catch {
    return { globs: [], declaredIn: pnpmFile };
  }
}

/**
 * The directories the workspace globs name that hold a package.json, at any depth, minus the
 * negated globs (`!packages/legacy`), in path order.
 *
 * @example
 * workspaceMembers(repository, ['packages/*', 'apps/**', '!apps/old']); // ['apps/web', 'apps/web/admin', 'packages/core']
 */
export function workspaceMembers(repository: Repository, globs: readonly string[]): string[] {
  const tidy = (glob: string) => normalizeScope(glob.replace(/\/\*\*$/, '/**')) ?? '';
  const included = globs
    .filter((glob) => !glob.startsWith('!'))
    .map(tidy)
    .filter(Boolean);
  const excluded = globs
    .filter((glob) => glob.startsWith('!'))
    .map((glob) => tidy(glob.slice(1)))
    .filter(Boolean);
  if (included.length === 0) return [];
  const isIncluded = picomatch(included);
  const isExcluded = excluded.length ? picomatch(excluded) : () => false;
  return [...repository.directories]
    .filter(
      (directory) =>
        !directory.split('/').includes('node_modules') &&
        repository.has.has(`${directory}/package.json`) &&
        isIncluded(directory) &&
        !isExcluded(directory),
    )
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function installCandidate(project: NodeProject): Candidate {
  const args = installArgs(project);
  // The setup phase runs installs from the root, so an install's argv is always the root form.
  return candidate(
    {
      ecosystem: project.manager,
      kind: 'install',
      argv: rootForm(project, args).rootArgv ?? [project.manager, ...args],
      declaredIn: project.manifest,
      source: project.lockfile ? 'manifest' : 'convention',
      confidence: project.lockfile ? 0.9 : 0.7,
      needsNetwork: true,
      ...(project.lockfile ? {} : { note: 'no lockfile: dependencies resolve afresh' }),
    },
    project.lockfile ? `${project.manifest} with ${project.lockfile}` : `${project.manifest} (no lockfile)`,
  );
}

function installArgs(project: NodeProject): string[] {
  const { manager } = project;
  const scriptsOff = manager === 'yarn' && project.yarnBerry ? YARN_BERRY_SCRIPTS_OFF : IGNORE_SCRIPTS;
  if (!project.lockfile) return ['install', scriptsOff];
  if (manager === 'npm') return ['ci', scriptsOff];
  if (manager === 'pnpm') return ['install', '--frozen-lockfile', scriptsOff];
  return ['install', project.yarnBerry ? '--immutable' : '--frozen-lockfile', scriptsOff];
}

function rootForm(project: NodeProject, args: readonly string[]): { rootArgv?: string[] } {
  if (!project.scope) return {};
  const { manager, scope } = project;
  if (manager === 'npm') return { rootArgv: ['npm', ...args, '--prefix', scope] };
  if (manager === 'pnpm') return { rootArgv: ['pnpm', '--dir', scope, ...args] };
  return { rootArgv: ['yarn', '--cwd', scope, ...args] };
}

function scriptCandidates(project: NodeProject): Candidate[] {
  const found: Candidate[] = [];
  const scriptsAt = project.text.search(/"scripts"\s*:/);
  for (const [kind, names] of SCRIPTS) {
    const name = names.find((script) => usableScript(project.scripts[script]));
    if (!name) continue;
    const args = kind === 'test' && name === 'test' ? ['test'] : ['run', name];
    const line = lineOf(
      project.text,
      new RegExp(`"${name.replace(/[.*+?^${}()|[\]\\:]/g, '\\$&')}"\\s*:`),
      Math.max(scriptsAt, 0),
    );
    found.push(
      candidate(
        {
          ecosystem: project.manager,
          kind,
          argv: [project.manager, ...args],
          cwd: project.scope,
          ...rootForm(project, args),
          declaredIn: project.manifest,
          ...(line ? { line } : {}),
          source: 'manifest',
          confidence: 0.95,
        },
        `${project.manifest} scripts.${name}`,
      ),
    );
  }
  return found;
}

function usableScript(script: unknown): boolean {
  // npm init's placeholder declares no test.
  return typeof script === 'string' && script.trim() !== '' && !/no test specified/.test(script);
}

function workspaceTestCandidate(root: NodeProject, members: readonly NodeProject[]): Candidate | undefined {
  if (usableScript(root.scripts.test) || !root.workspacesDeclaredIn) return undefined;
  const tested = members.filter((member) => usableScript(member.scripts.test));
  if (tested.length === 0) return undefined;
  let argv: string[];
  if (root.manager === 'npm') argv = ['npm', 'run', 'test', '--workspaces', '--if-present'];
  else if (root.manager === 'pnpm') argv = ['pnpm', '--recursive', 'run', 'test'];
  else if (root.yarnBerry) argv = ['yarn', 'workspaces', 'foreach', '--all', 'run', 'test'];
  // Yarn 1 fails on a package without the script, so it runs all only when all have one.
  else if (tested.length === members.length) argv = ['yarn', 'workspaces', 'run', 'test'];
  else return undefined;
  const line = lineOf(root.text, /"workspaces"\s*:/);
  const declaredIn = root.workspacesDeclaredIn;
  const names = tested.map((member) => member.scope);
  return candidate(
    {
      ecosystem: root.manager,
      kind: 'test',
      argv,
      declaredIn,
      ...(line && declaredIn === root.manifest ? { line } : {}),
      source: 'manifest',
      confidence: 0.9,
      note: `runs scripts.test of the workspace packages ${names.join(', ')}`,
    },
    `${declaredIn} workspaces (scripts.test in ${names.length === 1 ? names[0] : `${names.length} packages`})`,
  );
}

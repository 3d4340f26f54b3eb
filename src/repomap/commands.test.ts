import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RepositoryCommand } from '../domain/context.js';
import { CapabilityContract, loadCapabilities } from '../policy/capabilities.js';
import { installArgv, makeTargets } from './commands.js';
import { mapRepository } from './map-repository.js';

const created: string[] = [];

async function repositoryWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-commands-'));
  created.push(dir);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}

async function commandsOf(files: Record<string, string>): Promise<RepositoryCommand[]> {
  const dir = await repositoryWith(files);
  return (await mapRepository(dir, { repository: 'acme/fixture' })).commands;
}

/** argv per kind, the shape most assertions care about. */
function argvByKind(commands: RepositoryCommand[]): Array<[string, string[]]> {
  return commands.map((command) => [command.kind, command.argv]);
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const packageJson = (content: object) => JSON.stringify(content, null, 2);

describe('node package managers', () => {
  it('uses npm ci --ignore-scripts with a package-lock.json and lists only the scripts that exist', async () => {
    // Prepare / Act
    const commands = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'vitest run', lint: 'biome check' } }),
      'package-lock.json': '{}',
    });

    // Assess
    expect(commands).toEqual([
      {
        ecosystem: 'npm',
        kind: 'install',
        argv: ['npm', 'ci', '--ignore-scripts'],
        declaredIn: 'package.json',
        needsNetwork: true,
      },
      {
        ecosystem: 'npm',
        kind: 'test',
        argv: ['npm', 'test'],
        declaredIn: 'package.json',
        needsNetwork: false,
      },
    ]);
  });

  it('uses npm install without a lockfile and finds build and test scripts', async () => {
    const commands = await commandsOf({
      'package.json': packageJson({ scripts: { build: 'tsc', test: 'node --test' } }),
    });

    expect(argvByKind(commands)).toEqual([
      ['install', ['npm', 'install', '--ignore-scripts']],
      ['build', ['npm', 'run', 'build']],
      ['test', ['npm', 'test']],
    ]);
  });

  it("ignores npm init's placeholder test script", async () => {
    const commands = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }),
    });

    expect(argvByKind(commands)).toEqual([['install', ['npm', 'install', '--ignore-scripts']]]);
  });

  it('uses pnpm with a frozen lockfile when pnpm-lock.yaml is present', async () => {
    const commands = await commandsOf({
      'package.json': packageJson({ scripts: { build: 'tsc', test: 'vitest' } }),
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });

    expect(commands.map((command) => command.ecosystem)).toEqual(['pnpm', 'pnpm', 'pnpm']);
    expect(argvByKind(commands)).toEqual([
      ['install', ['pnpm', 'install', '--frozen-lockfile', '--ignore-scripts']],
      ['build', ['pnpm', 'run', 'build']],
      ['test', ['pnpm', 'test']],
    ]);
  });

  it('uses yarn classic with yarn.lock, and --immutable --mode=skip-build for Yarn 2+', async () => {
    const classic = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'jest' } }),
      'yarn.lock': '# yarn lockfile v1\n',
    });
    const berry = await commandsOf({
      'package.json': packageJson({ packageManager: 'yarn@4.1.0', scripts: { test: 'jest' } }),
      'yarn.lock': '__metadata:\n',
    });

    expect(argvByKind(classic)).toEqual([
      ['install', ['yarn', 'install', '--frozen-lockfile', '--ignore-scripts']],
      ['test', ['yarn', 'test']],
    ]);
    expect(argvByKind(berry)).toEqual([
      ['install', ['yarn', 'install', '--immutable', '--mode=skip-build']],
      ['test', ['yarn', 'test']],
    ]);
  });

  it('lets the packageManager field choose the manager when there is no lockfile', async () => {
    const commands = await commandsOf({
      'package.json': packageJson({ packageManager: 'pnpm@9.1.0', scripts: { test: 'vitest' } }),
    });

    expect(commands.map((command) => [command.ecosystem, command.argv])).toEqual([
      ['pnpm', ['pnpm', 'install', '--ignore-scripts']],
      ['pnpm', ['pnpm', 'test']],
    ]);
  });

  it('runs a first-level package from the root, and leaves workspace members to the root install', async () => {
    const standalone = await commandsOf({
      'web/package.json': packageJson({ scripts: { test: 'vitest' } }),
      'web/package-lock.json': '{}',
    });
    const workspace = await commandsOf({
      'package.json': packageJson({ workspaces: ['api'] }),
      'pnpm-lock.yaml': '',
      'api/package.json': packageJson({ scripts: { test: 'vitest' } }),
    });

    expect(standalone).toEqual([
      {
        ecosystem: 'npm',
        kind: 'install',
        argv: ['npm', 'ci', '--ignore-scripts', '--prefix', 'web'],
        declaredIn: 'web/package.json',
        needsNetwork: true,
      },
      {
        ecosystem: 'npm',
        kind: 'test',
        argv: ['npm', 'test', '--prefix', 'web'],
        declaredIn: 'web/package.json',
        needsNetwork: false,
      },
    ]);
    expect(argvByKind(workspace)).toEqual([
      ['install', ['pnpm', 'install', '--frozen-lockfile', '--ignore-scripts']],
      ['test', ['pnpm', '--dir', 'api', 'test']],
    ]);
  });

  it('declares nothing for a package.json that is not valid JSON', async () => {
    const commands = await commandsOf({ 'package.json': '{ "scripts": ' });

    expect(commands).toEqual([]);
  });
});

describe('pytest', () => {
  it('finds pytest configured in pyproject.toml and installs the project with its test extra', async () => {
    const commands = await commandsOf({
      'pyproject.toml': [
        '[project]',
        'name = "billing"',
        'dependencies = ["requests>=2"]',
        '[project.optional-dependencies]',
        'test = ["pytest-cov"]',
        '[tool.pytest.ini_options]',
        'testpaths = ["tests"]',
      ].join('\n'),
      'src/billing/invoice.py': '',
    });

    expect(commands).toEqual([
      {
        ecosystem: 'pytest',
        kind: 'install',
        argv: ['python3', '-m', 'pip', 'install', '--only-binary', ':all:', '-e', '.[test]'],
        declaredIn: 'pyproject.toml',
        needsNetwork: true,
      },
      {
        ecosystem: 'pytest',
        kind: 'test',
        argv: ['python3', '-m', 'pytest'],
        declaredIn: 'pyproject.toml',
        needsNetwork: false,
      },
    ]);
  });

  it('finds pytest among pyproject dependency groups and Poetry dev dependencies', async () => {
    const groups = await commandsOf({
      'pyproject.toml': '[dependency-groups]\ndev = ["pytest>=8", "ruff"]\n',
    });
    const poetry = await commandsOf({
      'pyproject.toml': '[tool.poetry.group.dev.dependencies]\npytest = "^8.0"\n',
    });
    const unrelated = await commandsOf({
      'pyproject.toml': '[project]\nname = "x"\ndependencies = ["pytest-but-not-really"]\n',
    });

    expect(groups.find((command) => command.kind === 'test')?.declaredIn).toBe('pyproject.toml');
    expect(poetry.find((command) => command.kind === 'test')?.declaredIn).toBe('pyproject.toml');
    expect(unrelated).toEqual([]);
  });

  it('finds pytest.ini and installs each requirements file', async () => {
    const commands = await commandsOf({
      'pytest.ini': '[pytest]\n',
      'requirements.txt': 'flask\n',
      'requirements-dev.txt': 'pytest\n',
      'tests/test_app.py': 'def test_ok(): pass\n',
    });

    expect(commands).toEqual([
      {
        ecosystem: 'pytest',
        kind: 'install',
        argv: ['python3', '-m', 'pip', 'install', '--only-binary', ':all:', '-r', 'requirements-dev.txt'],
        declaredIn: 'requirements-dev.txt',
        needsNetwork: true,
      },
      {
        ecosystem: 'pytest',
        kind: 'install',
        argv: ['python3', '-m', 'pip', 'install', '--only-binary', ':all:', '-r', 'requirements.txt'],
        declaredIn: 'requirements.txt',
        needsNetwork: true,
      },
      {
        ecosystem: 'pytest',
        kind: 'test',
        argv: ['python3', '-m', 'pytest'],
        declaredIn: 'pytest.ini',
        needsNetwork: false,
      },
    ]);
  });

  it('finds pytest from setup.cfg, tox.ini, conftest.py or test files alone', async () => {
    const setupCfg = await commandsOf({
      'setup.cfg': '[metadata]\nname = x\n\n[tool:pytest]\naddopts = -q\n',
    });
    const toxIni = await commandsOf({ 'tox.ini': '[tox]\nenvlist = py312\n[pytest]\nminversion = 8\n' });
    const conftest = await commandsOf({ 'conftest.py': '' });
    const testFiles = await commandsOf({ 'lib/parser.py': '', 'tests/test_parser.py': '' });
    const noPytest = await commandsOf({ 'setup.cfg': '[metadata]\nname = x\n', 'tool.py': '' });

    expect(setupCfg.map((command) => [command.declaredIn, command.argv])).toEqual([
      ['setup.cfg', ['python3', '-m', 'pytest']],
    ]);
    expect(toxIni.map((command) => command.declaredIn)).toEqual(['tox.ini']);
    expect(conftest.map((command) => command.declaredIn)).toEqual(['conftest.py']);
    expect(testFiles.map((command) => [command.declaredIn, command.argv])).toEqual([
      ['tests/test_parser.py', ['python3', '-m', 'pytest']],
    ]);
    expect(noPytest).toEqual([]);
  });

  it('runs a first-level Python project with its directory as the pytest argument', async () => {
    const commands = await commandsOf({
      'service/requirements.txt': 'pytest==8.2\n',
      'service/tests/test_api.py': '',
    });

    expect(argvByKind(commands)).toEqual([
      [
        'install',
        ['python3', '-m', 'pip', 'install', '--only-binary', ':all:', '-r', 'service/requirements.txt'],
      ],
      ['test', ['python3', '-m', 'pytest', 'service']],
    ]);
  });
});

describe('go, Maven, Gradle and make', () => {
  it('builds and tests a Go module, downloading modules when go.sum exists', async () => {
    const withSum = await commandsOf({ 'go.mod': 'module example.com/x\n\ngo 1.22\n', 'go.sum': '' });
    const nested = await commandsOf({ 'svc/go.mod': 'module example.com/svc\n' });

    expect(withSum).toEqual([
      {
        ecosystem: 'go',
        kind: 'install',
        argv: ['go', 'mod', 'download'],
        declaredIn: 'go.mod',
        needsNetwork: true,
      },
      {
        ecosystem: 'go',
        kind: 'build',
        argv: ['go', 'build', './...'],
        declaredIn: 'go.mod',
        needsNetwork: false,
      },
      {
        ecosystem: 'go',
        kind: 'test',
        argv: ['go', 'test', './...'],
        declaredIn: 'go.mod',
        needsNetwork: false,
      },
    ]);
    expect(argvByKind(nested)).toEqual([
      ['build', ['go', '-C', 'svc', 'build', './...']],
      ['test', ['go', '-C', 'svc', 'test', './...']],
    ]);
  });

  it('uses mvn, or ./mvnw when the wrapper is present', async () => {
    const plain = await commandsOf({ 'pom.xml': '<project/>' });
    const wrapped = await commandsOf({ 'pom.xml': '<project/>', mvnw: '#!/bin/sh\n' });

    expect(argvByKind(plain)).toEqual([
      ['install', ['mvn', '-q', 'dependency:go-offline']],
      ['build', ['mvn', '-q', '-DskipTests', 'package']],
      ['test', ['mvn', '-q', 'test']],
    ]);
    expect(plain[0]?.needsNetwork).toBe(true);
    expect(wrapped.find((command) => command.kind === 'test')).toEqual({
      ecosystem: 'maven',
      kind: 'test',
      argv: ['./mvnw', '-q', 'test'],
      declaredIn: 'pom.xml',
      needsNetwork: false,
    });
  });

  it('treats first-level poms as modules of a root pom', async () => {
    const commands = await commandsOf({ 'pom.xml': '<project/>', 'core/pom.xml': '<project/>' });

    expect(commands.map((command) => command.declaredIn)).toEqual(['pom.xml', 'pom.xml', 'pom.xml']);
  });

  it('uses ./gradlew when present, gradle otherwise', async () => {
    const wrapped = await commandsOf({ 'build.gradle.kts': 'plugins { java }\n', gradlew: '#!/bin/sh\n' });
    const plain = await commandsOf({ 'app/build.gradle': "apply plugin: 'java'\n" });

    expect(wrapped).toEqual([
      {
        ecosystem: 'gradle',
        kind: 'build',
        argv: ['./gradlew', 'assemble'],
        declaredIn: 'build.gradle.kts',
        needsNetwork: false,
      },
      {
        ecosystem: 'gradle',
        kind: 'test',
        argv: ['./gradlew', 'test'],
        declaredIn: 'build.gradle.kts',
        needsNetwork: false,
      },
    ]);
    expect(argvByKind(plain)).toEqual([
      ['build', ['gradle', '-p', 'app', 'assemble']],
      ['test', ['gradle', '-p', 'app', 'test']],
    ]);
  });

  it('runs make test and make build only for targets the Makefile defines', async () => {
    const both = await commandsOf({
      Makefile: '.PHONY: test build\nGO ?= go\nbuild: deps\n\t$(GO) build\ntest:\n\t$(GO) test ./...\n',
    });
    const testOnly = await commandsOf({ 'tools/makefile': 'test::\n\t./run-tests\nbuild := fast\n' });
    const none = await commandsOf({ GNUmakefile: 'lint:\n\ttrue\n# test:\n' });

    expect(both).toEqual([
      {
        ecosystem: 'make',
        kind: 'build',
        argv: ['make', 'build'],
        declaredIn: 'Makefile',
        needsNetwork: false,
      },
      {
        ecosystem: 'make',
        kind: 'test',
        argv: ['make', 'test'],
        declaredIn: 'Makefile',
        needsNetwork: false,
      },
    ]);
    expect(argvByKind(testOnly)).toEqual([['test', ['make', '-C', 'tools', 'test']]]);
    expect(none).toEqual([]);
  });

  it('keeps make targets apart from variable assignments', () => {
    const targets = makeTargets('CC := gcc\nX ::= y\nall test: build\n\techo test: not a target\n');

    expect([...targets].sort()).toEqual(['all', 'test']);
  });
});

describe('installArgv: lifecycle scripts under the capability contract', () => {
  const scriptsOff = { setup: { lifecycleScripts: false } };
  const scriptsOn = { setup: { lifecycleScripts: true } };

  async function installsOf(files: Record<string, string>): Promise<RepositoryCommand[]> {
    return (await commandsOf(files)).filter((command) => command.kind === 'install');
  }

  it('keeps every shipped contract at no lifecycle scripts', async () => {
    // Prepare
    const registry = await loadCapabilities();
    const [install] = await installsOf({ 'package.json': '{}', 'package-lock.json': '{}' });

    // Act
    const argvs = registry.list().map((contract) => installArgv(install as RepositoryCommand, contract));

    // Assess
    expect(registry.list().map((contract) => contract.setup.lifecycleScripts)).not.toContain(true);
    expect(new Set(argvs.map((argv) => argv.join(' ')))).toEqual(new Set(['npm ci --ignore-scripts']));
  });

  it('takes the scripts-off flags out only when the contract allows scripts', async () => {
    const installs = [
      ...(await installsOf({ 'web/package.json': '{}', 'web/package-lock.json': '{}' })),
      ...(await installsOf({ 'package.json': '{}', 'pnpm-lock.yaml': '' })),
      ...(await installsOf({ 'package.json': '{"packageManager":"yarn@4.1.0"}', 'yarn.lock': '' })),
      ...(await installsOf({ 'pytest.ini': '', 'requirements.txt': 'flask\n', 'setup.py': '' })),
    ];

    expect(installs.map((install) => installArgv(install, scriptsOff))).toEqual(
      installs.map((install) => install.argv),
    );
    expect(installs.map((install) => installArgv(install, scriptsOn))).toEqual([
      ['npm', 'ci', '--prefix', 'web'],
      ['pnpm', 'install', '--frozen-lockfile'],
      ['yarn', 'install', '--immutable'],
      ['python3', '-m', 'pip', 'install', '-r', 'requirements.txt'],
      ['python3', '-m', 'pip', 'install', '-e', '.'],
    ]);
  });

  it('puts the flags back into an install argv recorded without them', () => {
    const recorded = (ecosystem: RepositoryCommand['ecosystem'], argv: string[]): RepositoryCommand => ({
      ecosystem,
      kind: 'install',
      argv,
      declaredIn: 'package.json',
      needsNetwork: true,
    });

    expect(installArgv(recorded('npm', ['npm', 'ci']), scriptsOff)).toEqual([
      'npm',
      'ci',
      '--ignore-scripts',
    ]);
    expect(installArgv(recorded('yarn', ['yarn', 'install', '--immutable']), scriptsOff)).toEqual([
      'yarn',
      'install',
      '--immutable',
      '--mode=skip-build',
    ]);
    expect(
      installArgv(recorded('pytest', ['python3', '-m', 'pip', 'install', '-r', 'r.txt']), scriptsOff),
    ).toEqual(['python3', '-m', 'pip', 'install', '-r', 'r.txt', '--only-binary', ':all:']);
    expect(installArgv(recorded('go', ['go', 'mod', 'download']), scriptsOff)).toEqual([
      'go',
      'mod',
      'download',
    ]);
    expect(() => installArgv({ ...recorded('npm', ['npm', 'test']), kind: 'test' }, scriptsOff)).toThrow(
      /takes an install command, not test/,
    );
  });

  it('reads setup.lifecycleScripts from a contract, false when absent, and rejects unknown setup keys', async () => {
    const registry = await loadCapabilities();
    const { setup: _setup, ...withoutSetup } = registry.get('low-risk-bugfix');

    const absent = CapabilityContract.parse(withoutSetup);
    const allowed = CapabilityContract.parse({ ...withoutSetup, setup: { lifecycleScripts: true } });
    const typo = CapabilityContract.safeParse({ ...withoutSetup, setup: { lifecycleScript: true } });

    expect(absent.setup).toEqual({ lifecycleScripts: false });
    expect(allowed.setup.lifecycleScripts).toBe(true);
    expect(typo.success).toBe(false);
  });
});

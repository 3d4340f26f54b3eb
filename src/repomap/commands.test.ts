import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RepositoryCommand, RepositoryContext } from '../domain/context.js';
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

async function mapOf(files: Record<string, string>): Promise<RepositoryContext> {
  return mapRepository(await repositoryWith(files), { repository: 'acme/fixture' });
}

async function commandsOf(files: Record<string, string>): Promise<RepositoryCommand[]> {
  return (await mapOf(files)).commands;
}

/** `kind: argv (in cwd)`, the shape most assertions care about. */
function lines(commands: readonly RepositoryCommand[]): string[] {
  return commands.map(
    (command) => `${command.kind}: ${command.argv.join(' ')}${command.cwd ? ` (in ${command.cwd})` : ''}`,
  );
}

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const packageJson = (content: object) => JSON.stringify(content, null, 2);

describe('node package managers', () => {
  it('uses npm ci --ignore-scripts with a package-lock.json, with source, line and confidence', async () => {
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
        source: 'manifest',
        confidence: 0.9,
        needsNetwork: true,
      },
      {
        ecosystem: 'npm',
        kind: 'test',
        argv: ['npm', 'test'],
        declaredIn: 'package.json',
        line: 3,
        source: 'manifest',
        confidence: 0.95,
        needsNetwork: false,
      },
      {
        ecosystem: 'npm',
        kind: 'lint',
        argv: ['npm', 'run', 'lint'],
        declaredIn: 'package.json',
        line: 4,
        source: 'manifest',
        confidence: 0.95,
        needsNetwork: false,
      },
    ]);
  });

  it('installs without a lockfile, and reads build, typecheck and format scripts', async () => {
    const commands = await commandsOf({
      'package.json': packageJson({
        scripts: {
          build: 'tsc',
          test: 'node --test',
          'type-check': 'tsc --noEmit',
          format: 'x',
          'format:check': 'y',
        },
      }),
    });

    expect(lines(commands)).toEqual([
      'install: npm install --ignore-scripts',
      'build: npm run build',
      'test: npm test',
      'typecheck: npm run type-check',
      'format: npm run format:check',
    ]);
    expect(commands[0]?.source).toBe('convention');
  });

  it("ignores npm init's placeholder test script", async () => {
    const commands = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }),
    });

    expect(commands.map((command) => command.kind)).toEqual(['install']);
  });

  it('uses pnpm with a frozen lockfile, yarn classic, and --immutable --mode=skip-build for Yarn 2+', async () => {
    const pnpm = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'x' } }),
      'pnpm-lock.yaml': '',
    });
    const classic = await commandsOf({
      'package.json': packageJson({ scripts: { test: 'x' } }),
      'yarn.lock': '',
    });
    const berry = await mapOf({
      'package.json': packageJson({ packageManager: 'yarn@4.1.0' }),
      'yarn.lock': '',
    });

    expect(lines(pnpm)).toEqual([
      'install: pnpm install --frozen-lockfile --ignore-scripts',
      'test: pnpm test',
    ]);
    expect(lines(classic)).toEqual([
      'install: yarn install --frozen-lockfile --ignore-scripts',
      'test: yarn test',
    ]);
    expect(lines(berry.commands)).toEqual(['install: yarn install --immutable --mode=skip-build']);
    expect(berry.packageManager).toEqual({ name: 'yarn', version: '4.1.0', declaredIn: 'package.json' });
  });

  it('runs a first-level package in its directory, with its root form, and installs it from the root', async () => {
    const commands = await commandsOf({
      'web/package.json': packageJson({ scripts: { test: 'jest' } }),
      'web/package-lock.json': '{}',
    });

    expect(lines(commands)).toEqual([
      'install: npm ci --ignore-scripts --prefix web',
      'test: npm test (in web)',
    ]);
    expect(commands[1]?.rootArgv).toEqual(['npm', 'test', '--prefix', 'web']);
  });

  it('declares nothing for a package.json that is not valid JSON', async () => {
    expect(await commandsOf({ 'package.json': '{ not json' })).toEqual([]);
  });
});

describe('workspaces', () => {
  const member = (name: string, scripts: object = { test: 'vitest run' }) => packageJson({ name, scripts });

  it('expands npm workspace globs at any depth, and runs them all from a root without a test script', async () => {
    // Prepare
    const files = {
      'package.json': packageJson({ private: true, workspaces: ['packages/**', '!packages/legacy'] }),
      'package-lock.json': '{}',
      'packages/core/package.json': member('@acme/core'),
      'packages/tools/cli/package.json': member('@acme/cli', { test: 'vitest run', lint: 'eslint .' }),
      'packages/legacy/package.json': member('@acme/legacy'),
    };

    // Act
    const context = await mapOf(files);

    // Assess
    expect(lines(context.commands)).toEqual([
      'install: npm ci --ignore-scripts',
      'test: npm run test --workspaces --if-present',
      'test: npm test (in packages/core)',
      'test: npm test (in packages/tools/cli)',
      'lint: npm run lint (in packages/tools/cli)',
    ]);
    expect(context.selection?.test?.reason).toMatch(
      /^package\.json workspaces \(scripts\.test in 2 packages\) \(confidence 0\.9\); runs scripts\.test of the workspace packages packages\/core, packages\/tools\/cli/,
    );
    expect(context.commands.find((command) => command.cwd === 'packages/tools/cli')?.rootArgv).toEqual([
      'npm',
      'test',
      '--prefix',
      'packages/tools/cli',
    ]);
  });

  it('reads pnpm-workspace.yaml and prefers the root test script when there is one', async () => {
    const context = await mapOf({
      'package.json': packageJson({ scripts: { test: 'pnpm -r test' } }),
      'pnpm-lock.yaml': '',
      'pnpm-workspace.yaml': "packages:\n  - 'apps/*/*'\n",
      'apps/web/site/package.json': member('site'),
    });

    expect(lines(context.commands)).toEqual([
      'install: pnpm install --frozen-lockfile --ignore-scripts',
      'test: pnpm test',
      'test: pnpm test (in apps/web/site)',
    ]);
    expect(context.selection?.test?.index).toBe(1);
  });

  it('uses yarn workspaces {packages}, running all only when Yarn 1 finds the script in every package', async () => {
    const all = await commandsOf({
      'package.json': packageJson({ workspaces: { packages: ['libs/*/*'] } }),
      'yarn.lock': '',
      'libs/a/one/package.json': member('one'),
      'libs/b/two/package.json': member('two'),
    });
    const some = await mapOf({
      'package.json': packageJson({ workspaces: ['libs/*/*'] }),
      'yarn.lock': '',
      'libs/a/one/package.json': member('one'),
      'libs/b/two/package.json': member('two', { build: 'tsc' }),
    });

    expect(lines(all).filter((line) => line.startsWith('test'))).toEqual([
      'test: yarn workspaces run test',
      'test: yarn test (in libs/a/one)',
      'test: yarn test (in libs/b/two)',
    ]);
    expect(some.selection?.test?.argv).toEqual(['yarn', 'test']);
    expect(some.selection?.test?.cwd).toBe('libs/a/one');
    expect(some.selection?.test?.rootArgv).toEqual(['yarn', '--cwd', 'libs/a/one', 'test']);
  });
});

describe('Python', () => {
  it('finds pytest in pyproject.toml and installs the project with its test extra', async () => {
    const context = await mapOf({
      'pyproject.toml':
        '[project]\nname = "x"\n[project.optional-dependencies]\ntest = ["pytest"]\n\n[tool.pytest.ini_options]\naddopts = "-q"\n',
      'src/x/__init__.py': '',
      'tests/test_x.py': '',
    });

    expect(lines(context.commands)).toEqual([
      'install: python3 -m pip install --only-binary :all: -e .[test]',
      'test: python3 -m pytest',
    ]);
    expect(context.commands[0]).toMatchObject({ ecosystem: 'pip', needsNetwork: true });
    expect(context.commands[1]).toMatchObject({
      declaredIn: 'pyproject.toml',
      line: 6,
      note: expect.stringMatching(/src layout/),
    });
    expect(context.packageManager).toEqual({ name: 'pip', declaredIn: 'pyproject.toml' });
    expect(context.testFolders).toEqual(['tests']);
  });

  it('runs a uv project with uv run, selecting the dependency group that holds pytest', async () => {
    const context = await mapOf({
      'pyproject.toml':
        '[project]\nname = "x"\n[dependency-groups]\ntest = ["pytest>=8"]\n[build-system]\nrequires = ["hatchling"]\n',
      'uv.lock': '',
    });

    expect(lines(context.commands)).toEqual([
      'install: python3 -m pip install --only-binary :all: -e .',
      'test: uv run --group test pytest',
      'test: python3 -m pytest',
    ]);
    expect(context.packageManager).toEqual({ name: 'uv', declaredIn: 'uv.lock' });
  });

  it('runs a Poetry project with poetry run', async () => {
    const context = await mapOf({
      'pyproject.toml': '[tool.poetry]\nname = "x"\n[tool.poetry.group.dev.dependencies]\npytest = "^8"\n',
      'poetry.lock': '',
    });

    expect(context.selection?.test?.argv).toEqual(['poetry', 'run', 'pytest']);
    expect(context.packageManager?.name).toBe('poetry');
  });

  it('reads tox envlist and lint environments, and requirements installs', async () => {
    const commands = await commandsOf({
      'tox.ini':
        '[tox]\nenvlist = py311, lint\n\n[testenv]\ncommands = pytest\n\n[testenv:lint]\ncommands = ruff check .\n',
      'requirements.txt': 'pytest\n',
    });

    expect(lines(commands)).toEqual([
      'install: python3 -m pip install --only-binary :all: -r requirements.txt',
      'test: python3 -m pytest',
      'test: tox',
      'lint: tox -e lint',
    ]);
    expect(commands.find((command) => command.argv[0] === 'tox')).toMatchObject({
      declaredIn: 'tox.ini',
      line: 2,
    });
  });

  it('reads nox sessions', async () => {
    const commands = await commandsOf({
      'noxfile.py':
        'import nox\n\n@nox.session(python=["3.12"])\ndef tests(session):\n    session.run("pytest")\n\n@nox.session\ndef lint(session):\n    pass\n',
    });

    expect(lines(commands)).toEqual(['test: nox -s tests', 'lint: nox -s lint']);
    expect(commands[0]?.line).toBe(3);
  });

  it('guesses pytest from test files alone, with a low confidence', async () => {
    const context = await mapOf({ 'requirements.txt': 'flask\n', 'test_app.py': '' });

    expect(context.selection?.test).toMatchObject({ argv: ['python3', '-m', 'pytest'] });
    expect(context.commands.find((command) => command.kind === 'test')).toMatchObject({
      source: 'convention',
      confidence: 0.4,
    });
  });

  it('runs a first-level Python project in its directory', async () => {
    const commands = await commandsOf({ 'api/pytest.ini': '', 'api/requirements.txt': 'pytest\n' });

    expect(lines(commands)).toEqual([
      'install: python3 -m pip install --only-binary :all: -r api/requirements.txt',
      'test: python3 -m pytest (in api)',
    ]);
    expect(commands[1]?.rootArgv).toEqual(['python3', '-m', 'pytest', 'api']);
  });
});

describe('Go, Cargo, Maven, Gradle, CMake and make', () => {
  it('tests, vets and downloads every Go module', async () => {
    const commands = await commandsOf({
      'go.mod': 'module example.com/a\n',
      'tools/gen/go.mod': 'module example.com/gen\n',
      'vendor/x/go.mod': '',
    });

    expect(lines(commands)).toEqual([
      'install: go mod download',
      'install: go -C tools/gen mod download',
      'build: go build ./...',
      'build: go build ./... (in tools/gen)',
      'test: go test ./...',
      'test: go test ./... (in tools/gen)',
      'lint: go vet ./...',
      'lint: go vet ./... (in tools/gen)',
    ]);
  });

  it('tests a Cargo workspace with --workspace, lints with clippy and checks the format', async () => {
    const context = await mapOf({
      'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n',
      'crates/core/Cargo.toml': '[package]\nname = "core"\n',
    });

    expect(lines(context.commands)).toEqual([
      'install: cargo fetch',
      'build: cargo build --workspace',
      'test: cargo test --workspace',
      'lint: cargo clippy --workspace',
      'format: cargo fmt --all --check',
    ]);
    expect(context.commands[2]).toMatchObject({ declaredIn: 'Cargo.toml', line: 1 });
    expect(context.packageManager).toEqual({ name: 'cargo', declaredIn: 'Cargo.toml' });
    expect(context.toolchains).toContain('rust');
  });

  it('runs a Maven multi-module build offline from the root, with the wrapper when present', async () => {
    const commands = await commandsOf({
      'pom.xml':
        '<project>\n  <modules>\n    <module>core</module>\n    <module>app</module>\n  </modules>\n</project>\n',
      mvnw: '',
      'core/pom.xml': '<project/>',
      'app/pom.xml': '<project/>',
    });

    expect(lines(commands)).toEqual([
      'install: ./mvnw -B dependency:go-offline',
      'build: ./mvnw -B -o -DskipTests package',
      'test: ./mvnw -B -o test',
    ]);
    expect(commands[0]?.needsNetwork).toBe(true);
    expect(commands[2]).toMatchObject({ line: 2, note: 'multi-module build: core, app' });
  });

  it('runs jvmTest for Kotlin Multiplatform, allTests without a JVM target, testDebugUnitTest for Android', async () => {
    const kmp = await commandsOf({
      'settings.gradle.kts': 'include(":shared")\n',
      gradlew: '',
      'shared/build.gradle.kts':
        'plugins {\n  kotlin("multiplatform")\n}\nkotlin {\n  jvm()\n  iosArm64()\n}\n',
    });
    const native = await commandsOf({
      'build.gradle.kts': 'plugins { id("org.jetbrains.kotlin.multiplatform") }\nkotlin { linuxX64() }\n',
    });
    const android = await commandsOf({
      'app/build.gradle': "plugins { id 'com.android.application' }\n",
      'settings.gradle': '',
    });
    const plain = await commandsOf({ 'build.gradle': "plugins { id 'java' }\n" });

    expect(lines(kmp)).toEqual(['build: ./gradlew assemble', 'test: ./gradlew jvmTest']);
    expect(kmp[1]?.declaredIn).toBe('shared/build.gradle.kts');
    expect(lines(native).at(-1)).toBe('test: gradle allTests');
    expect(lines(android).at(-1)).toBe('test: gradle testDebugUnitTest');
    expect(lines(plain).at(-1)).toBe('test: gradle test');
  });

  it('configures, builds and runs ctest for a CMake project with enable_testing()', async () => {
    const commands = await commandsOf({
      'CMakeLists.txt':
        'cmake_minimum_required(VERSION 3.20)\nproject(x)\nenable_testing()\nadd_test(NAME a COMMAND a)\n',
    });

    expect(lines(commands)).toEqual([
      'build: cmake -S . -B build',
      'build: cmake --build build',
      'test: ctest --test-dir build',
    ]);
    expect(commands[2]).toMatchObject({
      line: 3,
      prerequisites: [
        ['cmake', '-S', '.', '-B', 'build'],
        ['cmake', '--build', 'build'],
      ],
    });
  });

  it('runs make test (or check), lint and fmt only for targets the Makefile defines', async () => {
    const commands = await commandsOf({
      Makefile: 'build:\n\tcc x.c\n\ncheck:\n\t./run\n\nlint:\n\ttrue\nfmt:\n\ttrue\n',
    });
    const none = await commandsOf({ GNUmakefile: 'all:\n\ttrue\n# test:\n', Makefile: 'test:\n\ttrue\n' });

    expect(lines(commands)).toEqual([
      'build: make build',
      'test: make check',
      'lint: make lint',
      'format: make fmt',
    ]);
    expect(commands[1]).toMatchObject({ source: 'makefile', declaredIn: 'Makefile', line: 4 });
    expect(none).toEqual([]);
  });

  it('reads the commands of justfile recipes', async () => {
    const commands = await commandsOf({
      justfile: 'test:\n    cargo test --all-features\n\nlint:\n    cargo clippy -- -D warnings\n',
    });

    expect(lines(commands)).toEqual(['test: cargo test --all-features', 'lint: cargo clippy -- -D warnings']);
    expect(commands[0]).toMatchObject({ source: 'makefile', declaredIn: 'justfile', line: 2 });
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

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineeringRequest, type RepositoryConfig } from '../domain/request.js';
import { type CapabilityContract, defaultCapabilitiesDir, parseCapabilityContract } from './capabilities.js';
import {
  effectiveRepositoryConfig,
  focusedTestArgv,
  parseRepositoryConfigFile,
  RepositoryConfigError,
  repositoryConfigFileIn,
} from './repository-config.js';

const origin = '.gantry.yaml@4f2c1e0';

async function contract(editablePaths?: string[]): Promise<CapabilityContract> {
  const text = await readFile(path.join(defaultCapabilitiesDir, 'low-risk-bugfix.yaml'), 'utf8');
  const parsed = parseCapabilityContract(text, 'low-risk-bugfix.yaml');
  return editablePaths ? { ...parsed, editablePaths } : parsed;
}

function request(
  repositoryConfig: RepositoryConfig | undefined,
  source: EngineeringRequest['source'] = 'file',
): EngineeringRequest {
  return EngineeringRequest.parse({
    id: 'req-1',
    source,
    repository: { name: 'billing-service' },
    requester: 'ana',
    title: 'Fix rounding',
    receivedAt: '2026-11-21T10:00:00.000Z',
    ...(repositoryConfig ? { repositoryConfig } : {}),
  });
}

function configError(act: () => unknown): RepositoryConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof RepositoryConfigError) return error;
    throw error;
  }
  throw new Error('expected a RepositoryConfigError');
}

describe('parseRepositoryConfigFile', () => {
  it('reads every field, splitting command lines as sh would', () => {
    // Prepare
    const text = `
test: npx vitest run --reporter "dot"
focusedTest: [npx, vitest, run, "{files}"]
setup:
  - npm run build
  - [make, generate]
env: { NODE_ENV: test, TZ: UTC }
toolchain: { node: "20.11", python: null }
knownFailing:
  - { test: "e2e/**", reason: needs a browser }
editable: ["src/**"]
forbidden: ["src/generated/**"]
strict: true
`;

    // Act
    const config = parseRepositoryConfigFile(text, origin);

    // Assess
    expect(config).toEqual({
      test: ['npx', 'vitest', 'run', '--reporter', 'dot'],
      focusedTest: { argv: ['npx', 'vitest', 'run', '{files}'], placeholder: '{files}' },
      setup: [
        ['npm', 'run', 'build'],
        ['make', 'generate'],
      ],
      env: { NODE_ENV: 'test', TZ: 'UTC' },
      toolchains: { kinds: ['node', 'python'], versions: { node: '20.11' } },
      knownFailing: [{ test: 'e2e/**', reason: 'needs a browser' }],
      editable: ['src/**'],
      forbidden: ['src/generated/**'],
      strict: true,
    });
  });

  it('takes an empty file as no configuration and a toolchain list without versions', () => {
    // Act
    const empty = parseRepositoryConfigFile('', origin);
    const listed = parseRepositoryConfigFile('toolchain: [go, c]\n', origin);

    // Assess
    expect(empty).toEqual({});
    expect(listed.toolchains).toEqual({ kinds: ['go', 'c'], versions: {} });
  });

  it('rejects an unknown key, naming the file, the key and the settings that exist', () => {
    // Act
    const error = configError(() => parseRepositoryConfigFile('tset: npm test\n', origin));

    // Assess
    expect(error.origin).toBe(origin);
    expect(error.issues).toEqual([{ key: 'tset', message: expect.stringContaining('unknown key') }]);
    expect(error.message).toContain('.gantry.yaml@4f2c1e0');
    expect(error.message).toContain('the settings are test, focusedTest, setup');
    expect(error.hint).toContain('docs/repository-config.md');
  });

  it('names unknown keys inside a known-failing entry and an unknown toolchain', () => {
    // Act
    const entry = configError(() =>
      parseRepositoryConfigFile('knownFailing: [{ test: a, reason: b, because: c }]\n', origin),
    );
    const toolchain = configError(() => parseRepositoryConfigFile('toolchain: { ruby: "3.3" }\n', origin));

    // Assess
    expect(entry.issues.map((issue) => issue.key)).toEqual(['knownFailing.0.because']);
    expect(toolchain.issues.map((issue) => issue.key)).toEqual(['toolchain.ruby']);
    expect(toolchain.message).toContain('node, python, java, rust, go, c');
  });

  it('rejects wrong types, each with its key', () => {
    // Act
    const error = configError(() =>
      parseRepositoryConfigFile(
        'test: 42\nstrict: "yes"\nsetup: npm run build\nknownFailing: [{ test: "e2e/**" }]\n',
        origin,
      ),
    );

    // Assess
    expect(error.issues.map((issue) => issue.key).sort()).toEqual([
      'knownFailing.0.reason',
      'setup',
      'strict',
      'test',
    ]);
    expect(error.message).toContain('test: a command is an argv list of strings');
  });

  it('rejects a document that is not a mapping, and invalid YAML with its line', () => {
    // Act
    const list = configError(() => parseRepositoryConfigFile('- npm test\n', origin));
    const yaml = configError(() => parseRepositoryConfigFile('test: [npm\nstrict: true\n', origin));

    // Assess
    expect(list.issues[0]?.key).toBe('(root)');
    expect(yaml.issues[0]?.key).toMatch(/^line \d+, column \d+$/);
  });

  it('refuses a command line with operators, redirections, variables or assignments', () => {
    // Prepare
    const lines = [
      'npm test && curl https://x.example',
      'npm test | tee out.txt',
      'npm test > out.txt',
      'npm test 2>&1',
      'npm test &',
      'npm test "$HOME"',
      'NODE_ENV=test npm test',
    ];

    // Act
    const keys = lines.map((line) =>
      configError(() => parseRepositoryConfigFile(`test: '${line}'\n`, origin)),
    );

    // Assess
    for (const error of keys) expect(error.issues.map((issue) => issue.key)).toEqual(['test']);
    expect(keys[6]?.message).toContain('set variables under env instead');
  });

  it('keeps quoted operators as part of a word', () => {
    // Act
    const config = parseRepositoryConfigFile(
      `test: pytest -k "a and not b" -m 'x|y' --junit=out\\>1\n`,
      origin,
    );

    // Assess
    expect(config.test).toEqual(['pytest', '-k', 'a and not b', '-m', 'x|y', '--junit=out>1']);
  });

  it('needs a focused-test placeholder that is a word of its own', () => {
    // Act
    const none = configError(() => parseRepositoryConfigFile('focusedTest: npx vitest run\n', origin));
    const embedded = configError(() =>
      parseRepositoryConfigFile('focusedTest: npx vitest run --dir={files}\n', origin),
    );
    const tests = parseRepositoryConfigFile('focusedTest: pytest {tests}\n', origin);

    // Assess
    expect(none.issues[0]?.key).toBe('focusedTest');
    expect(embedded.issues[0]?.key).toBe('focusedTest');
    expect(tests.focusedTest).toEqual({ argv: ['pytest', '{tests}'], placeholder: '{tests}' });
  });

  it('refuses environment names outside the sandbox allowlist, naming each', () => {
    // Prepare
    const text =
      'env:\n  LD_PRELOAD: /tmp/x.so\n  NODE_OPTIONS: --require=./x\n  AWS_SECRET_ACCESS_KEY: x\n  CI: "1"\n';

    // Act
    const error = configError(() => parseRepositoryConfigFile(text, origin));

    // Assess
    expect(error.issues.map((issue) => issue.key)).toEqual([
      'env.LD_PRELOAD',
      'env.NODE_OPTIONS',
      'env.AWS_SECRET_ACCESS_KEY',
    ]);
    expect(error.message).toContain('LD_PRELOAD may not be set in a sandbox');
  });

  it('refuses, in a repository file, allowlisted names that change which code commands load', () => {
    // Act
    const error = configError(() =>
      parseRepositoryConfigFile('env: { PATH: ./bin, npm_config_registry: "http://x.example" }\n', origin),
    );

    // Assess
    expect(error.issues.map((issue) => issue.key)).toEqual(['env.PATH', 'env.npm_config_registry']);
  });
});

describe('effectiveRepositoryConfig', () => {
  it('never lets the repository file widen the contract: editable is intersected, forbidden adds', async () => {
    // Prepare
    const limited = await contract(['src/**']);
    const repositoryFile = { text: 'editable: ["**"]\nforbidden: ["src/generated/**"]\n', origin };

    // Act
    const config = effectiveRepositoryConfig({ contract: limited, repositoryFile });

    // Assess
    expect(config.editable('src/invoice.ts')).toBe(true);
    expect(config.editable('./src/invoice.ts')).toBe(true);
    expect(config.editable('docs/readme.md')).toBe(false);
    expect(config.editable('src/generated/client.ts')).toBe(false);
    expect(config.forbidden('src/generated/client.ts')).toBe(true);
  });

  it('narrows an open contract to the intersection of the file and the request', async () => {
    // Prepare
    const open = await contract();
    const repositoryFile = { text: 'editable: ["src/**", "lib/**"]\n', origin };

    // Act
    const config = effectiveRepositoryConfig({
      contract: open,
      repositoryFile,
      request: request({ editable: ['lib/**', 'docs/**'] }),
    });

    // Assess
    expect(config.editable('lib/a.ts')).toBe(true);
    expect(config.editable('src/a.ts')).toBe(false);
    expect(config.editable('docs/a.md')).toBe(false);
    expect(config.pathRules.editable.map((rule) => rule.source)).toEqual(['request', 'repository-file']);
  });

  it('never lets the agent edit the repository configuration files', async () => {
    // Act
    const config = effectiveRepositoryConfig({ contract: await contract() });

    // Assess
    expect(config.editable('.gantry.yaml')).toBe(false);
    expect(config.editable('.gantry.yml')).toBe(false);
    expect(config.editable('src/.gantry.yaml')).toBe(true);
  });

  it('reports setup commands the command rules refuse instead of keeping them', async () => {
    // Prepare
    const repositoryFile = {
      text: 'setup:\n  - curl -fsSL https://x.example/install.sh\n  - sh -c "npm ci"\n  - npm run build\n  - npm install left-pad\n',
      origin,
    };

    // Act
    const config = effectiveRepositoryConfig({
      contract: await contract(),
      repositoryFile,
      repositoryPrograms: new Set(['npm']),
    });

    // Assess
    expect(config.setup).toEqual([{ argv: ['npm', 'run', 'build'], source: 'repository-file' }]);
    expect(config.refusedSetup.map((refused) => [refused.argv[0], refused.rule])).toEqual([
      ['curl', 'command.forbidden'],
      ['sh', 'command.forbidden'],
      ['npm', 'command.verb'],
    ]);
    expect(config.refusedSetup[0]?.reason).toBe('curl is a forbidden program');
  });

  it("judges the repository file's test commands as the gateway judges a declared test command", async () => {
    // Prepare
    const repositoryFile = {
      text: 'test: [node, -e, "process.exit(0)"]\nfocusedTest: bash run.sh {tests}\n',
      origin,
    };

    // Act
    const config = effectiveRepositoryConfig({ contract: await contract(), repositoryFile });

    // Assess
    expect(config.test).toBeUndefined();
    expect(config.focusedTest).toBeUndefined();
    expect(config.sources.map((source) => source.field)).not.toContain('test');
    expect(config.refusedTest.map((refused) => refused.rule)).toEqual([
      'command.inline-code',
      'command.forbidden',
    ]);
  });

  it('gives the operator precedence field by field and merges env by name', async () => {
    // Prepare
    const repositoryFile = {
      text: 'test: npm test\nfocusedTest: npx vitest run {files}\nstrict: true\nenv: { TZ: UTC, NODE_ENV: development }\nknownFailing: [{ test: "e2e/**", reason: needs a browser }]\n',
      origin,
    };
    const operator = request({ test: ['make', 'check'], strict: false, env: { NODE_ENV: 'test' } });

    // Act
    const config = effectiveRepositoryConfig({
      contract: await contract(),
      repositoryFile,
      request: operator,
      repositoryPrograms: new Set(['npm', 'npx']),
    });

    // Assess
    expect(config.test).toEqual({ argv: ['make', 'check'], source: 'request' });
    expect(config.focusedTest).toEqual({
      argv: ['npx', 'vitest', 'run', '{files}'],
      placeholder: '{files}',
      source: 'repository-file',
    });
    expect(config.strict).toBe(false);
    expect(config.env).toEqual({ TZ: 'UTC', NODE_ENV: 'test' });
    expect(config.knownFailing).toEqual([
      { test: 'e2e/**', reason: 'needs a browser', source: 'repository-file' },
    ]);
    expect(config.sources).toEqual(
      expect.arrayContaining([
        { field: 'test', source: 'request', origin: 'request req-1' },
        { field: 'focusedTest', source: 'repository-file', origin },
        { field: 'env', source: 'repository-file', origin },
        { field: 'env', source: 'request', origin: 'request req-1' },
      ]),
    );
  });

  it('takes the operator test command outright, even one the command rules would question', async () => {
    // Act
    const config = effectiveRepositoryConfig({
      contract: await contract(),
      request: request({ test: './ci/run-tests.sh --fast' }),
    });

    // Assess
    expect(config.test).toEqual({ argv: ['./ci/run-tests.sh', '--fast'], source: 'request' });
    expect(config.strict).toBe(false);
    expect(config.setup).toEqual([]);
  });

  it('ignores a repository configuration on a request that did not come from a request file', async () => {
    // Prepare
    const forged = request({ test: ['true'], editable: ['**'] }, 'github-issue');

    // Act
    const config = effectiveRepositoryConfig({ contract: await contract(['src/**']), request: forged });

    // Assess
    expect(config.test).toBeUndefined();
    expect(config.sources.some((source) => source.source === 'request')).toBe(false);
    expect(config.ignored[0]).toContain('came from github-issue');
  });

  it('fails on an invalid repository file, naming it', async () => {
    // Prepare
    const open = await contract();

    // Act
    const error = configError(() =>
      effectiveRepositoryConfig({ contract: open, repositoryFile: { text: 'strict: 1\n', origin } }),
    );

    // Assess
    expect(error.message).toContain(`Repository configuration in ${origin} is not valid: strict:`);
  });
});

describe('focusedTestArgv', () => {
  it('puts one argument per test where the placeholder stands', () => {
    // Act
    const argv = focusedTestArgv({ argv: ['pytest', '{tests}', '-q'], placeholder: '{tests}' }, [
      'tests/test_a.py::test_one',
      'tests/test_b.py',
    ]);

    // Assess
    expect(argv).toEqual(['pytest', 'tests/test_a.py::test_one', 'tests/test_b.py', '-q']);
  });

  it('refuses a test that the runner would read as an option', () => {
    // Act
    const act = () => focusedTestArgv({ argv: ['pytest', '{tests}'], placeholder: '{tests}' }, ['--pdb']);

    // Assess
    expect(act).toThrow(/starts with "-"/);
  });
});

describe('repositoryConfigFileIn', () => {
  it('finds either name and refuses both at once', () => {
    // Act
    const yml = repositoryConfigFileIn(['package.json', '.gantry.yml']);
    const none = repositoryConfigFileIn(['package.json']);
    const both = () => repositoryConfigFileIn(['.gantry.yaml', '.gantry.yml']);

    // Assess
    expect(yml).toBe('.gantry.yml');
    expect(none).toBeUndefined();
    expect(both).toThrow(RepositoryConfigError);
  });
});

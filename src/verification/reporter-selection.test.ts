import { describe, expect, it } from 'vitest';
import { reportFilesMatching } from './report-files.js';
import { reporterFor } from './reporter-selection.js';

const reportDir = '/workspace/.gantry/reports/run-1';
const report = (name: string) => `${reportDir}/${name}`;

describe('reporterFor', () => {
  it.each([
    [
      ['pytest', 'tests'],
      ['pytest', 'tests', `--junitxml=${report('pytest.xml')}`, '-o', 'junit_family=xunit2'],
      'junit-xml',
    ],
    [
      ['python3', '-m', 'pytest', '-x'],
      ['python3', '-m', 'pytest', '-x', `--junitxml=${report('pytest.xml')}`, '-o', 'junit_family=xunit2'],
      'junit-xml',
    ],
    [
      ['poetry', 'run', 'pytest', '--', 'tests/a.py'],
      [
        'poetry',
        'run',
        'pytest',
        `--junitxml=${report('pytest.xml')}`,
        '-o',
        'junit_family=xunit2',
        '--',
        'tests/a.py',
      ],
      'junit-xml',
    ],
    [['node', '--test', 'test/'], ['node', '--test', '--test-reporter=tap', 'test/'], 'tap'],
    [['go', 'test', './...'], ['go', 'test', '-json', './...'], 'go-test-json'],
    [
      ['cargo', 'test', '--', '--nocapture'],
      ['cargo', 'test', '--no-fail-fast', '--', '--nocapture'],
      'cargo-test',
    ],
    [
      ['npx', 'vitest', 'run'],
      [
        'npx',
        'vitest',
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${report('vitest.json')}`,
      ],
      'vitest-json',
    ],
    [
      ['npx', 'vitest', 'run', '--reporter=dot'],
      [
        'npx',
        'vitest',
        'run',
        '--reporter=dot',
        '--reporter=json',
        `--outputFile.json=${report('vitest.json')}`,
      ],
      'vitest-json',
    ],
    [['jest', '--ci'], ['jest', '--ci', '--json', `--outputFile=${report('jest.json')}`], 'jest-json'],
    [
      ['mocha', 'test/**/*.js'],
      ['mocha', 'test/**/*.js', '--reporter', 'json', '--reporter-option', `output=${report('mocha.json')}`],
      'mocha-json',
    ],
    [
      ['ctest', '--test-dir', 'build'],
      ['ctest', '--test-dir', 'build', '--output-junit', report('ctest.xml')],
      'junit-xml',
    ],
  ])('adds reporter arguments to %j, keeping the original ones', (argv, expected, parser) => {
    // Act
    const plan = reporterFor(argv, { reportDir });

    // Assess
    expect(plan.argv).toEqual(expected);
    expect(plan.parser).toBe(parser);
    expect(plan.argv.filter((word) => !plan.added.includes(word))).toEqual(argv);
  });

  it('reads Surefire and Gradle reports without adding anything, and clears them before the run', () => {
    // Act
    const maven = reporterFor(['./mvnw', '-B', 'test'], { reportDir });
    const gradle = reporterFor(['./gradlew', 'test'], { reportDir });

    // Assess
    expect(maven).toMatchObject({
      runner: 'maven',
      argv: ['./mvnw', '-B', 'test'],
      added: [],
      parser: 'junit-xml',
    });
    expect(maven.files).toContain('target/surefire-reports/TEST-*.xml');
    expect(maven.clearBefore).toContain('target/surefire-reports');
    expect(gradle).toMatchObject({ runner: 'gradle', added: [], parser: 'junit-xml' });
    expect(gradle.clearBefore).toContain('build/test-results');
  });

  it('passes reporter arguments through `npm test --` when the script ends with a runner that takes them', () => {
    // Act
    const plan = reporterFor(['npm', 'test'], { reportDir, scripts: { test: 'tsc -p . && vitest run' } });

    // Assess
    expect(plan.runner).toBe('vitest');
    expect(plan.argv).toEqual([
      'npm',
      'test',
      '--',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report('vitest.json')}`,
    ]);
    expect(plan.files).toEqual([report('vitest.json')]);
  });

  it('passes them straight after the script name for yarn and pnpm', () => {
    // Act
    const plan = reporterFor(['pnpm', 'run', 'test:unit'], { reportDir, scripts: { 'test:unit': 'jest' } });

    // Assess
    expect(plan.argv).toEqual(['pnpm', 'run', 'test:unit', '--json', `--outputFile=${report('jest.json')}`]);
  });

  it('treats `yarn jest` / `pnpm vitest` without such a script as the runner itself', () => {
    // Act
    const yarn = reporterFor(['yarn', 'jest', '--ci'], { reportDir, scripts: { test: 'jest' } });
    const pnpm = reporterFor(['pnpm', 'vitest', 'run'], { reportDir });

    // Assess
    expect(yarn.argv).toEqual(['yarn', 'jest', '--ci', '--json', `--outputFile=${report('jest.json')}`]);
    expect(pnpm).toMatchObject({ runner: 'vitest', parser: 'vitest-json' });
  });

  it('adds nothing to `npm test` of a `node --test` script, and reads its default TAP', () => {
    // Act
    const plan = reporterFor(['npm', 'test'], { reportDir, scripts: { test: 'node --test test/' } });

    // Assess
    expect(plan).toMatchObject({
      runner: 'node-test',
      argv: ['npm', 'test'],
      added: [],
      files: 'stdout',
      parser: 'tap',
    });
    expect(plan.note).toMatch(/cannot|nothing is added/);
  });

  it('adds nothing when the script passes its own `--` or redirects', () => {
    // Act
    const dashes = reporterFor(['npm', 'test'], { reportDir, scripts: { test: 'pytest -- tests' } });
    const redirect = reporterFor(['npm', 'test'], { reportDir, scripts: { test: 'jest > out.txt' } });

    // Assess
    expect(dashes).toMatchObject({ runner: 'pytest', added: [], parser: 'pytest-summary', files: 'stdout' });
    expect(redirect).toMatchObject({ runner: 'jest', added: [], parser: 'auto' });
  });

  it('says when it cannot add anything: a shell command line, make, an unknown command, a missing script', () => {
    // Act
    const shell = reporterFor(['sh', '-c', 'cargo test'], { reportDir });
    const make = reporterFor(['make', 'test'], { reportDir });
    const unknown = reporterFor(['./run-tests.sh'], { reportDir });
    const missing = reporterFor(['npm', 'test'], { reportDir, scripts: {} });

    // Assess
    expect(shell).toMatchObject({
      runner: 'cargo',
      argv: ['sh', '-c', 'cargo test'],
      added: [],
      parser: 'cargo-test',
    });
    expect(make).toMatchObject({ runner: 'make', added: [], parser: 'auto', files: 'stdout' });
    expect(unknown).toMatchObject({ runner: 'unknown', added: [], parser: 'auto' });
    expect(missing.note).toMatch(/not in package.json/);
  });

  it('does not add a reporter the command already names', () => {
    // Act
    const pytest = reporterFor(['pytest', '--junitxml=out.xml'], { reportDir });
    const mocha = reporterFor(['mocha', '-R', 'dot'], { reportDir });
    const go = reporterFor(['go', 'test', '-json', './...'], { reportDir });

    // Assess
    expect(pytest.added).toEqual([]);
    expect(mocha.added).toEqual([]);
    expect(go).toMatchObject({ added: [], parser: 'go-test-json' });
  });

  it('rejects a report directory that is not absolute', () => {
    // Act & Assess
    expect(() => reporterFor(['pytest'], { reportDir: 'reports' })).toThrow();
  });
});

describe('reportFilesMatching', () => {
  it("selects a plan's report files among the files after a run", () => {
    // Prepare
    const plan = reporterFor(['mvn', 'test'], { reportDir });

    // Act
    const files = reportFilesMatching(plan, [
      'pom.xml',
      'target/surefire-reports/TEST-demo.CalcTest.xml',
      'target/surefire-reports/demo.CalcTest.txt',
      'api/target/surefire-reports/TEST-api.ApiTest.xml',
    ]);

    // Assess
    expect(files).toEqual([
      'api/target/surefire-reports/TEST-api.ApiTest.xml',
      'target/surefire-reports/TEST-demo.CalcTest.xml',
    ]);
  });
});

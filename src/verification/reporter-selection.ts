import { posix } from 'node:path';
import { z } from 'zod';
import { ParserChoice } from './test-run-result.js';

export const TestRunner = z.enum([
  'node-test',
  'vitest',
  'jest',
  'mocha',
  'pytest',
  'cargo',
  'go',
  'maven',
  'gradle',
  'ctest',
  'make',
  'unknown',
]);
export type TestRunner = z.infer<typeof TestRunner>;

export const ReporterContext = z.strictObject({
  /**
   * An empty directory for this run's report files, absolute as the command sees it (inside the
   * sandbox's workspace mount, outside the repository's tracked files), new for every run.
   */
  reportDir: z.string().startsWith('/'),
  /** package.json `scripts`, to see which runner `npm test` runs. */
  scripts: z.record(z.string(), z.string()).optional(),
});
export type ReporterContext = z.infer<typeof ReporterContext>;

export const ReporterPlan = z.strictObject({
  runner: TestRunner,
  /** The command to run: the original argv with `added` inserted, never an argument removed or changed. */
  argv: z.array(z.string()),
  /** Environment to add; empty today, since the sandbox's allowlist drops what a reporter would need. */
  env: z.record(z.string(), z.string()),
  /** The arguments the plan added, in order; empty when it could add none (see `note`). */
  added: z.array(z.string()),
  /**
   * Report files to read after the run (absolute, or globs relative to the command's cwd), or `stdout`
   * when the parser reads the command's output.
   */
  files: z.union([z.array(z.string()), z.literal('stdout')]),
  /** Report directories to delete before the run, so that a run that writes none is not judged by an old one. */
  clearBefore: z.array(z.string()),
  parser: ParserChoice,
  /** What was added and why, or why nothing could be. */
  note: z.string(),
});
export type ReporterPlan = z.infer<typeof ReporterPlan>;

/** Wrappers that run the next word as the command: `npx vitest`, `poetry run pytest`, `env CI=1 jest`. */
function skipWrappers(words: readonly string[]): number {
  let at = 0;
  for (;;) {
    const word = words[at];
    const next = words[at + 1];
    if (word === undefined) return at;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word === 'env' || word === 'cross-env') at++;
    else if (word === 'npx' || word === 'bunx')
      at += next === '--no-install' || next === '--yes' || next === '-y' ? 2 : 1;
    else if ((word === 'pnpm' || word === 'yarn') && (next === 'exec' || next === 'dlx')) at += 2;
    else if (
      (word === 'poetry' || word === 'uv' || word === 'pipenv' || word === 'hatch' || word === 'pdm') &&
      next === 'run'
    ) {
      at += 2;
    } else return at;
  }
}

/** A command word's name: `./node_modules/.bin/jest` and `node_modules/jest/bin/jest.js` are `jest`. */
function baseName(word: string | undefined): string {
  return word === undefined ? '' : posix.basename(word).replace(/\.[cm]?js$/, '');
}

const jsRunners = new Set(['vitest', 'jest', 'mocha']);

interface Recognised {
  runner: TestRunner;
  /** Index of the runner's own command word (`pytest`, `go`, `node`). */
  at: number;
}

function recognise(words: readonly string[]): Recognised {
  const first = skipWrappers(words);
  // `node node_modules/jest/bin/jest.js` runs jest.
  const at =
    baseName(words[first]) === 'node' && jsRunners.has(baseName(words[first + 1])) ? first + 1 : first;
  const command = baseName(words[at]);
  const rest = words.slice(at + 1);
  if (/^python[\d.]*$/.test(command) && rest[0] === '-m' && rest[1] === 'pytest')
    return { runner: 'pytest', at: at + 2 };
  if (command === 'pytest' || command === 'py.test') return { runner: 'pytest', at };
  if (command === 'node' && rest.includes('--test')) return { runner: 'node-test', at };
  if (command === 'vitest') return { runner: 'vitest', at };
  if (command === 'jest') return { runner: 'jest', at };
  if (command === 'mocha') return { runner: 'mocha', at };
  if (command === 'cargo' && rest[0] === 'test') return { runner: 'cargo', at };
  if (command === 'go' && rest[0] === 'test') return { runner: 'go', at };
  if (command === 'mvn' || command === 'mvnw') return { runner: 'maven', at };
  if (command === 'gradle' || command === 'gradlew') return { runner: 'gradle', at };
  if (command === 'ctest') return { runner: 'ctest', at };
  if (command === 'make' || command === 'gmake') return { runner: 'make', at };
  return { runner: 'unknown', at };
}

/** Words of a package.json script's last command (`tsc && vitest run` runs vitest last, with npm's extra args). */
function lastCommandWords(script: string): { words: string[]; simple: boolean } {
  const segments = script.split(/&&|\|\||;|\|/);
  const last = segments.at(-1) ?? '';
  const words = [...last.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? '',
  );
  // Redirections, subshells and variables make the appended arguments land somewhere we cannot see.
  const simple = !/[<>()`$]/.test(last);
  return { words, simple };
}

interface Addition {
  /** Arguments to append at the end (or before a `--`). */
  append?: string[];
  /** Arguments to insert right after the word at this offset from the runner's command word. */
  insertAfter?: { offset: number; args: string[] };
  files: string[] | 'stdout';
  clearBefore?: string[];
  parser: ParserChoice;
  note: string;
}

const has = (words: readonly string[], flag: string) =>
  words.some((word) => word === flag || word.startsWith(`${flag}=`));

/** What each runner needs to write machine-readable results, given the words of its command. */
function additionFor(runner: TestRunner, words: readonly string[], at: number, reportDir: string): Addition {
  const own = words.slice(at + 1);
  const report = (name: string) => posix.join(reportDir, name);
  switch (runner) {
    case 'node-test':
      if (has(own, '--test-reporter')) {
        return {
          files: 'stdout',
          parser: 'tap',
          note: 'node --test already names a reporter; its stdout is read as TAP if it is TAP',
        };
      }
      // Options after the first file name are taken for file names, so the reporter goes right after --test.
      return {
        insertAfter: { offset: own.indexOf('--test') + 1, args: ['--test-reporter=tap'] },
        files: 'stdout',
        parser: 'tap',
        note: 'node --test prints TAP to stdout with --test-reporter=tap',
      };
    case 'vitest': {
      if (has(own, '--outputFile')) {
        return {
          files: 'stdout',
          parser: 'auto',
          note: 'vitest already writes --outputFile; its default output is read',
        };
      }
      const file = report('vitest.json');
      const reporters = has(own, '--reporter') ? [] : ['--reporter=default'];
      return {
        append: [...reporters, '--reporter=json', `--outputFile.json=${file}`],
        files: [file],
        parser: 'vitest-json',
        note: 'vitest writes a JSON report beside its own output',
      };
    }
    case 'jest': {
      if (has(own, '--json') || has(own, '--outputFile')) {
        return { files: 'stdout', parser: 'jest-json', note: 'jest already prints --json; stdout is read' };
      }
      const file = report('jest.json');
      return {
        append: ['--json', `--outputFile=${file}`],
        files: [file],
        parser: 'jest-json',
        note: 'jest writes its --json report to a file',
      };
    }
    case 'mocha': {
      if (has(own, '--reporter') || own.includes('-R')) {
        return {
          files: 'stdout',
          parser: 'plain-summary',
          note: 'mocha already names a reporter and takes only one; its summary is read',
        };
      }
      const file = report('mocha.json');
      return {
        append: ['--reporter', 'json', '--reporter-option', `output=${file}`],
        files: [file],
        parser: 'mocha-json',
        note: 'mocha writes its json reporter to a file (mocha 9.2 and later; older ones print it to stdout, read too)',
      };
    }
    case 'pytest': {
      if (has(own, '--junitxml') || has(own, '--junit-xml')) {
        return {
          files: 'stdout',
          parser: 'pytest-summary',
          note: 'pytest already writes --junitxml; its terminal summary is read',
        };
      }
      const file = report('pytest.xml');
      return {
        append: [`--junitxml=${file}`, '-o', 'junit_family=xunit2'],
        files: [file],
        parser: 'junit-xml',
        note: 'pytest writes a JUnit XML report; its terminal summary is the fallback',
      };
    }
    case 'cargo':
      if (has(own, '--no-fail-fast'))
        return { files: 'stdout', parser: 'cargo-test', note: "libtest's output is read from stdout" };
      return {
        insertAfter: { offset: 1, args: ['--no-fail-fast'] },
        files: 'stdout',
        parser: 'cargo-test',
        note: "cargo test runs every target with --no-fail-fast (so a failing unit test does not hide the doc-tests); libtest's output is read from stdout (its JSON format needs nightly)",
      };
    case 'go':
      if (has(own, '-json'))
        return { files: 'stdout', parser: 'go-test-json', note: 'go test already prints -json' };
      return {
        insertAfter: { offset: 1, args: ['-json'] },
        files: 'stdout',
        parser: 'go-test-json',
        note: 'go test prints JSON events with -json',
      };
    case 'maven': {
      const integration = own.some((word) => word === 'verify' || word === 'integration-test');
      const dirs = [
        'target/surefire-reports',
        '*/target/surefire-reports',
        ...(integration ? ['target/failsafe-reports', '*/target/failsafe-reports'] : []),
      ];
      return {
        files: dirs.map((dir) => `${dir}/TEST-*.xml`),
        clearBefore: dirs,
        parser: 'junit-xml',
        note: 'Maven Surefire writes JUnit XML reports by default; nothing is added',
      };
    }
    case 'gradle':
      return {
        files: ['build/test-results/*/*.xml', '*/build/test-results/*/*.xml'],
        clearBefore: ['build/test-results', '*/build/test-results'],
        parser: 'junit-xml',
        note: 'Gradle writes JUnit XML reports by default; nothing is added',
      };
    case 'ctest': {
      if (has(own, '--output-junit'))
        return { files: 'stdout', parser: 'auto', note: 'ctest already writes --output-junit' };
      const file = report('ctest.xml');
      return {
        append: ['--output-junit', file],
        files: [file],
        parser: 'junit-xml',
        note: 'ctest writes JUnit XML with --output-junit (CMake 3.21 and later)',
      };
    }
    case 'make':
      return {
        files: 'stdout',
        parser: 'auto',
        note: 'make runs whatever its recipe says: its output is read for TAP, libtest, pytest or `N passed, N failed` lines',
      };
    case 'unknown':
      return {
        files: 'stdout',
        parser: 'auto',
        note: 'not a runner Gantry knows: its output is read for any format it recognises',
      };
  }
}

/** The parser that reads a runner's output when no reporter argument can be added. */
const defaultOutputParser: Record<TestRunner, ParserChoice> = {
  'node-test': 'tap',
  vitest: 'auto',
  jest: 'auto',
  mocha: 'plain-summary',
  pytest: 'pytest-summary',
  cargo: 'cargo-test',
  go: 'auto',
  maven: 'junit-xml',
  gradle: 'junit-xml',
  ctest: 'auto',
  make: 'auto',
  unknown: 'auto',
};

function insertBeforeSeparator(argv: readonly string[], from: number, args: readonly string[]): string[] {
  const separator = argv.indexOf('--', from);
  return separator < 0
    ? [...argv, ...args]
    : [...argv.slice(0, separator), ...args, ...argv.slice(separator)];
}

function apply(argv: readonly string[], at: number, addition: Addition): string[] {
  if (addition.insertAfter) {
    const index = at + addition.insertAfter.offset + 1;
    return [...argv.slice(0, index), ...addition.insertAfter.args, ...argv.slice(index)];
  }
  return insertBeforeSeparator(argv, at, addition.append ?? []);
}

function plan(
  runner: TestRunner,
  argv: readonly string[],
  addition: Addition,
  added: string[],
): ReporterPlan {
  return ReporterPlan.parse({
    runner,
    argv: [...argv],
    env: {},
    added,
    files: addition.files,
    clearBefore: addition.clearBefore ?? [],
    parser: addition.parser,
    note: addition.note,
  });
}

const scriptRunners = new Set(['npm', 'pnpm', 'yarn']);

/** `npm test`, `npm run test:unit`, `pnpm test`, `yarn test`: the script's name, if argv runs one. */
function scriptName(argv: readonly string[]): string | undefined {
  const [tool, verb, name] = argv;
  if (!tool || !scriptRunners.has(baseName(tool)) || !verb) return undefined;
  if (verb === 'test' || verb === 't' || verb === 'tst') return 'test';
  if ((verb === 'run' || verb === 'run-script') && name) return name;
  if ((baseName(tool) === 'yarn' || baseName(tool) === 'pnpm') && !verb.startsWith('-')) return verb;
  return undefined;
}

function planForScript(argv: readonly string[], name: string, context: ReporterContext): ReporterPlan {
  const script = context.scripts?.[name];
  // `yarn jest` and `pnpm vitest` run a bin when no script has that name.
  if (script === undefined && argv[1] === name && baseName(argv[0]) !== 'npm') {
    const { runner, at } = recognise(argv.slice(1));
    if (runner !== 'unknown') {
      const addition = additionFor(runner, argv.slice(1), at, context.reportDir);
      return plan(
        runner,
        [argv[0] ?? '', ...apply(argv.slice(1), at, addition)],
        addition,
        addition.insertAfter?.args ?? addition.append ?? [],
      );
    }
  }
  if (script === undefined) {
    return plan(
      'unknown',
      argv,
      {
        files: 'stdout',
        parser: 'auto',
        note: `the \`${name}\` script is not in package.json: its output is read for any format Gantry recognises`,
      },
      [],
    );
  }
  const { words, simple } = lastCommandWords(script);
  const { runner, at } = recognise(words);
  const addition = additionFor(runner, words, at, context.reportDir);
  const args = addition.insertAfter?.args ?? addition.append ?? [];
  if (args.length === 0) return plan(runner, argv, addition, []);
  // npm appends extra arguments to the script's end: fine for runners that take options anywhere.
  const appendable = runner !== 'node-test' && !(runner === 'go' && words.includes('-args'));
  if (!simple || !appendable || words.includes('--')) {
    const why =
      runner === 'node-test'
        ? 'node --test takes options after a file name for file names and the sandbox drops NODE_OPTIONS, so nothing is added; Node 20 prints TAP when stdout is not a terminal (Node 23 and later print spec: give the script --test-reporter=tap)'
        : `arguments appended to the \`${name}\` script would not reach ${runner} as options, so nothing is added; its default output is read`;
    return plan(runner, argv, { files: 'stdout', parser: defaultOutputParser[runner], note: why }, []);
  }
  const separator = baseName(argv[0]) === 'npm' && !argv.includes('--') ? ['--'] : [];
  return plan(
    runner,
    [...argv, ...separator, ...args],
    { ...addition, note: `${addition.note}; passed through \`${argv.slice(0, 3).join(' ')}\`` },
    [...separator, ...args],
  );
}

/**
 * How to get machine-readable results from a test command: the argv with reporter arguments added (never
 * one removed or changed), the files to read afterwards or `stdout`, the report directories to clear
 * before, and the parser for `parseTestRun`. `added` is empty, and `note` says why, when nothing could
 * be added; the plan then names the parser for the command's default output.
 *
 * @example
 * const plan = reporterFor(['python3', '-m', 'pytest', 'tests'], { reportDir: '/workspace/.gantry/reports/run-1' });
 * // plan.argv: ['python3', '-m', 'pytest', 'tests', '--junitxml=/workspace/.gantry/reports/run-1/pytest.xml', '-o', 'junit_family=xunit2']
 * // plan.files: ['/workspace/.gantry/reports/run-1/pytest.xml'], plan.parser: 'junit-xml'
 */
export function reporterFor(argv: readonly string[], context: ReporterContext): ReporterPlan {
  const checked = ReporterContext.parse(context);
  const script = scriptName(argv);
  if (script !== undefined) return planForScript(argv, script, checked);
  if (argv[1] === '-c' && /^(?:ba|da|z)?sh$/.test(baseName(argv[0])) && argv[2] !== undefined) {
    const { words } = lastCommandWords(argv[2]);
    const { runner, at } = recognise(words);
    const addition = additionFor(runner, words, at, checked.reportDir);
    const kept =
      addition.append || addition.insertAfter
        ? { files: 'stdout' as const, parser: defaultOutputParser[runner] }
        : {};
    return plan(
      runner,
      argv,
      {
        ...addition,
        ...kept,
        note: `a shell command line is run as written, so nothing is added; ${runner}'s default output is read`,
      },
      [],
    );
  }
  const { runner, at } = recognise(argv);
  const addition = additionFor(runner, argv, at, checked.reportDir);
  return plan(
    runner,
    apply(argv, at, addition),
    addition,
    addition.insertAfter?.args ?? addition.append ?? [],
  );
}

import picomatch from 'picomatch';

export interface ConstraintCheck {
  constraint: string;
  honoured: boolean;
  how: string;
}

interface ChangeFacts {
  changedFiles: string[];
  expectedScope: string[];
  testFiles: string[];
}

const migrationFile = picomatch(['**/migrations/**', '**/migrate/**', '**/*.sql'], { dot: true });
const dependencyFile = picomatch(
  [
    '**/package.json',
    '**/package-lock.json',
    '**/pnpm-lock.yaml',
    '**/yarn.lock',
    '**/requirements*.txt',
    '**/pyproject.toml',
    '**/go.mod',
    '**/go.sum',
    '**/pom.xml',
    '**/build.gradle*',
  ],
  { dot: true },
);
const ciFile = picomatch(['.github/workflows/**', '.gitlab-ci.yml', '.circleci/**', 'Jenkinsfile'], {
  dot: true,
});
const testFile = picomatch(
  [
    '**/*.test.*',
    '**/*.spec.*',
    '**/test/**',
    '**/tests/**',
    '**/__tests__/**',
    '**/test_*.py',
    '**/*_test.py',
    '**/*_test.go',
  ],
  { dot: true },
);

/** Checkers for constraints people write often; each says how it checked. */
const checkers: ReadonlyArray<{
  applies: RegExp;
  check: (facts: ChangeFacts) => { honoured: boolean; how: string };
}> = [
  {
    applies: /migration/i,
    check: ({ changedFiles }) =>
      verdict(
        changedFiles.filter((f) => migrationFile(f)),
        'migration files',
      ),
  },
  {
    applies: /dependenc|package|lockfile/i,
    check: ({ changedFiles }) =>
      verdict(
        changedFiles.filter((f) => dependencyFile(f)),
        'dependency manifests or lockfiles',
      ),
  },
  {
    applies: /\bci\b|workflow|pipeline/i,
    check: ({ changedFiles }) =>
      verdict(
        changedFiles.filter((f) => ciFile(f)),
        'CI configuration files',
      ),
  },
  {
    applies: /only (the )?tests?|tests? only/i,
    check: ({ changedFiles }) =>
      verdict(
        changedFiles.filter((f) => !testFile(f)),
        'non-test files',
      ),
  },
  {
    applies: /only what the request needs|scope/i,
    check: ({ changedFiles, expectedScope, testFiles }) =>
      expectedScope.length === 0
        ? { honoured: true, how: `${changedFiles.length} file(s) changed; the plan did not narrow the scope` }
        : verdict(
            changedFiles.filter((f) => !expectedScope.includes(f) && !testFiles.includes(f) && !testFile(f)),
            'files outside the plan',
          ),
  },
  {
    applies: /reproduction test/i,
    check: ({ changedFiles, testFiles }) => ({
      honoured: testFiles.length === 0 || testFiles.some((t) => changedFiles.includes(t)),
      how: testFiles.length
        ? `reproduction test(s) kept in the change: ${testFiles.join(', ')}`
        : 'no reproduction test was added',
    }),
  },
];

function verdict(offending: string[], what: string) {
  return offending.length
    ? { honoured: false, how: `changed ${what}: ${offending.join(', ')}` }
    : { honoured: true, how: `no ${what} changed (checked on the final diff)` };
}

/**
 * Checks each constraint against the final diff. A constraint no checker understands is kept for the
 * reviewer, marked as not machine-checked rather than silently passed.
 */
export function checkConstraints(constraints: readonly string[], facts: ChangeFacts): ConstraintCheck[] {
  return constraints.map((constraint) => {
    const checker = checkers.find((c) => c.applies.test(constraint));
    if (!checker) return { constraint, honoured: true, how: 'not machine-checkable: left to the reviewer' };
    return { constraint, ...checker.check(facts) };
  });
}

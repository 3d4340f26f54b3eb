import { describe, expect, it } from 'vitest';
import { checkConstraints } from './constraint-checks.js';

const facts = (changedFiles: string[], expectedScope: string[] = [], testFiles: string[] = []) => ({
  changedFiles,
  expectedScope,
  testFiles,
});

describe('constraint checks on the final diff', () => {
  it('catches a migration changed against "do not modify migration files"', () => {
    const [check] = checkConstraints(
      ['Do not modify migration files'],
      facts(['db/migrations/004_add.sql', 'src/a.ts']),
    );
    expect(check).toMatchObject({ honoured: false });
    expect(check?.how).toContain('db/migrations/004_add.sql');
  });

  it('catches a lockfile or manifest against "do not change dependencies"', () => {
    const [check] = checkConstraints(['Do not change dependencies'], facts(['package-lock.json']));
    expect(check?.honoured).toBe(false);
    expect(checkConstraints(['Do not change dependencies'], facts(['src/a.ts']))[0]?.honoured).toBe(true);
  });

  it('flags files outside the plan, but not the tests the agent added', () => {
    const checks = checkConstraints(
      ['change only what the request needs'],
      facts(['src/invoice.js', 'test/new.test.js', 'src/other.js'], ['src/invoice.js'], ['test/new.test.js']),
    );
    expect(checks[0]).toMatchObject({ honoured: false, how: 'changed files outside the plan: src/other.js' });
  });

  it('keeps the reproduction test in the change', () => {
    expect(
      checkConstraints(['keep the reproduction test'], facts(['src/a.js'], [], ['test/a.test.js']))[0]
        ?.honoured,
    ).toBe(false);
    expect(
      checkConstraints(['keep the reproduction test'], facts(['test/a.test.js'], [], ['test/a.test.js']))[0]
        ?.honoured,
    ).toBe(true);
  });

  it('leaves a constraint no checker understands to the reviewer, saying so', () => {
    expect(checkConstraints(['Be nice to the on-call'], facts(['src/a.js']))[0]).toEqual({
      constraint: 'Be nice to the on-call',
      honoured: true,
      how: 'not machine-checkable: left to the reviewer',
    });
  });
});

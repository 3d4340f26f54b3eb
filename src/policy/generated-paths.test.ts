import { describe, expect, it } from 'vitest';
import { generatedPathRule } from './generated-paths.js';

describe('generatedPathRule', () => {
  it.each([
    ['dist/index.js', true],
    ['packages/core/build/out.js', true],
    ['target/debug/app', true],
    ['src/__pycache__/x.cpython-311.pyc', true],
    ['generated/schema.ts', true],
    ['src/index.ts', false],
    ['tests/test_app.py', false],
  ])('judges %s generated: %s', (path, generated) => {
    // Prepare
    const rule = generatedPathRule('generated/\n*.log\n', 'Fix the total');

    // Act + Assess
    expect(rule(path) !== undefined).toBe(generated);
  });

  it('allows a generated path the request names', () => {
    // Act
    const rule = generatedPathRule('generated/\n', 'Regenerate generated/schema.ts from the new spec');

    // Assess
    expect(rule('generated/schema.ts')).toBeUndefined();
  });
});

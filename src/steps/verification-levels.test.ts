import { describe, expect, it } from 'vitest';
import { levelCommands } from './verification-levels.js';

describe('levelCommands', () => {
  it('takes the cheap levels the map selected, cheapest first, from the repository root', () => {
    // Act
    const levels = levelCommands({
      selection: {
        typecheck: { index: 2, argv: ['npx', 'tsc', '--noEmit'], reason: 'package.json scripts.typecheck' },
        lint: { index: 1, argv: ['npm', 'run', 'lint'], reason: 'package.json scripts.lint' },
        format: {
          index: 3,
          argv: ['npm', 'run', 'fmt'],
          cwd: 'web',
          reason: 'a package without a root form',
        },
        build: {
          index: 4,
          argv: ['npm', 'run', 'build'],
          cwd: 'web',
          rootArgv: ['npm', 'run', 'build', '--prefix', 'web'],
          reason: 'x',
        },
      },
    });

    // Assess
    expect(levels).toEqual([
      { level: 'lint', argv: ['npm', 'run', 'lint'] },
      { level: 'typecheck', argv: ['npx', 'tsc', '--noEmit'] },
      { level: 'build', argv: ['npm', 'run', 'build', '--prefix', 'web'] },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { toolchainsFor } from './toolchains.js';

describe('toolchainsFor', () => {
  it.each([
    [{ javascript: 4 }, [['npm', 'test']], ['node']],
    [{ python: 10, c: 2 }, [['make', 'test']], ['python', 'c']],
    [{ rust: 3 }, [['cargo', 'test']], ['rust']],
    [{ java: 7 }, [['mvn', '-q', 'test']], ['java']],
    [{ go: 5 }, [['go', 'test', './...']], ['go']],
    [{ markdown: 1 }, [], []],
    [{ typescript: 2 }, [['pytest']], ['node', 'python']],
  ])('maps languages %o and commands %o to %o', (languages, commands, expected) => {
    // Act
    const toolchains = toolchainsFor(
      languages,
      commands.map((argv) => ({ argv })),
    );

    // Assess
    expect(toolchains).toEqual(expected);
  });
});

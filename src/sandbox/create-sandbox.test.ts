import { describe, expect, it } from 'vitest';
import { SandboxError } from '../domain/errors.js';
import { createSandbox } from './create-sandbox.js';

describe('createSandbox', () => {
  it('returns bubblewrap when it works here', async () => {
    // Act
    const sandbox = await createSandbox();

    // Assess
    expect(sandbox.kind).toBe('bwrap');
    expect(sandbox.workspaceMount).toBe('/tmp/workspace');
  });

  it('refuses, saying what to install, when bubblewrap is missing: there is no whole-root fallback', async () => {
    // Act
    const attempt = createSandbox({ bwrap: { bwrapPath: '/nonexistent/bwrap' } });

    // Assess
    const error = await attempt.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SandboxError);
    const described = (error as SandboxError).describe();
    expect(described).toContain('bubblewrap cannot create an isolated sandbox here');
    expect(described).toContain('/nonexistent/bwrap');
    expect(described).toContain('apt-get install bubblewrap');
  });
});

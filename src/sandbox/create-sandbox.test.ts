import { describe, expect, it } from 'vitest';
import { SandboxError } from '../domain/errors.js';
import { createSandbox } from './create-sandbox.js';

describe('createSandbox', () => {
  it('returns bubblewrap first when it works here', async () => {
    // Act
    const sandbox = await createSandbox();

    // Assess
    expect(sandbox.kind).toBe('bwrap');
    expect(sandbox.workspaceMount).toBe('/tmp/workspace');
  });

  it('returns unshare when it is preferred and works here', async () => {
    // Act
    const sandbox = await createSandbox({ prefer: 'unshare' });

    // Assess
    expect(sandbox.kind).toBe('unshare');
  });

  it('falls through to unshare when bubblewrap is missing', async () => {
    // Act
    const sandbox = await createSandbox({ bwrap: { bwrapPath: '/nonexistent/bwrap' } });

    // Assess
    expect(sandbox.kind).toBe('unshare');
  });

  it('explains what to do when no adapter can isolate a command, naming what each probe printed', async () => {
    // Act
    const attempt = createSandbox({
      bwrap: { bwrapPath: '/nonexistent/bwrap' },
      unshare: { unsharePath: '/nonexistent/unshare' },
    });

    // Assess
    const error = await attempt.then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SandboxError);
    const described = (error as SandboxError).describe();
    expect(described).toContain('Neither bubblewrap nor unshare can create an isolated sandbox here');
    expect(described).toMatch(/bubblewrap: .*\/nonexistent\/bwrap/);
    expect(described).toMatch(/unshare: .*\/nonexistent\/unshare/);
    expect(described).toContain('apt-get install bubblewrap');
  });

  it('reports only the forced adapter when told to use just that one', async () => {
    // Act
    const attempt = createSandbox({ only: 'bwrap', bwrap: { bwrapPath: '/nonexistent/bwrap-only' } });

    // Assess
    await expect(attempt).rejects.toThrow(/tried bubblewrap\)/);
    await expect(attempt).rejects.toThrow(/bwrap-only/);
  });
});

import { describe, expect, it } from 'vitest';
import { decideWorkspaceRetention, type RunForRetention } from './retention.js';

describe('decideWorkspaceRetention', () => {
  it.each<[RunForRetention, 'keep' | 'remove']>([
    [{ runId: 'r', state: 'received' }, 'keep'],
    [{ runId: 'r', state: 'running' }, 'keep'],
    [{ runId: 'r', state: 'waiting_for_approval' }, 'keep'],
    [{ runId: 'r', state: 'completed', pullRequest: 'open' }, 'keep'],
    [{ runId: 'r', state: 'failed', pullRequest: 'open' }, 'keep'],
    [{ runId: 'r', state: 'failed' }, 'remove'],
    [{ runId: 'r', state: 'rejected' }, 'remove'],
    [{ runId: 'r', state: 'aborted' }, 'remove'],
    [{ runId: 'r', state: 'rolled_back', pullRequest: 'merged' }, 'remove'],
    [{ runId: 'r', state: 'completed', pullRequest: 'merged' }, 'remove'],
    [{ runId: 'r', state: 'completed', pullRequest: 'closed' }, 'remove'],
    [{ runId: 'r', state: 'completed', pullRequest: 'none' }, 'remove'],
    [{ runId: 'r', state: 'running', pullRequest: 'merged' }, 'keep'],
  ])('%o → %s', (run, action) => {
    // Act
    const [decision] = decideWorkspaceRetention([run]);

    // Assess
    expect(decision?.action).toBe(action);
    expect(decision?.reason).toMatch(/\w/);
  });

  it('decides every run, in order, and says why', () => {
    // Act
    const decisions = decideWorkspaceRetention([
      { runId: 'a', state: 'waiting_for_approval' },
      { runId: 'b', state: 'completed', pullRequest: 'merged' },
    ]);

    // Assess
    expect(decisions).toEqual([
      { runId: 'a', action: 'keep', reason: 'the run is waiting at an approval gate' },
      { runId: 'b', action: 'remove', reason: 'the run completed and its pull request is merged' },
    ]);
  });

  it('refuses a run it cannot read rather than guessing', () => {
    expect(() => decideWorkspaceRetention([{ runId: 'a', state: 'waiting' as never }])).toThrow();
  });
});

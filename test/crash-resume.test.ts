import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { RunEvent } from '../src/domain/events.js';
import type { RunSummary } from '../src/domain/run.js';
import {
  exampleCassette,
  exampleDir,
  exampleRequest,
  runGantry,
  runGantryUntil,
  tempHome,
} from './support/gantry-cli.js';

/** What a resumed run must show: one of each side effect, no event twice, no gap in the sequence. */
function expectNoDuplicates(events: RunEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.key)).size).toBe(events.length);
  const count = (type: RunEvent['type']) => events.filter((e) => e.type === type).length;
  expect(count('pr.opened')).toBe(1);
  expect(count('evidence.assembled')).toBe(1);
  expect(count('request.received')).toBe(1);
  expect(count('reproduction.recorded')).toBe(1);
  const calls = events
    .filter((e) => e.type === 'tool.executed')
    .map((e) => e.type === 'tool.executed' && e.data.callId);
  expect(new Set(calls).size).toBe(calls.length);
  const turns = events.filter((e) => e.type === 'model.turn').map((e) => e.key);
  // Nine agent turns and the review's one.
  expect(turns).toHaveLength(10);
  expect(count('review.completed')).toBe(1);
}

async function runsIn(home: string): Promise<RunSummary[]> {
  const listed = await runGantry(['--home', home, 'runs', '--json']);
  expect(listed.code, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout) as RunSummary[];
}

async function eventsOf(home: string, runId: string): Promise<RunEvent[]> {
  const shown = await runGantry(['--home', home, 'show', runId, '--json']);
  expect(shown.code, shown.stderr).toBe(0);
  return (JSON.parse(shown.stdout) as { events: RunEvent[] }).events;
}

function pullRequestsIn(home: string): string[] {
  const bare = join(home, 'forge', 'billing-service.git');
  return execFileSync('git', ['--git-dir', bare, 'for-each-ref', '--format=%(refname)', 'refs/pull/'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

describe('a run killed with SIGKILL finishes after a restart, with no duplicated side effect', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
  });

  it('survives a kill in the middle of the patch loop', async () => {
    // Prepare
    const home = await tempHome('gantry-crash-patch-');
    cleanup = home.cleanup;
    // Act: kill the process right after the patch edit was recorded, before its tests ran
    const first = await runGantryUntil(
      ['--home', home.home, 'run', exampleRequest, '--model', exampleCassette],
      /file changed: src\/invoice\.js/,
    );
    expect(first.killed).toBe(true);
    expect(first.signal).toBe('SIGKILL');
    const [interrupted] = await runsIn(home.home);
    expect(interrupted?.state).toBe('running');
    const resumed = await runGantry(['--home', home.home, 'continue', interrupted?.runId ?? '', '--json']);
    // Assess
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      state: 'completed',
      pullRequest: 'gantry://billing-service/pull/1',
    });
    const events = await eventsOf(home.home, interrupted?.runId ?? '');
    expectNoDuplicates(events);
    expect(pullRequestsIn(home.home)).toEqual(['refs/pull/1/head']);
    const replay = await runGantry(['--home', home.home, 'replay', interrupted?.runId ?? '']);
    expect(replay.code, replay.stdout).toBe(0);
  });

  it('survives a kill at the plan approval gate, and the approval resumes it', async () => {
    // Prepare: naming six files makes the change broad enough to need plan approval
    const home = await tempHome('gantry-crash-gate-');
    cleanup = home.cleanup;
    const request = YAML.parse(await readFile(exampleRequest, 'utf8')) as Record<string, unknown> & {
      description: string;
    };
    request.description +=
      '\nRelated: src/invoice.js, src/money.js, src/server.js, test/invoice.test.js, test/money.test.js, README.md\n';
    request.repository = { name: 'billing-service', path: exampleDir };
    const requestFile = join(home.home, 'broad-request.yaml');
    await writeFile(requestFile, YAML.stringify(request));
    // Act: kill as soon as the gate is recorded
    const first = await runGantryUntil(
      ['--home', home.home, 'run', requestFile, '--model', exampleCassette],
      /waiting for plan approval/,
    );
    expect(first.killed).toBe(true);
    const [interrupted] = await runsIn(home.home);
    const restarted = await runGantry(['--home', home.home, 'continue', interrupted?.runId ?? '', '--json']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toMatchObject({ state: 'waiting_for_approval' });
    const [waiting] = await runsIn(home.home);
    expect(waiting?.state).toBe('waiting_for_approval');
    expect(waiting?.pendingApproval).toMatch(/^apv-[a-f0-9]{12}$/);
    const selfApproval = await runGantry([
      '--home',
      home.home,
      'approve',
      waiting?.pendingApproval ?? '',
      '--as',
      'maria.lopez',
    ]);
    const approved = await runGantry([
      '--home',
      home.home,
      'approve',
      waiting?.pendingApproval ?? '',
      '--as',
      'sam.okafor',
      '--json',
    ]);
    const again = await runGantry([
      '--home',
      home.home,
      'approve',
      waiting?.pendingApproval ?? '',
      '--as',
      'sam.okafor',
    ]);
    // Assess
    expect(selfApproval.code).toBe(2);
    expect(selfApproval.stderr).toMatch(
      /maria\.lopez may not answer approval apv-[a-f0-9]+: maria\.lopez is the requester/,
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ state: 'completed' });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already approved by sam\.okafor/);
    const events = await eventsOf(home.home, waiting?.runId ?? '');
    expectNoDuplicates(events);
    expect(events.filter((e) => e.type === 'approval.requested')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'approval.decided')).toMatchObject([
      { data: { decision: 'approved', by: 'sam.okafor' } },
    ]);
    expect(pullRequestsIn(home.home)).toEqual(['refs/pull/1/head']);
  });
});

import validator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { buildIssueResolver, localResources, taskSteps } from './issue-resolver.js';
import { buildRollback } from './rollback.js';

describe('issue resolver definition', () => {
  it('is valid Amazon States Language', () => {
    // Act
    for (const definition of [buildIssueResolver(), buildRollback()]) {
      const { isValid, errorsText } = validator(definition as never);
      // Assess
      expect(errorsText(), errorsText()).toBe('');
      expect(isValid).toBe(true);
    }
  });

  it('gates the plan with a .waitForTaskToken task that passes the token', () => {
    // Act
    const gate = buildIssueResolver().States.AwaitPlanApproval;
    // Assess
    expect(gate?.Type).toBe('Task');
    expect(gate && 'Resource' in gate && gate.Resource).toBe(
      'arn:aws:states:::lambda:invoke.waitForTaskToken',
    );
    expect(JSON.stringify(gate)).toContain('"taskToken.$":"$$.Task.Token"');
  });

  it('reaches Completed only through the evidence check and the pull request', () => {
    // Prepare: the transitions of the state machine as a graph
    const definition = buildIssueResolver();
    const edges = (name: string): string[] => {
      const state = definition.States[name];
      if (!state) return [];
      const targets = JSON.stringify(state).match(/"(?:Next|Default)":"[^"]+"/g) ?? [];
      return targets.map((t) => t.split('":"')[1]?.slice(0, -1) ?? '');
    };
    const reachable = (without: string) => {
      const seen = new Set<string>();
      const stack = [definition.StartAt];
      while (stack.length) {
        const name = stack.pop() as string;
        if (seen.has(name) || name === without) continue;
        seen.add(name);
        stack.push(...edges(name));
      }
      return seen;
    };
    // Assess: remove either checkpoint and Completed can no longer be reached
    expect(reachable('none').has('Completed')).toBe(true);
    expect(reachable('EvidenceComplete?').has('Completed')).toBe(false);
    expect(reachable('OpenPullRequest').has('Completed')).toBe(false);
    expect(edges('OpenPullRequestResult').sort()).toEqual(['RecordFailure', 'ReviewPullRequest']);
    // After a merge, Completed needs a promoted rollout and a healthy observation.
    expect(reachable('ObserveProduction').has('RecordRolledBack')).toBe(true);
    const withoutObservation = reachable('ProductionHealthy?');
    expect(withoutObservation.has('Completed')).toBe(true); // hand-off and merge-only still complete
    expect(edges('Promoted?').sort()).toEqual(['ObserveProduction', 'StartRollback']);
    expect(edges('ProductionHealthy?').sort()).toEqual(['CompleteRun', 'StartRollback']);
  });

  it('routes an unanswered gate past its deadline to a rejection, not a failure', () => {
    const gate = buildIssueResolver().States.AwaitPlanApproval;
    expect(gate && 'Catch' in gate && gate.Catch?.[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      Next: 'RecordExpiry',
      ResultPath: '$.error',
    });
  });

  it('runs every workspace step as a sandbox task and reads its result back with loadStepResult', () => {
    // Prepare
    const definition = buildIssueResolver();
    const tasks = taskSteps(definition, localResources);
    // Assess
    const sandbox = tasks.filter((t) => t.kind === 'sandbox');
    expect(sandbox.map((t) => t.step).sort()).toEqual(
      [
        'assembleEvidence',
        'mapRepository',
        'mergeChange',
        'openPullRequest',
        'patch',
        'reproduce',
        'reviewPullRequest',
        'verify',
      ].sort(),
    );
    for (const task of sandbox) {
      const state = definition.States[task.state];
      expect(state && 'Resource' in state && state.Resource).toBe('arn:aws:states:::ecs:runTask.sync');
      expect(JSON.stringify(state)).toContain('"AssignPublicIp":"DISABLED"');
      const next = state && 'Next' in state ? state.Next : undefined;
      expect(tasks.find((t) => t.state === next)?.step).toBe('loadStepResult');
    }
  });

  it('precedes every sandbox task with its grant state and hands the task the grant, never anything else', () => {
    // Prepare
    const definition = buildIssueResolver();
    const tasks = taskSteps(definition, localResources);
    // Act
    const sandbox = tasks.filter((t) => t.kind === 'sandbox');
    // Assess: the only way into Run<X> is Grant<X>, a grantSandbox Lambda task on the run alone
    for (const task of sandbox) {
      const entry = task.state.replace(/^Run/, '');
      const into = Object.entries(definition.States).filter(
        ([, state]) => 'Next' in state && state.Next === task.state,
      );
      expect(into.map(([name]) => name)).toEqual([`Grant${entry}`]);
      const grant = definition.States[`Grant${entry}`];
      expect(tasks.find((t) => t.state === `Grant${entry}`)).toMatchObject({
        step: 'grantSandbox',
        kind: 'lambda',
      });
      expect(grant && 'Parameters' in grant && grant.Parameters).toEqual({ 'run.$': '$.run' });
      expect(grant && 'ResultPath' in grant && grant.ResultPath).toBe('$.sandboxGrant');
      const pass = definition.States[entry];
      expect(pass?.Type === 'Pass' && pass.Next).toBe(`Grant${entry}`);
      const state = definition.States[task.state] as { Parameters: Record<string, unknown> };
      const environment = (
        state.Parameters.Overrides as { ContainerOverrides: { Environment: Record<string, string>[] }[] }
      ).ContainerOverrides[0]?.Environment;
      expect(environment).toContainEqual({ Name: 'GANTRY_RUN_GRANT', 'Value.$': '$.sandboxGrant.grant' });
    }
    expect(sandbox).toHaveLength(8);
  });

  it('maps every task to a known step', () => {
    // Act
    const tasks = taskSteps(buildIssueResolver(), localResources);
    // Assess
    expect(tasks.find((t) => t.state === 'AwaitPlanApproval')).toEqual({
      state: 'AwaitPlanApproval',
      step: 'requestApproval',
      kind: 'token',
    });
    expect(tasks.filter((t) => t.step === 'finishRun').length).toBeGreaterThanOrEqual(4);
    expect(tasks.find((t) => t.state === 'RunRollback')).toEqual({
      state: 'RunRollback',
      step: 'runRollback',
      kind: 'execution',
    });
  });

  it('builds a rollback workflow whose every task is a known step and whose only success is a recovered redeploy', () => {
    // Prepare
    const definition = buildRollback();
    // Act
    const tasks = taskSteps(definition, localResources);
    // Assess
    expect(
      tasks
        .filter((t) => t.kind === 'sandbox')
        .map((t) => t.step)
        .sort(),
    ).toEqual(['mergeChange', 'openRevertPullRequest', 'revertChange']);
    const into = (target: string) =>
      Object.entries(definition.States)
        .filter(
          ([, state]) =>
            JSON.stringify(state).includes(`"Next":"${target}"`) ||
            JSON.stringify(state).includes(`"Default":"${target}"`),
        )
        .map(([name]) => name);
    expect(into('Completed')).toEqual(['CompleteRollback']);
    expect(into('CompleteRollback')).toEqual(['FileFixForward']);
    expect(into('FileFixForward')).toEqual(['Recovered?']);
  });
  it('hands sandbox tasks identifiers and hashes only, never free text (local JsonToString cannot escape it)', () => {
    // Prepare: the paths each workspace step's input may read
    const allowed = new Set([
      '$.run',
      '$.repo',
      '$.loop.iteration',
      '$.plan.maxPatchIterations',
      '$.agent',
      '$.evidence.markdown',
      '$.evidence.complete',
    ]);
    const definition = buildIssueResolver();
    // Act
    const paths = Object.values(definition.States)
      .filter((state) => state.Type === 'Pass' && state.Comment?.includes('handed to the sandbox task'))
      .flatMap((state) => JSON.stringify(state).match(/"\$\.[^"]+"/g) ?? [])
      .map((p) => p.slice(1, -1))
      .filter((p) => p !== '$.stepInput');
    // Assess
    expect(paths.length).toBeGreaterThan(6);
    expect(paths.filter((p) => !allowed.has(p))).toEqual([]);
  });
});

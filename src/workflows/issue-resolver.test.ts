import validator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { buildIssueResolver, localFunctionArn, taskSteps } from './issue-resolver.js';

describe('issue resolver definition', () => {
  it('is valid Amazon States Language', () => {
    // Act
    const { isValid, errorsText } = validator(buildIssueResolver() as never);
    // Assess
    expect(errorsText(), errorsText()).toBe('');
    expect(isValid).toBe(true);
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
    // Prepare
    const states = buildIssueResolver().States;
    const into = (target: string) =>
      Object.entries(states)
        .filter(([, s]) => JSON.stringify(s).includes(`"${target}"`))
        .map(([name]) => name);
    // Assess
    expect(into('Completed')).toEqual(['CompleteRun']);
    expect(into('CompleteRun')).toEqual(['OpenPullRequest']);
    expect(into('OpenPullRequest')).toEqual(['EvidenceComplete?']);
  });

  it('maps every task to a known step', () => {
    // Act
    const tasks = taskSteps(buildIssueResolver(), localFunctionArn);
    // Assess
    expect(tasks.find((t) => t.state === 'AwaitPlanApproval')).toEqual({
      state: 'AwaitPlanApproval',
      step: 'requestApproval',
      waitsForToken: true,
    });
    expect(tasks.filter((t) => t.step === 'finishRun').length).toBeGreaterThanOrEqual(4);
  });
});

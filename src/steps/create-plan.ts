import type { RepositoryContext } from '../domain/context.js';
import type { Plan } from '../domain/plan.js';
import type { EngineeringRequest } from '../domain/request.js';
import type { RiskAssessment } from '../domain/risk.js';
import { pathsMentionedIn } from '../policy/risk-paths.js';
import { selectedTestCommand } from '../repomap/command-selection.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';

/**
 * Builds the plan the agent works to. The runtime writes it from the request, the risk and the map:
 * the model proposes changes later, inside this frame, and never widens it.
 */
export function planFor(
  request: EngineeringRequest,
  risk: RiskAssessment,
  context: RepositoryContext,
  maxPatchIterations: number,
  /** The test command the run verifies with (the map's selection, or the configured one). */
  testCommand: string[] | undefined = selectedTestCommand(context),
): Plan {
  const files = new Set(context.files);
  const mentioned = pathsMentionedIn(
    [request.title, request.description, ...request.acceptanceCriteria].join('\n'),
  )
    .map((p) => p.replace(/^\.\//, ''))
    .filter((p) => files.has(p));
  const linked = context.testLinks.filter((l) => mentioned.includes(l.source) || mentioned.includes(l.test));
  const expectedScope = [...new Set([...mentioned, ...linked.flatMap((l) => [l.source, l.test])])].sort();
  return {
    objective: `Resolve "${request.title}" so that: ${request.acceptanceCriteria.join('; ')}`,
    assumptions: [
      testCommand
        ? `\`${testCommand.join(' ')}\` is the repository's test command and the judge of correctness`
        : 'the repository declares no test command; verification needs one the agent adds',
      `the default branch at ${context.commit ?? 'its head'} is the starting point`,
    ],
    constraints: [...request.constraints, 'change only what the request needs', 'keep the reproduction test'],
    steps: [
      {
        id: 'reproduce',
        description: 'Add a test that fails because of the problem.',
        expectedEvidence: ['the test command fails before the patch'],
      },
      {
        id: 'patch',
        description: 'Change the code so the problem is gone.',
        expectedEvidence: ['a diff within the expected scope'],
      },
      {
        id: 'verify',
        description: 'Run the test command on the patched code.',
        expectedEvidence: ['the test command passes after the patch'],
      },
      {
        id: 'evidence',
        description: 'Assemble the evidence packet and open a pull request.',
        expectedEvidence: ['a complete evidence packet'],
      },
    ],
    forbiddenActions: [
      'push to the default branch',
      'change CI workflows, migrations, CODEOWNERS or lockfiles',
      'read, print or send secrets',
      'reach the network',
      'weaken or delete the reproduction test',
    ],
    risk: risk.tier,
    expectedScope,
    testCommand,
    maxPatchIterations,
  };
}

/** Records the plan for this run. */
export async function createPlan(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<{ maxPatchIterations: number; artifact: string }> {
  const journal = await journalFor(deps, input.run);
  const created = await journal.once('plan', 'plan.created', stepActor('createPlan'), async () => {
    const risk = journal.find('risk', 'risk.classified');
    if (!risk) throw new Error(`run ${input.run.runId} has no risk classification`);
    const context = JSON.parse(await deps.artifacts.getText(input.repo.context)) as RepositoryContext;
    const request = requestOf(journal);
    const iterations = Math.min(
      deps.settings.maxPatchIterations,
      deps.capabilities.get(request.capability).maxPatchIterations,
    );
    const plan = planFor(request, risk.data, context, iterations, input.repo.testCommand ?? undefined);
    return { artifact: await deps.artifacts.put(JSON.stringify(plan), 'application/json'), plan };
  });
  return { maxPatchIterations: created.plan.maxPatchIterations, artifact: created.artifact };
}

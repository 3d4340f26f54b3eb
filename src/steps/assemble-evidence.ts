import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type EvidencePacket,
  excerptTestOutput,
  renderEvidenceMarkdown,
  scoreEvidence,
} from '../domain/evidence.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { filesOutsidePlan } from '../policy/diff-scope.js';
import { planOf } from './agent-phase.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/**
 * Builds the evidence packet from the run's own records: what the log says happened, not what the
 * agent said. Stores it by hash as JSON and markdown, writes a readable copy, and scores it.
 */
export async function assembleEvidence(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<{
  complete: boolean;
  json: string;
  markdown: string;
  missing: string[];
  reason: string;
  file: string;
}> {
  const journal = await journalFor(deps, input.run);
  const assembled = await journal.once(
    'evidence',
    'evidence.assembled',
    stepActor('assembleEvidence'),
    async () => {
      const packet = await buildPacket(deps, journal, input.repo);
      const { completeness, missing } = scoreEvidence(packet);
      const markdown = renderEvidenceMarkdown(packet);
      const [json, markdownHash] = await Promise.all([
        deps.artifacts.put(JSON.stringify(packet, null, 2), 'application/json'),
        deps.artifacts.put(markdown, 'text/markdown; charset=utf-8'),
      ]);
      return { json, markdown: markdownHash, completeness, missing };
    },
  );
  const file = await writeReadableCopy(deps, input.run.runId, assembled.json, assembled.markdown);
  const complete = assembled.completeness === 1;
  return {
    complete,
    json: assembled.json,
    markdown: assembled.markdown,
    missing: assembled.missing,
    reason: complete ? '' : `the evidence packet is incomplete: missing ${assembled.missing.join(', ')}`,
    file,
  };
}

async function buildPacket(deps: StepDeps, journal: RunJournal, repo: RepoState): Promise<EvidencePacket> {
  const request = requestOf(journal);
  const plan = await planOf(journal);
  const risk = journal.find('risk', 'risk.classified')?.data;
  const reproduction = journal.find('reproduction', 'reproduction.recorded')?.data;
  const events = journal.events();
  const verifications = events.filter((e) => e.type === 'verification.completed');
  const lastVerification = verifications.at(-1);

  const git = new WorkspaceGit(repo.workspace, deps.settings.workspacesDir);
  const filesChanged = await git.numstat(repo.baseCommit);
  const changed = filesChanged.map((f) => f.path);
  const testFiles = reproduction?.testFiles ?? [];

  const excerpt = async (hash: string) => excerptTestOutput(await deps.artifacts.getText(hash));
  const modelTurns = events.filter((e) => e.type === 'model.turn');
  const finalPatch = events.filter((e) => e.type === 'patch.iteration').at(-1);

  return {
    runId: journal.runId,
    traceId: journal.traceId,
    title: request.title,
    summary: `Gantry resolved "${request.title}" in ${verifications.length} patch iteration(s): ${changed.length} file(s) changed on branch ${repo.branch}. ${finalPatch?.data.outcome === 'verified' ? 'The test command passes on the patched code.' : 'Verification did not pass.'}`,
    request: { source: request.source, sourceRef: request.sourceRef, requester: request.requester },
    scope: {
      filesChanged,
      outsidePlan: plan.expectedScope.length ? filesOutsidePlan(changed, plan.expectedScope, testFiles) : [],
    },
    reproduction: {
      reproduced: reproduction?.reproduced ?? false,
      before:
        reproduction?.reproduced &&
        reproduction.argv &&
        reproduction.output &&
        reproduction.exitCode !== undefined
          ? {
              argv: reproduction.argv,
              exitCode: reproduction.exitCode,
              passed: reproduction.exitCode === 0,
              output: reproduction.output,
              excerpt: await excerpt(reproduction.output),
            }
          : undefined,
      testFiles,
      reason: reproduction?.reason,
    },
    verification: lastVerification
      ? [
          {
            argv: lastVerification.data.argv,
            exitCode: lastVerification.data.exitCode,
            passed: lastVerification.data.passed,
            output: lastVerification.data.output,
            excerpt: await excerpt(lastVerification.data.output),
          },
        ]
      : [],
    risk: {
      tier: risk?.tier ?? 'critical',
      reasons: risk?.reasons.map((r) => `${r.rule}: ${r.explanation}`) ?? [],
      maxAutonomyTier: risk?.maxAutonomyTier ?? 0,
    },
    // The constraints as the runtime checked them on the final diff, in the last verification.
    constraints: events.filter((e) => e.type === 'scope.checked').at(-1)?.data.checks ?? [],
    rollback: {
      method: `Revert the pull request's merge commit on ${repo.defaultBranch}; the change is confined to branch ${repo.branch}.`,
      steps: [
        `git revert --no-edit <merge commit of ${repo.branch}>`,
        // Plain text: the renderer escapes every step, so markdown written here would show as typed.
        `run ${(repo.testCommand ?? ['the test command']).join(' ')} on the revert`,
        'open the revert as a pull request and merge it',
      ],
    },
    agent: {
      model: deps.model.id,
      turns: modelTurns.length,
      toolCalls: events.filter((e) => e.type === 'tool.requested').length,
      deniedToolCalls: events.filter((e) => e.type === 'tool.denied').length,
    },
    policyVersion: journal.policyVersion,
  };
}

/** A readable copy for people; the stored artifacts stay the record. */
async function writeReadableCopy(
  deps: StepDeps,
  runId: string,
  json: string,
  markdown: string,
): Promise<string> {
  const dir = join(deps.settings.evidenceDir, runId);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'evidence.json'), await deps.artifacts.get(json));
  const file = join(dir, 'evidence.md');
  await writeFile(file, await deps.artifacts.get(markdown));
  return file;
}

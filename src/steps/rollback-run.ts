import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RunHaltedError } from '../domain/errors.js';
import type { EngineeringRequest } from '../domain/request.js';
import { gitDirOf } from '../forge/git-command.js';
import { renderEscalation } from '../incidents/escalation.js';
import {
  type Incident,
  incidentIdOf,
  incidentRef,
  requireIncident,
  saveIncident,
} from '../incidents/incidents.js';
import { markdownCode, markdownInline } from '../inert-text/index.js';
import { deliveryOf, observeOnce, openedIncident } from './delivery-context.js';
import { describeStepError } from './finish-run.js';
import { authorizeLifecycle } from './policy-context.js';
import { filedRequestPath, recordNewRun, writeFiledRequest } from './record-request.js';
import { journalFor, requestOf, stepActor } from './run-context.js';
import { runtimeTestRun } from './runtime-test-run.js';
import type { RepoState, RunRef, StepDeps } from './step-deps.js';
import { WorkspaceGit } from './workspace-git.js';

/** The rollback run of an incident: one per incident, on the same trace as the run that caused it. */
export const rollbackRunIdFor = (incidentId: string) => `rb-${incidentId}`;

/**
 * The engineering request for a rollback, under the rollback capability. Its text is Gantry's own and
 * names the incident: the offending pull request's title (untrusted text) is not copied into it.
 */
export function rollbackRequestFor(
  incident: {
    id: string;
    service: string;
    repository: string;
    commit: string;
    pullRequest?: number;
    summary: string;
    source: 'analysis' | 'alarm';
  },
  receivedAt: string,
): EngineeringRequest {
  return {
    id: `rollback-${incident.id}`,
    source: incident.source === 'alarm' ? 'alarm' : 'api',
    sourceRef: incidentRef(incident.id),
    repository: { name: incident.repository, defaultBranch: 'main' },
    requester: 'gantry-rollback',
    capability: 'rollback',
    title: `Roll back ${incident.service} commit ${incident.commit.slice(0, 12)}${incident.pullRequest === undefined ? '' : ` (pull request #${incident.pullRequest})`}`,
    description: incident.summary,
    acceptanceCriteria: [
      'The offending change is reverted, and only it',
      'Production runs the reverted commit and its figures are back within the alarm thresholds',
    ],
    constraints: ['Do not change dependencies', 'Do not modify migration files'],
    attachments: [],
    receivedAt,
  };
}

/** Records the rollback request for the incident this run opened; returns the rollback run to execute. */
export async function startRollback(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ run: RunRef; incidentId: string }> {
  const journal = await journalFor(deps, input.run);
  const opened = openedIncident(journal);
  if (opened?.type !== 'incident.opened') {
    throw new RunHaltedError('there is no incident to roll back', { input: input.run.runId });
  }
  const incident = await requireIncident(deps.records, opened.data.incidentId);
  const child: RunRef = { runId: rollbackRunIdFor(incident.id), traceId: input.run.traceId };
  await recordNewRun(deps, child, rollbackRequestFor(incident, deps.now().toISOString()));
  await saveIncident(deps.records, { ...incident, status: 'rolling-back', rollbackRun: child.runId });
  await journal.once('rollback:start', 'rollback.started', stepActor('startRollback'), async () => ({
    incidentId: incident.id,
    rollbackRun: child.runId,
  }));
  return { run: child, incidentId: incident.id };
}

/** Reads how the rollback run ended and records it in this run's log. */
export async function finishRollback(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ outcome: 'recovered' | 'needs-human'; reason: string }> {
  const journal = await journalFor(deps, input.run);
  const started = journal.find('rollback:start', 'rollback.started');
  if (!started) throw new RunHaltedError('no rollback was started', { input: input.run.runId });
  const summary = await deps.log.getRunSummary(started.data.rollbackRun);
  const recovered = summary?.state === 'completed';
  const incident = await requireIncident(deps.records, started.data.incidentId);
  const reason = recovered
    ? `rolled back by run ${started.data.rollbackRun}: ${incident.summary}`
    : `the rollback run ${started.data.rollbackRun} stopped and asked a person: ${summary?.reason ?? summary?.state ?? 'it did not finish'}`;
  const done = await journal.once(
    'rollback:finish',
    'rollback.finished',
    stepActor('finishRollback'),
    async () => ({
      incidentId: started.data.incidentId,
      rollbackRun: started.data.rollbackRun,
      outcome: recovered ? ('recovered' as const) : ('needs-human' as const),
      reason,
    }),
  );
  return { outcome: done.outcome, reason: done.reason };
}

async function incidentOf(deps: StepDeps, runRef: RunRef) {
  const journal = await journalFor(deps, runRef);
  const request = requestOf(journal);
  return { journal, request, incident: await requireIncident(deps.records, incidentIdOf(request.sourceRef)) };
}

/**
 * Reverts exactly the offending merge on a branch from the latest default branch, checks that the
 * revert touches only what that merge touched, runs the tests in the sandbox and pushes the branch.
 * `clean: false` (with the reason) when the runbook does not cover it: the workflow asks a person.
 */
export async function revertChange(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ clean: boolean; reason: string; repo: RepoState | null }> {
  const { journal, incident } = await incidentOf(deps, input.run);
  await authorizeLifecycle(deps, journal, 'rollback');
  const repository = incident.repository;
  const workspace = join(deps.settings.workspacesDir, input.run.runId);
  const base = await deps.forge.defaultHead(repository);
  await deps.workspaces.prepare(workspace);
  const git = new WorkspaceGit(workspace, deps.settings.workspacesDir);
  const existing = journal.find('revert', 'revert.prepared');
  if (!existing) {
    await deps.workspaces.clear(workspace);
    await rm(gitDirOf(workspace), { recursive: true, force: true });
    await deps.forge.checkout(repository, base.commit, workspace);
  }
  const branch = `gantry/revert-${incident.pullRequest ?? incident.commit.slice(0, 12)}`;
  const prepared = await journal.once('revert', 'revert.prepared', stepActor('revertChange'), async () => {
    await git.createBranch(branch);
    const pull =
      incident.pullRequest === undefined
        ? undefined
        : await deps.forge.getPullRequest(repository, incident.pullRequest);
    const merge =
      (pull?.head ? await git.mergeOf(pull.head, base.commit) : undefined) ??
      (await git.mergeOf(incident.commit, base.commit));
    if (!merge) {
      return {
        revertOf: incident.commit,
        branch,
        commit: base.commit,
        files: [],
        clean: false,
        reason: `commit ${incident.commit.slice(0, 12)} is not on ${base.branch}`,
      };
    }
    const offending = await git.filesBetween(`${merge}^1`, merge);
    const applied = await git.revert(
      merge,
      `Revert "${branch}" for incident ${incident.id}\n\nReverts ${merge} (pull request #${incident.pullRequest ?? '?'}), which ${incident.source === 'alarm' ? 'raised a production alarm' : 'failed its rollout analysis'}.`,
    );
    if (!applied) {
      return {
        revertOf: merge,
        branch,
        commit: base.commit,
        files: offending,
        clean: false,
        reason: `the revert of ${merge.slice(0, 12)} does not apply cleanly on ${base.branch} ${base.commit.slice(0, 12)}`,
      };
    }
    const files = await git.filesBetween(base.commit, 'HEAD');
    const beyond = files.filter((f) => !offending.includes(f));
    const commit = await git.head();
    if (beyond.length > 0) {
      return {
        revertOf: merge,
        branch,
        commit,
        files,
        clean: false,
        reason: `the revert would touch files the offending change did not: ${beyond.join(', ')}`,
      };
    }
    return {
      revertOf: merge,
      branch,
      commit,
      files,
      clean: true,
      reason: `reverts ${merge.slice(0, 12)}: ${files.join(', ')}`,
    };
  });
  if (!prepared.clean) return { clean: false, reason: prepared.reason, repo: null };
  const argv = incident.testCommand;
  if (argv && argv.length > 0) {
    const test = await runtimeTestRun(deps, journal, {
      key: 'revert:test',
      purpose: 'verify',
      argv,
      workspace,
      step: 'revertChange',
    });
    await journal.once('verify-1', 'verification.completed', stepActor('revertChange'), async () => ({
      iteration: 1,
      passed: test.passed,
      argv,
      exitCode: test.exitCode,
      output: test.output,
    }));
    if (!test.passed)
      return { clean: false, reason: `the tests fail on the revert (exit ${test.exitCode})`, repo: null };
  }
  await deps.forge.pushBranch(repository, workspace, branch);
  return {
    clean: true,
    reason: prepared.reason,
    repo: {
      repository,
      workspace,
      baseCommit: base.commit,
      defaultBranch: base.branch,
      branch,
      context: '',
      testCommand: argv,
    },
  };
}

/**
 * Opens the revert pull request. Its evidence is the incident: the alarm or analysis figures, the
 * offending pull request and run, the revert's files and the tests on it.
 */
export async function openRevertPullRequest(
  deps: StepDeps,
  input: { run: RunRef; repo: RepoState },
): Promise<{ number: number; url: string }> {
  const { journal, incident } = await incidentOf(deps, input.run);
  const actor = stepActor('openRevertPullRequest');
  const prepared = journal.find('revert', 'revert.prepared');
  const verification = journal.find('verify-1', 'verification.completed');
  const markdown = renderRevertEvidence(incident, prepared?.data, verification?.data);
  await journal.once('evidence', 'evidence.assembled', actor, async () => {
    const [json, md] = await Promise.all([
      deps.artifacts.put(
        JSON.stringify({ incident, revert: prepared?.data, verification: verification?.data }, null, 2),
        'application/json',
      ),
      deps.artifacts.put(markdown, 'text/markdown; charset=utf-8'),
    ]);
    const missing = [
      ...(verification?.data.passed || !incident.testCommand ? [] : ['passing-tests-after']),
      ...(prepared?.data.clean ? [] : ['diff-within-plan']),
    ];
    return { json, markdown: md, completeness: missing.length === 0 ? 1 : 0.5, missing };
  });
  await authorizeLifecycle(deps, journal, 'open_pr');
  const opened = await journal.once('pr', 'pr.opened', actor, async () => {
    const head = await deps.forge.pushBranch(input.repo.repository, input.repo.workspace, input.repo.branch);
    const pr = await deps.forge.openPullRequest({
      repository: input.repo.repository,
      branch: input.repo.branch,
      base: input.repo.defaultBranch,
      title: `revert: pull request #${incident.pullRequest ?? '?'} (incident ${incident.id})`,
      body: markdown,
      runId: input.run.runId,
    });
    const body = await deps.artifacts.put(markdown, 'text/markdown; charset=utf-8');
    return { number: pr.number, url: pr.url, branch: pr.branch, head, body };
  });
  await saveIncident(deps.records, {
    ...(await requireIncident(deps.records, incident.id)),
    revertPullRequest: opened.number,
  });
  return { number: opened.number, url: opened.url };
}

function renderRevertEvidence(
  incident: Awaited<ReturnType<typeof requireIncident>>,
  revert: { revertOf: string; files: string[]; reason: string; commit: string } | undefined,
  verification: { passed: boolean; argv: string[]; exitCode: number } | undefined,
): string {
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  const figures = incident.figures
    .map(
      (f) =>
        `| ${markdownInline(f.label)} | ${f.canary ? `${pct(f.canary.errorRate)} / p95 ${f.canary.latencyP95Ms.toFixed(0)} ms (${f.canary.requests} req)` : '—'} | ${f.baseline ? `${pct(f.baseline.errorRate)} / p95 ${f.baseline.latencyP95Ms.toFixed(0)} ms (${f.baseline.requests} req)` : '—'} | ${markdownInline(f.reasons.join('; ')) || '—'} |`,
    )
    .join('\n');
  return [
    `# Revert for incident ${markdownInline(incident.id)}`,
    '',
    `Gantry reverts this change under the pre-approved rollback runbook (capability \`rollback\`).`,
    '',
    '## What happened',
    '',
    `- Service: **${markdownInline(incident.service)}** (${markdownInline(incident.environment)}), deployment ${markdownCode(incident.deploymentId)}`,
    `- Detected by: ${incident.source === 'alarm' ? 'a production alarm' : 'the progressive rollout analysis'} at ${markdownInline(incident.detectedAt)}`,
    `- Offending change: commit ${markdownCode(incident.commit)}${incident.pullRequest === undefined ? '' : `, pull request #${incident.pullRequest}`}, run ${markdownCode(incident.offendingRun)}`,
    `- Summary: ${markdownInline(incident.summary)}`,
    '',
    '## Figures',
    '',
    '| window | canary / live | baseline | reasons |',
    '| --- | --- | --- | --- |',
    figures || '| — | — | — | — |',
    '',
    '## The revert',
    '',
    revert
      ? `- Reverts ${markdownCode(revert.revertOf)} as ${markdownCode(revert.commit)}: ${markdownInline(revert.reason)}`
      : '- not prepared',
    revert ? `- Files: ${revert.files.map((f) => markdownCode(f)).join(', ')}` : '',
    verification
      ? `- Tests on the revert: ${markdownCode(verification.argv.join(' '))} → exit ${verification.exitCode} (${verification.passed ? 'passed' : 'FAILED'})`
      : '- Tests: the repository has no test command',
    '',
    '## Rollback plan',
    '',
    '- Merge through the merge queue (tested on the latest default branch), then redeploy production at once',
    '- Confirm recovery under traffic; if production does not recover, stop and ask a person',
    '- File a request to fix the change forward',
    '',
  ].join('\n');
}

/** Deploys the merged revert to production at once, under the rollback runbook. */
export async function redeploy(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ passed: boolean; reason: string }> {
  const { journal, incident } = await incidentOf(deps, input.run);
  const delivery = deliveryOf(deps);
  const merged = journal.find('merge', 'pr.merged');
  if (!merged)
    throw new RunHaltedError('the revert is not merged: nothing to redeploy', { input: input.run.runId });
  const done = journal.find('deploy:production', 'deploy.finished');
  if (done) return { passed: true, reason: done.data.reason };
  await authorizeLifecycle(deps, journal, 'rollback', { path: 'production' });
  const result = await delivery.deployer.redeploy({
    service: incident.service,
    repository: incident.repository,
    commit: merged.data.mergeCommit,
    runId: input.run.runId,
    pullRequest: merged.data.number,
  });
  const failed = result.smoke.checks.filter((c) => !c.passed);
  const reason = result.smoke.passed
    ? `production runs the revert ${merged.data.mergeCommit.slice(0, 12)}`
    : `the redeployed revert fails its smoke checks: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`;
  await journal.record('deploy:production', 'deploy.finished', stepActor('redeploy'), {
    environment: 'production',
    outcome: 'redeployed',
    deploymentId: result.deployment.id,
    commit: result.deployment.commit,
    reason,
  });
  return { passed: result.smoke.passed, reason };
}

/** Watches production after the redeploy: recovered when no alarm fires through the window. */
export async function confirmRecovery(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ healthy: boolean; reason: string }> {
  const { journal, incident } = await incidentOf(deps, input.run);
  const delivery = deliveryOf(deps);
  const done = await observeOnce(journal, delivery, {
    key: 'recovery',
    step: 'confirmRecovery',
    service: incident.service,
    purpose: 'recovery',
  });
  return {
    healthy: done.healthy,
    reason: done.healthy
      ? `recovered: ${(done.stats.errorRate * 100).toFixed(1)}% errors, p95 ${done.stats.latencyP95Ms.toFixed(0)} ms`
      : `production did not recover after the redeploy: ${done.alarms.map((a) => `${a.metric} ${a.value} > ${a.threshold}`).join(', ')}`,
  };
}

/**
 * Files a new engineering request to fix the change forward, linked to the incident: written as a request
 * file a person can run (`gantry run <file>`), stored by hash, and recorded in the rollback run's log.
 */
export async function fileFixForward(
  deps: StepDeps,
  input: { run: RunRef },
): Promise<{ requestId: string; file: string }> {
  const { journal, incident } = await incidentOf(deps, input.run);
  const delivery = deliveryOf(deps);
  const offending = await deps.log.read(incident.offendingRun);
  const original = offending.find((e) => e.type === 'request.received');
  const originalRequest = original?.type === 'request.received' ? original.data.request : undefined;
  const requestId = `fix-forward-${incident.id}`;
  const revertPr = journal.find('pr', 'pr.opened')?.data;
  const request = {
    title: `Fix forward: ${originalRequest?.title ?? `the change reverted by incident ${incident.id}`}`,
    requester: originalRequest?.requester ?? 'gantry-rollback',
    capability: originalRequest?.capability ?? 'low-risk-bugfix',
    repository: { name: incident.repository },
    description: [
      `Gantry rolled back commit ${incident.commit} (pull request #${incident.pullRequest ?? '?'}, run ${incident.offendingRun}) for incident ${incident.id}: ${incident.summary}`,
      `The revert is pull request #${revertPr?.number ?? '?'}. The original request still needs a fix that keeps the service healthy under production traffic.`,
      originalRequest?.description ? `Original request:\n${originalRequest.description}` : '',
    ]
      .filter(Boolean)
      .join('\n\n'),
    acceptanceCriteria: [
      ...(originalRequest?.acceptanceCriteria ?? []),
      `The service stays within its rollout analysis thresholds (incident ${incident.id})`,
    ].slice(0, 5),
    constraints: originalRequest?.constraints ?? [],
  };
  const file = filedRequestPath(delivery.requestsDir, requestId);
  const done = await journal.once('fix-forward', 'request.filed', stepActor('fileFixForward'), async () => {
    const { artifact } = await writeFiledRequest(
      deps,
      delivery.requestsDir,
      requestId,
      `Filed by Gantry for incident ${incident.id}`,
      request,
    );
    await deps.records.put('filed-request', requestId, {
      requestId,
      file,
      artifact,
      incidentId: incident.id,
      filedAt: deps.now().toISOString(),
      status: 'open',
    });
    return {
      requestId,
      title: request.title,
      artifact,
      reason: `fix forward after incident ${incident.id}`,
      incidentId: incident.id,
    };
  });
  await saveIncident(deps.records, {
    ...(await requireIncident(deps.records, incident.id)),
    status: 'resolved',
    fixRequest: done.requestId,
    resolvedAt: deps.now().toISOString(),
  });
  return { requestId: done.requestId, file };
}

/**
 * The runbook does not cover what happened (the revert does not apply, would touch more, fails its
 * tests, or production did not recover): the incident is marked for a person, with the reason.
 */
export async function escalateRollback(
  deps: StepDeps,
  input: { run: RunRef; reason?: string; error?: unknown },
): Promise<{ reason: string }> {
  const { incident } = await incidentOf(deps, input.run);
  const why = input.reason ?? (input.error === undefined ? 'unknown' : describeStepError(input.error));
  const reason = deps.redactor.redact(`rollback needs a person: ${why}`).text;
  await handToPeople(deps, { ...incident, rollbackRun: input.run.runId }, reason);
  return { reason };
}

/**
 * Marks an incident `needs-human` with the reason, and asks the people who own the rollback runbook and
 * those who may deploy to take it: Slack and email messages, stored by hash on the incident.
 *
 * @example
 * const escalated = await handToPeople(deps, incident, 'the revert does not apply cleanly');
 */
export async function handToPeople(
  deps: Pick<StepDeps, 'capabilities' | 'approvers' | 'artifacts' | 'redactor' | 'records'>,
  incident: Incident,
  note: string,
): Promise<Incident> {
  const owners = [deps.capabilities.get('rollback').owner, ...deps.approvers.deployers];
  const messages = renderEscalation(incident, note, [...new Set(owners)]);
  const notification = await deps.artifacts.put(
    deps.redactor.redact(JSON.stringify(messages, null, 2)).text,
    'application/json',
  );
  const escalated: Incident = { ...incident, status: 'needs-human', note, notification };
  await saveIncident(deps.records, escalated);
  return escalated;
}

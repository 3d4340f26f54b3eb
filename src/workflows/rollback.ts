import type { EngineeringRequest } from '../domain/request.js';
import { isIncidentRef } from '../incidents/incidents.js';
import type { State, StateMachineDefinition } from './asl.js';
import {
  buildIssueResolver,
  localResources,
  run,
  type StepResources,
  step,
  workspaceStep,
} from './issue-resolver.js';

/**
 * The rollback workflow: a run under the rollback capability, started by the issue resolver (a failed
 * rollout analysis or an alarm during observation) or by an alarm traced to a Gantry deployment.
 *
 * It follows the pre-approved runbook: revert exactly the offending merge on a branch and run the tests,
 * open the revert pull request with the incident as its evidence, merge it through the merge queue (the
 * contract pre-approves that merge), redeploy production at once, confirm recovery, and file a request to
 * fix forward. A revert that does not apply cleanly, would touch anything beyond the offending change, or
 * does not bring production back stops and asks a person (`escalateRollback`).
 *
 * @example
 * const definition = buildRollback(localResources);
 */
export function buildRollback(res: StepResources = localResources): StateMachineDefinition {
  const escalate = (reasonPath: string) =>
    step(res, 'escalateRollback', {
      Comment: 'The runbook does not cover this: the incident goes to a person, and the run stops here.',
      Parameters: { ...run, 'reason.$': reasonPath },
      ResultPath: '$.escalation',
      Next: 'RecordEscalation',
    });
  const states: Record<string, State> = {
    CheckRequest: step(res, 'checkRequest', {
      Parameters: run,
      ResultPath: '$.check',
      Next: 'RequestAccepted?',
    }),
    'RequestAccepted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.accepted', BooleanEquals: true, Next: 'ClassifyRisk' }],
      Default: 'EscalateRejectedRequest',
    },
    EscalateRejectedRequest: escalate('$.check.reason'),
    ClassifyRisk: step(res, 'classifyRisk', {
      Parameters: run,
      ResultPath: '$.risk',
      Next: 'RevertChange',
    }),
    ...workspaceStep(res, 'revertChange', 'RevertChange', {
      Parameters: run,
      ResultPath: '$.revert',
      Next: 'RevertClean?',
    }),
    'RevertClean?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.revert.clean', BooleanEquals: true, Next: 'OpenRevertPullRequest' }],
      Default: 'EscalateRevert',
    },
    EscalateRevert: escalate('$.revert.reason'),
    ...workspaceStep(res, 'openRevertPullRequest', 'OpenRevertPullRequest', {
      Parameters: { ...run, 'repo.$': '$.revert.repo' },
      ResultPath: '$.pr',
      Next: 'MergeRevert',
    }),
    ...workspaceStep(res, 'mergeChange', 'MergeRevert', {
      Parameters: { ...run, 'repo.$': '$.revert.repo' },
      ResultPath: '$.merged',
      Next: 'RevertMerged?',
    }),
    'RevertMerged?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.merged.merged', BooleanEquals: true, Next: 'Redeploy' }],
      Default: 'EscalateMerge',
    },
    EscalateMerge: escalate('$.merged.reason'),
    Redeploy: step(res, 'redeploy', {
      Comment: 'Production runs the reverted commit at once: a rollback does not wait for traffic steps.',
      Parameters: run,
      ResultPath: '$.redeploy',
      Next: 'Redeployed?',
    }),
    'Redeployed?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.redeploy.passed', BooleanEquals: true, Next: 'ConfirmRecovery' }],
      Default: 'EscalateRedeploy',
    },
    EscalateRedeploy: escalate('$.redeploy.reason'),
    ConfirmRecovery: step(res, 'confirmRecovery', {
      Parameters: run,
      ResultPath: '$.recovery',
      Next: 'Recovered?',
    }),
    'Recovered?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.recovery.healthy', BooleanEquals: true, Next: 'FileFixForward' }],
      Default: 'EscalateRecovery',
    },
    EscalateRecovery: escalate('$.recovery.reason'),
    FileFixForward: step(res, 'fileFixForward', {
      Comment: 'A new engineering request to fix the change forward, linked to the incident.',
      Parameters: run,
      ResultPath: '$.fixForward',
      Next: 'CompleteRollback',
    }),
    CompleteRollback: step(res, 'finishRun', {
      Parameters: { ...run, outcome: 'completed', reason: 'reverted, redeployed and recovered' },
      ResultPath: '$.outcome',
      Next: 'Completed',
    }),
    // No Catch here: a failing end must not loop back through the failure path.
    RecordEscalation: {
      Type: 'Task',
      Resource: res.functionArn('finishRun'),
      TimeoutSeconds: 60,
      Parameters: { ...run, outcome: 'failed', 'reason.$': '$.escalation.reason' },
      ResultPath: '$.outcome',
      Next: 'Failed',
    },
    RecordFailure: {
      Type: 'Task',
      Comment: 'Any step error ends the rollback as failed; the incident stays open for a person.',
      Resource: res.functionArn('escalateRollback'),
      TimeoutSeconds: 60,
      Parameters: { ...run, 'error.$': '$.error' },
      ResultPath: '$.escalation',
      Next: 'RecordEscalation',
    },
    Completed: { Type: 'Succeed' },
    Failed: {
      Type: 'Fail',
      Error: 'Gantry.RollbackNeedsHuman',
      Cause: 'the rollback stopped and asked a person; the incident says why',
    },
  };
  return {
    Comment: 'Gantry rollback: revert pull request, merge, redeploy, recovery check, fix-forward request.',
    StartAt: 'CheckRequest',
    TimeoutSeconds: 24 * 3600,
    States: states,
  };
}

/**
 * The workflow a run executes: a rollback run (capability `rollback`, for an incident) runs the rollback
 * workflow, every other run the issue resolver. The runtime and the cost model choose alike.
 *
 * @example
 * const definition = workflowFor(requestOf(journal));
 */
export function workflowFor(
  request: Pick<EngineeringRequest, 'capability' | 'sourceRef'> | undefined,
  res: StepResources = localResources,
): StateMachineDefinition {
  return request?.capability === 'rollback' && isIncidentRef(request.sourceRef)
    ? buildRollback(res)
    : buildIssueResolver(res);
}

import type { ApproverQuery } from '../approvals/approval-matrix.js';
import type { RepositoryContext } from '../domain/context.js';
import type { EvidencePacket } from '../domain/evidence.js';
import type { ApprovalKind } from '../domain/risk.js';
import type { RunJournal } from '../evidence/run-journal.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import { requestOf } from './run-context.js';

/**
 * Everything the approval matrix needs to say who may answer a gate of this run: the requester (never
 * an approver), the repository's code owners, the paths the change touches once there is one, and the
 * risk domains it falls in.
 */
export async function approverQueryFor(
  journal: RunJournal,
  artifacts: ArtifactStore,
  kind: ApprovalKind,
  matrix: ApproverQuery['matrix'],
): Promise<ApproverQuery> {
  const request = requestOf(journal);
  const context = journal.find('context', 'context.built');
  const codeOwners = context
    ? (JSON.parse(await artifacts.getText(context.data.artifact)) as RepositoryContext).codeOwners
    : [];
  const evidence = journal.find('evidence', 'evidence.assembled');
  const changedPaths = evidence
    ? (JSON.parse(await artifacts.getText(evidence.data.json)) as EvidencePacket).scope.filesChanged.map(
        (f) => f.path,
      )
    : undefined;
  const domains = (journal.find('risk', 'risk.classified')?.data.reasons ?? [])
    .filter((r) => r.rule.startsWith('domain.'))
    .map((r) => r.rule.slice('domain.'.length));
  return { kind, requester: request.requester, codeOwners, changedPaths, domains, matrix };
}

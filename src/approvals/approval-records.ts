import { createHash } from 'node:crypto';
import { Approval } from '../domain/approval.js';
import { InvalidInputError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';

/** The record kind of approvals in the record store (table `gantry-records`, key kind and id). */
export const APPROVAL_KIND = 'approval';
const KIND = APPROVAL_KIND;

/** Approval ids are short, typeable and derived from the run and gate, so a retried gate finds its own. */
export function approvalIdFor(runId: string, state: string): string {
  return `apv-${createHash('sha256').update(`${runId}:${state}`).digest('hex').slice(0, 12)}`;
}

export async function getApproval(records: RecordStore, approvalId: string): Promise<Approval | undefined> {
  const value = await records.get<unknown>(KIND, approvalId);
  return value === undefined ? undefined : Approval.parse(value);
}

export async function requireApproval(records: RecordStore, approvalId: string): Promise<Approval> {
  const approval = await getApproval(records, approvalId);
  if (!approval) {
    throw new InvalidInputError(`there is no approval ${approvalId}`, {
      input: approvalId,
      hint: 'list pending approvals with `gantry runs --state waiting_for_approval`',
    });
  }
  return approval;
}

/** Stores a new pending approval; returns the stored one when the gate already asked. */
export async function createApproval(records: RecordStore, approval: Approval): Promise<Approval> {
  const created = await records.put(KIND, approval.id, Approval.parse(approval), { ifAbsent: true });
  return created ? approval : requireApproval(records, approval.id);
}

export async function saveApproval(records: RecordStore, approval: Approval): Promise<void> {
  await records.put(KIND, approval.id, Approval.parse(approval));
}

export async function listApprovals(records: RecordStore): Promise<Approval[]> {
  return (await records.list<unknown>(KIND)).map((a) => Approval.parse(a));
}

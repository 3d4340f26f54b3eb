import { Approval } from '../domain/approval.js';
import { GantryError } from '../domain/errors.js';
import type { RecordStore } from '../ports/event-log.js';
import type { PlatformSigner } from '../ports/platform-signer.js';
import { APPROVAL_KIND } from './approval-records.js';
import {
  ApprovalSignatureError,
  checkApprovalDecision,
  signApprovalDecision,
} from './decision-signatures.js';

/**
 * The record store as Gantry writes approvals through it: a decided approval is signed with the platform
 * key as it is recorded, and a decided approval read back by id must verify, or the read fails with
 * {@link ApprovalSignatureError}. So every writer of a decision (`gantry approve`, a link, the approval
 * API, an expiry) signs it, and every gate and answer, which read approvals by id, checks it. A record
 * put into the table by anyone else (a process that reached the store) has no valid signature.
 *
 * Listing returns records as stored: it finds pending gates, and never passes one.
 * Every other kind of record passes through unchanged.
 *
 * @example
 * const records = new SignedApprovalRecords(log, await loadOrCreatePlatformKey(keyFile));
 * await saveApproval(records, { ...approval, status: 'approved', decidedBy: 'sam', decidedAt, decidedVia: 'cli' });
 * await getApproval(records, approval.id); // verified; throws ApprovalSignatureError if it was altered
 */
export class SignedApprovalRecords implements RecordStore {
  constructor(
    private readonly store: RecordStore,
    readonly signer: PlatformSigner,
  ) {}

  async get<T>(kind: string, id: string): Promise<T | undefined> {
    const value = await this.store.get<T>(kind, id);
    if (kind !== APPROVAL_KIND || value === undefined) return value;
    const parsed = Approval.safeParse(value);
    // A malformed record is refused by the approval schema where it is read.
    if (!parsed.success || parsed.data.status === 'pending') return value;
    const verdict = await checkApprovalDecision(parsed.data, this.signer);
    if (!verdict.verified) throw new ApprovalSignatureError(parsed.data, verdict.reason);
    return value;
  }

  async put<T>(kind: string, id: string, value: T, options?: { ifAbsent?: boolean }): Promise<boolean> {
    if (kind !== APPROVAL_KIND) return this.store.put(kind, id, value, options);
    // A signature the writer brought counts for nothing: the store signs what it records.
    const { signature: _brought, ...approval } = Approval.parse(value);
    const recorded =
      approval.status === 'pending' ? approval : await signApprovalDecision(approval, this.signer);
    return this.store.put(kind, id, recorded, options);
  }

  list<T>(kind: string): Promise<T[]> {
    return this.store.list<T>(kind);
  }

  increment(kind: string, id: string, options?: { limit?: number }): Promise<number | undefined> {
    return this.store.increment(kind, id, options);
  }
}

/**
 * The signer of a record store that signs approval decisions; a gate refuses to open on any other,
 * because decisions recorded through it could not be told from forged ones.
 *
 * @example
 * platformSignerOf(deps.records).keyId; // 'ed25519:…'
 */
export function platformSignerOf(records: RecordStore): PlatformSigner {
  if (records instanceof SignedApprovalRecords) return records.signer;
  throw new GantryError('this runtime records approval decisions without the platform signature', {
    hint: 'construct the record store as new SignedApprovalRecords(store, signer) (src/local/runtime.ts, src/adapters/aws/aws-runtime.ts)',
  });
}

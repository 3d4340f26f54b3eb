import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CodeOwnerRule } from '../domain/context.js';
import { InvalidInputError } from '../domain/errors.js';
import type { ApprovalKind } from '../domain/risk.js';
import { parsePolicyDocument } from '../policy/policy-document.js';
import { ownersOf } from '../repomap/code-owners.js';

/** The approver matrix shipped with Gantry. */
export const defaultApproverMatrixPath = fileURLToPath(
  new URL('../../policies/approvers.yaml', import.meta.url),
);

/** A person (`maria.lopez`, `@maria`) or a GitHub team (`@acme/billing`). */
const Identity = z.string().regex(/^\S+$/, 'a name has no spaces (a login, an email or an @org/team)');

/** A whole number of minutes, hours or days: `30m`, `24h`, `7d`. */
const Duration = z
  .string()
  .regex(/^[1-9]\d*[mhd]$/, 'a duration is a whole number followed by m, h or d, such as 24h');

export const ApproverMatrix = z.strictObject({
  /** People who may give a plain reviewer approval (plan, merge). */
  reviewers: z.array(Identity).default([]),
  securityOwners: z.array(Identity).default([]),
  /** Keyed by the risk rules' domain names (`payments`, `authentication`). */
  domainOwners: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a domain name is lower-case words joined by dashes'),
      z.array(Identity),
    )
    .default({}),
  deployers: z.array(Identity).default([]),
  /** Team members, so a person may answer for a team that CODEOWNERS or this file names. */
  teams: z
    .record(z.string().regex(/^@[^\s/]+\/\S+$/, 'a team is written @org/team'), z.array(Identity))
    .default({}),
  expiry: z.strictObject({
    default: Duration,
    plan: Duration.optional(),
    merge: Duration.optional(),
    deploy: Duration.optional(),
    'code-owner': Duration.optional(),
    'security-owner': Duration.optional(),
    'domain-owner': Duration.optional(),
  }),
});
export type ApproverMatrix = z.infer<typeof ApproverMatrix>;

/** What {@link approversFor} needs to know about one gate. */
export interface ApproverQuery {
  kind: ApprovalKind;
  /** Who requested the run: never an approver of it. */
  requester: string;
  /** Paths the run changes; unknown before the patch (a plan gate), then the `*` owners stand in. */
  changedPaths?: readonly string[];
  codeOwners: readonly CodeOwnerRule[];
  /** The risk rules' domains the run touches; needed for `domain-owner` gates. */
  domains?: readonly string[];
  matrix: ApproverMatrix;
}

export interface Approvers {
  /** Any one of these names may answer; a team is answered by any of its members. */
  anyOf: string[];
  /** Why these and no others, for the approval message and the audit trail. */
  reason: string;
}

const matrixHint =
  'Fix the approvers file (see policies/approvers.yaml for the keys and what each approval kind draws on), then run again.';

/**
 * Reads and validates an approvers file; unknown keys and malformed names or durations are errors
 * that name the file.
 *
 * @example
 * const matrix = await loadApproverMatrix(); // policies/approvers.yaml
 * matrix.securityOwners; // ['@acme/security', 'dana.kim']
 */
export async function loadApproverMatrix(file: string = defaultApproverMatrixPath): Promise<ApproverMatrix> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError(`Cannot read approvers file ${file}: ${(cause as Error).message}`, {
      input: file,
      hint: matrixHint,
      cause,
    });
  }
  return parseApproverMatrix(text, file);
}

/**
 * Parses the text of an approvers file; `origin` names it in errors.
 *
 * @example
 * const matrix = parseApproverMatrix('reviewers: [sam]\nexpiry: { default: 24h }\n', 'inline');
 */
export function parseApproverMatrix(text: string, origin: string): ApproverMatrix {
  return parsePolicyDocument(text, origin, ApproverMatrix, { label: 'Approvers file', hint: matrixHint });
}

const durationUnitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * How long a gate of `kind` waits for an answer, in milliseconds.
 *
 * @example
 * approvalLifetimeMs('merge', matrix); // 86_400_000 with `merge: 24h`
 */
export function approvalLifetimeMs(kind: ApprovalKind, matrix: ApproverMatrix): number {
  const text = matrix.expiry[kind] ?? matrix.expiry.default;
  const unit = text.at(-1) as keyof typeof durationUnitMs;
  return Number.parseInt(text.slice(0, -1), 10) * durationUnitMs[unit];
}

/** Compares names the way a forge does: case-insensitively, with or without a leading `@`. */
function identityKey(name: string): string {
  return name.replace(/^@/, '').toLowerCase();
}

export function isSameIdentity(a: string, b: string): boolean {
  return identityKey(a) === identityKey(b);
}

function unique(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = identityKey(name);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const everyPath = '*';
const defaultOwnerPatterns = new Set(['*', '/*', '**', '/**']);

/** The owners GitHub would ask for: per changed path, or the repository-wide `*` owners. */
function ownersByPath(
  changedPaths: readonly string[] | undefined,
  rules: readonly CodeOwnerRule[],
): { path: string; owners: string[] }[] {
  if (!changedPaths?.length) {
    const rule = rules.findLast((candidate) => defaultOwnerPatterns.has(candidate.pattern));
    return [{ path: everyPath, owners: rule ? [...rule.owners] : [] }];
  }
  return changedPaths.map((path) => ({ path, owners: ownersOf(path, rules) }));
}

function list(names: readonly string[]): string {
  return names.length ? names.join(', ') : 'nobody';
}

function describePaths(paths: readonly string[]): string {
  return paths.length === 1 && paths[0] === everyPath ? 'the repository (*)' : paths.join(', ');
}

interface Draft {
  candidates: string[];
  reason: string;
}

function draftFor(query: ApproverQuery): Draft {
  const { matrix } = query;
  switch (query.kind) {
    case 'plan':
    case 'merge': {
      const owned = ownersByPath(query.changedPaths, query.codeOwners);
      const owners = owned.flatMap((entry) => entry.owners);
      return {
        candidates: [...matrix.reviewers, ...owners],
        reason: `${query.kind} approval: a reviewer (${list(matrix.reviewers)}) or a code owner of ${describePaths(owned.map((entry) => entry.path))} (${list(unique(owners))})`,
      };
    }
    case 'code-owner': {
      const owned = ownersByPath(query.changedPaths, query.codeOwners);
      const owners = owned.flatMap((entry) => entry.owners);
      const paths = describePaths(owned.map((entry) => entry.path));
      if (!owners.length) {
        // GitHub asks no code owner for unowned paths; a reviewer still has to look.
        return {
          candidates: [...matrix.reviewers],
          reason: `code-owner approval: no CODEOWNERS rule owns ${paths}, so a reviewer (${list(matrix.reviewers)}) answers instead`,
        };
      }
      return {
        candidates: owners,
        reason: `code-owner approval: a code owner of ${owned
          .map((entry) => `${describePaths([entry.path])} (${list(entry.owners)})`)
          .join(', ')}`,
      };
    }
    case 'security-owner':
      return {
        candidates: [...matrix.securityOwners],
        reason: `security-owner approval: a security owner (${list(matrix.securityOwners)})`,
      };
    case 'domain-owner': {
      const domains = query.domains ?? [];
      if (!domains.length) {
        return {
          candidates: [],
          reason: 'domain-owner approval: no domain was named for this run, so no domain owner can be chosen',
        };
      }
      const described = domains.map((domain) => {
        const owners = matrix.domainOwners[domain];
        return owners === undefined
          ? `${domain} (no owners in the approvers file)`
          : `${domain} (${list(owners)})`;
      });
      return {
        candidates: domains.flatMap((domain) => matrix.domainOwners[domain] ?? []),
        reason: `domain-owner approval: an owner of ${described.join(', ')}`,
      };
    }
    case 'deploy':
      return {
        candidates: [...matrix.deployers],
        reason: `deploy approval: a deployer (${list(matrix.deployers)})`,
      };
  }
}

/**
 * Who may answer an approval gate, and why. The requester is always left out: nobody approves
 * their own run. An empty `anyOf` means nobody may answer, so the gate can only expire.
 *
 * @example
 * approversFor({ kind: 'code-owner', requester: 'maria', changedPaths: ['src/invoice.js'], codeOwners, matrix });
 * // { anyOf: ['@acme/billing', '@acme/finance-eng'], reason: 'code-owner approval: a code owner of src/invoice.js (...)' }
 */
export function approversFor(query: ApproverQuery): Approvers {
  const draft = draftFor(query);
  const candidates = unique(draft.candidates);
  const anyOf = candidates.filter((name) => !isSameIdentity(name, query.requester));
  const notes: string[] = [];
  if (anyOf.length < candidates.length) {
    notes.push(`${query.requester} requested the run and is left out`);
  }
  if (!anyOf.length) {
    notes.push('nobody may answer this gate: name approvers in policies/approvers.yaml');
  }
  return { anyOf, reason: [draft.reason, ...notes].join('; ') };
}

export interface ApprovalPermission {
  allowed: boolean;
  reason: string;
}

/**
 * Whether `person` may answer the gate, with a reason a person reads either way.
 *
 * @example
 * mayApprove('maria', { kind: 'plan', requester: 'maria', codeOwners, matrix });
 * // { allowed: false, reason: 'maria is the requester of this run and can never approve it' }
 * mayApprove('sam', { kind: 'code-owner', requester: 'maria', changedPaths: ['src/invoice.js'], codeOwners, matrix });
 * // { allowed: false, reason: 'sam is not a code owner of src/invoice.js; owners: @acme/billing' }
 */
export function mayApprove(person: string, query: ApproverQuery): ApprovalPermission {
  if (isSameIdentity(person, query.requester)) {
    return { allowed: false, reason: `${person} is the requester of this run and can never approve it` };
  }
  const { anyOf } = approversFor(query);
  const direct = anyOf.find((name) => isSameIdentity(name, person));
  if (direct) return { allowed: true, reason: `${person} ${roleOf(query)}` };
  const team = anyOf.find((name) =>
    (query.matrix.teams[name] ?? []).some((member) => isSameIdentity(member, person)),
  );
  if (team) return { allowed: true, reason: `${person} is a member of ${team}, which ${roleOf(query)}` };
  return { allowed: false, reason: refusalFor(person, query, anyOf) };
}

function roleOf(query: ApproverQuery): string {
  switch (query.kind) {
    case 'plan':
    case 'merge':
      return `may give the ${query.kind} approval as a reviewer or code owner`;
    case 'code-owner':
      return `may give the code-owner approval for ${describePaths(query.changedPaths?.length ? query.changedPaths : [everyPath])}`;
    case 'security-owner':
      return 'is a security owner';
    case 'domain-owner':
      return `owns the domain ${list(query.domains ?? [])}`;
    case 'deploy':
      return 'may approve deploys';
  }
}

function refusalFor(person: string, query: ApproverQuery, anyOf: readonly string[]): string {
  const allowed = list(anyOf);
  switch (query.kind) {
    case 'plan':
    case 'merge':
      return `${person} is neither a reviewer nor a code owner; may approve: ${allowed}`;
    case 'code-owner': {
      const owned = ownersByPath(query.changedPaths, query.codeOwners);
      if (!owned.some((entry) => entry.owners.length)) {
        return `${person} is not a reviewer, and no CODEOWNERS rule owns ${describePaths(owned.map((e) => e.path))}; may approve: ${allowed}`;
      }
      const sameOwners = new Set(owned.map((entry) => entry.owners.join(', '))).size === 1;
      if (sameOwners) {
        return `${person} is not a code owner of ${describePaths(owned.map((e) => e.path))}; owners: ${list(owned[0]?.owners ?? [])}`;
      }
      return `${person} is not a code owner of ${owned
        .map((entry) => `${describePaths([entry.path])} (owners: ${list(entry.owners)})`)
        .join(' or ')}`;
    }
    case 'security-owner':
      return `${person} is not a security owner; security owners: ${allowed}`;
    case 'domain-owner':
      return `${person} does not own the domain ${list(query.domains ?? [])}; owners: ${allowed}`;
    case 'deploy':
      return `${person} is not a deployer; deployers: ${allowed}`;
  }
}

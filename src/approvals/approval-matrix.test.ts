import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../domain/errors.js';
import { parseCodeOwners } from '../repomap/code-owners.js';
import {
  type ApproverMatrix,
  approvalLifetimeMs,
  approversFor,
  loadApproverMatrix,
  mayApprove,
  parseApproverMatrix,
} from './approval-matrix.js';

const matrixYaml = `
reviewers: [maria, sam, priya]
securityOwners: ['@acme/security', dana]
domainOwners:
  payments: ['@acme/billing', lee]
  authentication: [dana]
deployers: ['@acme/release']
teams:
  '@acme/billing': [lee, Maria]
  '@acme/security': [dana]
expiry: { default: 48h, plan: 72h, merge: 24h, deploy: 30m }
`;

const codeOwnersText = `# Billing owns everything; invoice maths also needs finance engineering.
*                 @acme/billing @Maria
/src/invoice.js   @acme/billing @acme/finance-eng
/src/generated/   @acme/billing
/src/generated/   
`;

describe('approver matrix', () => {
  let matrix: ApproverMatrix;
  const codeOwners = parseCodeOwners(codeOwnersText);
  let dir: string;

  beforeAll(async () => {
    matrix = parseApproverMatrix(matrixYaml, 'test approvers');
    dir = await mkdtemp(join(tmpdir(), 'gantry-approvers-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the shipped approvers file with a lifetime for every approval kind', async () => {
    // Act
    const shipped = await loadApproverMatrix();
    // Assess
    expect(shipped.securityOwners.length).toBeGreaterThan(0);
    expect(Object.keys(shipped.domainOwners).sort()).toEqual(['authentication', 'payments']);
    expect(approvalLifetimeMs('plan', shipped)).toBe(72 * 3_600_000);
    expect(approvalLifetimeMs('merge', shipped)).toBe(24 * 3_600_000);
  });

  it('falls back to the default lifetime for kinds the file does not list', () => {
    // Act / Assess
    expect(approvalLifetimeMs('deploy', matrix)).toBe(30 * 60_000);
    expect(approvalLifetimeMs('security-owner', matrix)).toBe(48 * 3_600_000);
  });

  it('refuses an unknown key and a malformed duration, naming the file', async () => {
    // Prepare
    const file = join(dir, 'approvers.yaml');
    await writeFile(file, `${matrixYaml}\nsecurityOwner: [typo]\n`);
    // Act / Assess
    await expect(loadApproverMatrix(file)).rejects.toThrow(InvalidInputError);
    await expect(loadApproverMatrix(file)).rejects.toThrow(/approvers\.yaml is not valid: .*securityOwner/);
    expect(() => parseApproverMatrix('reviewers: [sam]\nexpiry: { default: 2 days }\n', 'inline')).toThrow(
      /expiry\.default: a duration is a whole number/,
    );
  });

  it('gives a plan approval to reviewers and the repository-wide owners, never to the requester', () => {
    // Act: maria is a reviewer and, as @Maria, a code owner of `*`
    const approvers = approversFor({ kind: 'plan', requester: 'maria', codeOwners, matrix });
    // Assess
    expect(approvers.anyOf).toEqual(['sam', 'priya', '@acme/billing']);
    expect(approvers.reason).toContain('maria requested the run and is left out');
  });

  it('adds the owners of the changed paths to a merge approval', () => {
    // Act
    const approvers = approversFor({
      kind: 'merge',
      requester: 'sam',
      changedPaths: ['src/invoice.js'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(approvers.anyOf).toEqual(['maria', 'priya', '@acme/billing', '@acme/finance-eng']);
  });

  it('asks the owners of each changed path for a code-owner approval, the last matching rule winning', () => {
    // Act
    const invoice = approversFor({
      kind: 'code-owner',
      requester: 'sam',
      changedPaths: ['src/invoice.js'],
      codeOwners,
      matrix,
    });
    const money = approversFor({
      kind: 'code-owner',
      requester: 'sam',
      changedPaths: ['src/money.js'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(invoice.anyOf).toEqual(['@acme/billing', '@acme/finance-eng']);
    expect(money.anyOf).toEqual(['@acme/billing', '@Maria']);
  });

  it('lets reviewers stand in when a later CODEOWNERS rule leaves the changed paths unowned', () => {
    // Act
    const approvers = approversFor({
      kind: 'code-owner',
      requester: 'priya',
      changedPaths: ['src/generated/schema.js'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(approvers.anyOf).toEqual(['maria', 'sam']);
    expect(approvers.reason).toContain('no CODEOWNERS rule owns src/generated/schema.js');
  });

  it('asks the named security owners and the owners of the touched domain', () => {
    // Act
    const security = approversFor({ kind: 'security-owner', requester: 'dana', codeOwners, matrix });
    const payments = approversFor({
      kind: 'domain-owner',
      requester: 'maria',
      domains: ['payments'],
      codeOwners,
      matrix,
    });
    const unknown = approversFor({
      kind: 'domain-owner',
      requester: 'maria',
      domains: ['shipping'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(security.anyOf).toEqual(['@acme/security']);
    expect(payments.anyOf).toEqual(['@acme/billing', 'lee']);
    expect(unknown.anyOf).toEqual([]);
    expect(unknown.reason).toContain('shipping (no owners in the approvers file)');
    expect(unknown.reason).toContain('nobody may answer this gate');
  });

  it('refuses the requester, whatever the spelling of their name', () => {
    // Act
    const verdict = mayApprove('@MARIA', { kind: 'plan', requester: 'maria', codeOwners, matrix });
    // Assess
    expect(verdict).toEqual({
      allowed: false,
      reason: '@MARIA is the requester of this run and can never approve it',
    });
  });

  it('refuses a reviewer who does not own the changed path, and names the owners', () => {
    // Act
    const verdict = mayApprove('sam', {
      kind: 'code-owner',
      requester: 'maria',
      changedPaths: ['src/invoice.js'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(verdict).toEqual({
      allowed: false,
      reason: 'sam is not a code owner of src/invoice.js; owners: @acme/billing, @acme/finance-eng',
    });
  });

  it('lets a member of an owning team approve for it', () => {
    // Act
    const verdict = mayApprove('lee', {
      kind: 'code-owner',
      requester: 'maria',
      changedPaths: ['src/invoice.js'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(verdict.allowed).toBe(true);
    expect(verdict.reason).toBe(
      'lee is a member of @acme/billing, which may give the code-owner approval for src/invoice.js',
    );
  });

  it('refuses a team member who requested the run even though the team may approve', () => {
    // Act: Maria is in @acme/billing, a payments owner
    const verdict = mayApprove('maria', {
      kind: 'domain-owner',
      requester: 'maria',
      domains: ['payments'],
      codeOwners,
      matrix,
    });
    // Assess
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toContain('maria is the requester');
  });

  it('says who may answer when a person is not a security owner', () => {
    // Act
    const verdict = mayApprove('sam', { kind: 'security-owner', requester: 'maria', codeOwners, matrix });
    // Assess
    expect(verdict).toEqual({
      allowed: false,
      reason: 'sam is not a security owner; security owners: @acme/security, dana',
    });
  });
});

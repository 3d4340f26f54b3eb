import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GantryError } from '../domain/errors.js';
import { newLinkNonce, signApprovalLink, verifyApprovalLink } from './signed-links.js';
import {
  reissueApprovalLink,
  WithheldApprovalLink,
  withheldLinkUrl,
  withholdApprovalLink,
} from './withheld-links.js';

const key = randomBytes(32);
const payload = {
  approvalId: 'apv-0123456789ab',
  decision: 'approve' as const,
  approver: 'sam.okafor',
  expiresAt: '2099-01-01T00:00:00.000Z',
  nonce: newLinkNonce(),
};
const token = signApprovalLink(payload, key);

describe('withholdApprovalLink', () => {
  it('keeps what identifies the link and the hash of its token, never the token', () => {
    // Act
    const link = withholdApprovalLink(payload, token);
    // Assess
    expect(WithheldApprovalLink.parse(link)).toEqual({
      approvalId: payload.approvalId,
      action: 'approve',
      approver: 'sam.okafor',
      expiresAt: payload.expiresAt,
      nonce: payload.nonce,
      tokenSha256: createHash('sha256').update(token).digest('hex'),
    });
    expect(JSON.stringify(link)).not.toContain(token.split('.')[1]);
  });
});

describe('withheldLinkUrl', () => {
  it('points at no token, only at the first digits of its hash', () => {
    // Prepare
    const link = withholdApprovalLink(payload, token);
    // Act
    const url = withheldLinkUrl('http://127.0.0.1:8787/', link);
    // Assess
    expect(url).toBe(`http://127.0.0.1:8787/approvals/withheld-${link.tokenSha256.slice(0, 16)}`);
    expect(() => verifyApprovalLink('withheld-x', key, new Date())).toThrow(/not a Gantry approval link/);
  });
});

describe('reissueApprovalLink', () => {
  it('signs the very same link again with the link key', () => {
    // Prepare
    const link = withholdApprovalLink(payload, token);
    // Act
    const url = reissueApprovalLink(link, key, 'http://127.0.0.1:8787');
    // Assess
    expect(url).toBe(`http://127.0.0.1:8787/approvals/${token}`);
  });

  it('refuses when the link key is not the one the link was made with', () => {
    // Prepare
    const link = withholdApprovalLink(payload, token);
    // Act / Assess
    expect(() => reissueApprovalLink(link, randomBytes(32), 'http://127.0.0.1:8787')).toThrow(GantryError);
    expect(() => reissueApprovalLink(link, randomBytes(32), 'http://127.0.0.1:8787')).toThrow(
      /cannot be made again/,
    );
  });
});

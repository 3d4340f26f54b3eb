import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import { type ApprovalLinkPayload, approvalLinkUrl, signApprovalLink } from './signed-links.js';

/**
 * What is kept of a signed approval link once it is handed out: everything that identifies it, and the
 * sha256 of its token, never the token. Stored notifications carry these instead of the links, so the
 * artifact store holds nothing that answers a gate.
 */
export const WithheldApprovalLink = z.strictObject({
  approvalId: z.string().min(1),
  action: z.enum(['approve', 'reject']),
  approver: z.string().min(1),
  expiresAt: z.iso.datetime(),
  /** The link's single-use nonce: the id the link ledger consumes. Useless without the link key. */
  nonce: z.string().min(1),
  tokenSha256: z.string().regex(/^[a-f0-9]{64}$/, 'a sha256 hex digest'),
});
export type WithheldApprovalLink = z.infer<typeof WithheldApprovalLink>;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Describes a signed link without its token.
 *
 * @example
 * const token = signApprovalLink(payload, key);
 * withholdApprovalLink(payload, token); // { approvalId, action: 'approve', approver, expiresAt, nonce, tokenSha256 }
 */
export function withholdApprovalLink(payload: ApprovalLinkPayload, token: string): WithheldApprovalLink {
  return {
    approvalId: payload.approvalId,
    action: payload.decision,
    approver: payload.approver,
    expiresAt: payload.expiresAt,
    nonce: payload.nonce,
    tokenSha256: sha256(token),
  };
}

/**
 * The address shown in a stored message where the link was: it names the link by its token's hash and
 * answers nothing.
 *
 * @example
 * withheldLinkUrl('http://127.0.0.1:8787', link); // 'http://127.0.0.1:8787/approvals/withheld-3f2a9c0d1e7b4a65'
 */
export function withheldLinkUrl(baseUrl: string, link: WithheldApprovalLink): string {
  return approvalLinkUrl(baseUrl, `withheld-${link.tokenSha256.slice(0, 16)}`);
}

/**
 * Signs a withheld link again with the link key, for the operator who hands it to the approver: the same
 * token as the one first made (same nonce, so still single-use), checked against its recorded hash.
 *
 * @throws GantryError when the link key changed since the link was made
 * @example
 * const url = reissueApprovalLink(stored.links[0], deps.approvalLinks.key, deps.approvalLinks.baseUrl);
 */
export function reissueApprovalLink(link: WithheldApprovalLink, key: Uint8Array, baseUrl: string): string {
  const token = signApprovalLink(
    {
      approvalId: link.approvalId,
      decision: link.action,
      approver: link.approver,
      expiresAt: link.expiresAt,
      nonce: link.nonce,
    },
    key,
  );
  if (sha256(token) !== link.tokenSha256) {
    throw new GantryError(
      `the ${link.action} link of ${link.approvalId} for ${link.approver} cannot be made again`,
      {
        input: link.approvalId,
        hint: 'the approval link key changed since the link was sent; answer with `gantry approve` or `gantry reject` instead',
      },
    );
  }
  return approvalLinkUrl(baseUrl, token);
}

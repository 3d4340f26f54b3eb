import { escapeHtml } from './notifications.js';
import type { ApprovalLinkPayload } from './signed-links.js';

/**
 * The pages a person sees when they open an approval link, shared by the local link server and the
 * AWS approval API. Opening a link only shows the confirmation; the form's POST decides.
 */
export function confirmationPage(payload: ApprovalLinkPayload): string {
  const verb = payload.decision === 'approve' ? 'Approve' : 'Reject';
  return approvalPage(
    `${verb} ${payload.approvalId}?`,
    `<p>You are about to <strong>${verb.toLowerCase()}</strong> <code>${escapeHtml(payload.approvalId)}</code> as <strong>${escapeHtml(payload.approver)}</strong>.</p>` +
      `<p>This link expires at ${escapeHtml(payload.expiresAt)} and answers once.</p>` +
      '<form method="post">' +
      '<label for="reason">Reason (recorded with your decision)</label>' +
      '<textarea id="reason" name="reason" rows="3" maxlength="2000"></textarea>' +
      `<button type="submit" class="${payload.decision}">${verb}</button>` +
      '</form>',
  );
}

/** What the approver sees once the decision is recorded. */
export function recordedPage(
  payload: ApprovalLinkPayload,
  decision: string,
  reason: string | undefined,
): string {
  return approvalPage(
    `Recorded: ${decision}`,
    `<p>${escapeHtml(payload.approver)} ${escapeHtml(decision)} <code>${escapeHtml(payload.approvalId)}</code>.</p>` +
      (reason ? `<p>Reason: ${escapeHtml(reason)}</p>` : '') +
      '<p>The run goes on from here; this link will not answer again.</p>',
  );
}

/** Why a link was not answered: forged, expired, replayed, or refused by the approval matrix. */
export function problemPage(status: number, code: string, message: string, hint: string | undefined): string {
  return approvalPage(
    status === 403 ? 'This link cannot be used' : 'Not answered',
    `<p class="problem">${escapeHtml(message)}</p>${hint ? `<p>${escapeHtml(hint)}</p>` : ''}<p class="code">${escapeHtml(code)}</p>`,
  );
}

function approvalPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)} · Gantry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
textarea{width:100%;display:block;margin:.5rem 0 1rem}button{font:inherit;padding:.5rem 1.5rem;border:0;border-radius:6px;color:#fff;cursor:pointer}
.approve{background:#1f883d}.reject{background:#cf222e}.problem{font-weight:600}.code{color:#59636e;font-size:.875rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Bodies of an approval POST larger than this are refused: a reason is a sentence, not a file. */
export const MAX_APPROVAL_BODY_BYTES = 16 * 1024;
const MAX_REASON_CHARS = 2000;

/** Why an approval request was not answered, with the HTTP status to answer it with. */
export class ApprovalRequestProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A body over the size limit. */
export function bodyTooLarge(): ApprovalRequestProblem {
  return new ApprovalRequestProblem(
    413,
    'too-large',
    `The request body is over ${MAX_APPROVAL_BODY_BYTES} bytes.`,
    'Give a shorter reason.',
  );
}

/** The reason an approver gave, from a form or a JSON body; none when the field is empty. */
export function reasonFromBody(body: string, contentType: string): string | undefined {
  if (!body) return undefined;
  if (Buffer.byteLength(body) > MAX_APPROVAL_BODY_BYTES) throw bodyTooLarge();
  let reason: unknown;
  if (contentType.startsWith('application/json')) {
    try {
      reason = (JSON.parse(body) as { reason?: unknown } | null)?.reason;
    } catch {
      throw new ApprovalRequestProblem(
        400,
        'bad-body',
        'The request body is not JSON.',
        'Send {"reason": "..."} or a form.',
      );
    }
  } else {
    reason = new URLSearchParams(body).get('reason');
  }
  if (typeof reason !== 'string' || !reason.trim()) return undefined;
  return reason.trim().slice(0, MAX_REASON_CHARS);
}

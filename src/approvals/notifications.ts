import type { Approval } from '../domain/approval.js';
import { InvalidInputError } from '../domain/errors.js';
import type { RiskReason, RiskTier } from '../domain/risk.js';
import { escapeHtml, escapeSlack, plainLine } from '../inert-text/index.js';

/** What an approval message tells the approver, besides the approval itself. */
export interface ApprovalMessage {
  approveUrl: string;
  rejectUrl: string;
  /** Untrusted: run titles come from issues. */
  runTitle: string;
  requester: string;
  riskTier: RiskTier;
  /** Why the gate is there: the risk reasons, or plain sentences. */
  reasons: readonly (RiskReason | string)[];
  /** One line on the evidence so far, such as "3 tests added, all checks green". */
  evidenceSummary?: string;
  /** Who may answer (approversFor's `anyOf`), shown so the right person acts. */
  approvers?: readonly string[];
}

/** A Slack Block Kit text object. */
export interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
  verbatim?: boolean;
}

export interface SlackButton {
  type: 'button';
  text: SlackText;
  url: string;
  action_id: string;
  value: string;
  style: 'primary' | 'danger';
}

export type SlackBlock =
  | { type: 'header'; text: SlackText }
  | { type: 'section'; text: SlackText; fields: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'actions'; block_id: string; elements: SlackButton[] };

/** A message for `chat.postMessage` (or an incoming webhook): fallback text plus blocks. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

// Kept here too: the approval pages and the escalation messages import them from this module.
export { escapeHtml, escapeSlack };

/**
 * Control characters would break headers (a newline in a subject starts a new header) and layouts,
 * and bidi overrides make a title read as something else.
 */
function oneLine(text: string): string {
  return plainLine(text).trim();
}

/** Cuts escaped text to `max` characters without leaving half an entity behind. */
function clip(escaped: string, max: number): string {
  if (escaped.length <= max) return escaped;
  return `${escaped.slice(0, max - 1).replace(/&[#a-z0-9]*$/i, '')}…`;
}

function checkedUrl(url: string, name: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidInputError(`the ${name} is not a URL`, {
      input: url,
      cause,
      hint: 'use approvalLinkUrl',
    });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidInputError(`the ${name} must be an http or https URL`, {
      input: url,
      hint: 'use approvalLinkUrl with the approval server URL',
    });
  }
  return parsed.href;
}

function reasonText(reason: RiskReason | string): string {
  return oneLine(typeof reason === 'string' ? reason : `${reason.explanation} (${reason.rule})`);
}

/** Shown to people: minutes are enough, and UTC says which clock. */
function expiryText(expiresAt: string): string {
  return `${expiresAt.slice(0, 10)} ${expiresAt.slice(11, 16)} UTC`;
}

const MAX_REASONS = 5;

/**
 * Renders a Slack Block Kit approval request: a header, a section with the run and its fields, a
 * context line with the reasons and evidence, and Approve / Reject link buttons. Every untrusted
 * text is escaped for mrkdwn and rendered `verbatim`, so it cannot mention, link or notify.
 *
 * @example
 * const message = renderSlackApproval(approval, { approveUrl, rejectUrl, runTitle: 'Fix rounding', requester: 'maria', riskTier: 'medium', reasons: assessment.reasons });
 * await fetch(webhookUrl, { method: 'POST', body: JSON.stringify(message) });
 */
export function renderSlackApproval(approval: Approval, message: ApprovalMessage): SlackMessage {
  const approveUrl = checkedUrl(message.approveUrl, 'approve link');
  const rejectUrl = checkedUrl(message.rejectUrl, 'reject link');
  const title = clip(escapeSlack(oneLine(message.runTitle)), 1000);
  const expires = expiryText(approval.expiresAt);
  const fields: SlackText[] = [
    {
      type: 'mrkdwn',
      text: `*Requester*\n${clip(escapeSlack(oneLine(message.requester)), 500)}`,
      verbatim: true,
    },
    { type: 'mrkdwn', text: `*Risk tier*\n${message.riskTier}`, verbatim: true },
    { type: 'mrkdwn', text: `*Approval*\n${approval.kind} · ${escapeSlack(approval.id)}`, verbatim: true },
    { type: 'mrkdwn', text: `*Expires*\n${expires}`, verbatim: true },
  ];
  if (message.approvers?.length) {
    fields.push({
      type: 'mrkdwn',
      text: `*Who may answer*\n${clip(escapeSlack(message.approvers.join(', ')), 1000)}`,
      verbatim: true,
    });
  }
  const reasons = message.reasons.slice(0, MAX_REASONS).map(reasonText);
  const more = message.reasons.length - reasons.length;
  const why = reasons.length
    ? reasons.join(' · ') + (more > 0 ? ` · and ${more} more` : '')
    : 'no risk rule matched';
  const context: SlackText[] = [
    { type: 'mrkdwn', text: clip(`*Why:* ${escapeSlack(why)}`, 3000), verbatim: true },
  ];
  if (message.evidenceSummary) {
    context.push({
      type: 'mrkdwn',
      text: clip(`*Evidence:* ${escapeSlack(oneLine(message.evidenceSummary))}`, 3000),
      verbatim: true,
    });
  }
  return {
    text: clip(`${approval.kind} approval needed for run ${approval.runId}: ${title}`, 3000),
    blocks: [
      // Plain text headers cannot carry escapes, so the untrusted title stays out of them.
      {
        type: 'header',
        text: { type: 'plain_text', text: `Approval needed: ${approval.kind}`, emoji: false },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${title}*\nRun \`${escapeSlack(approval.runId)}\` waits at ${escapeSlack(approval.state)}.`,
          verbatim: true,
        },
        fields,
      },
      { type: 'context', elements: context },
      {
        type: 'actions',
        block_id: `approval:${approval.id}`.slice(0, 255),
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Approve', emoji: false },
            url: approveUrl,
            action_id: 'approve',
            value: approval.id,
            style: 'primary',
          },
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Reject', emoji: false },
            url: rejectUrl,
            action_id: 'reject',
            value: approval.id,
            style: 'danger',
          },
        ],
      },
    ],
  };
}

/**
 * Renders the same approval request as an email: a one-line subject (no header injection from the
 * title), a plain text body and an escaped HTML body whose link texts show when the links expire.
 *
 * @example
 * const { subject, text, html } = renderEmailApproval(approval, { approveUrl, rejectUrl, runTitle, requester, riskTier: 'high', reasons });
 */
export function renderEmailApproval(approval: Approval, message: ApprovalMessage): EmailMessage {
  const approveUrl = checkedUrl(message.approveUrl, 'approve link');
  const rejectUrl = checkedUrl(message.rejectUrl, 'reject link');
  const title = oneLine(message.runTitle);
  const requester = oneLine(message.requester);
  const expires = expiryText(approval.expiresAt);
  const reasons = message.reasons.map(reasonText);
  const evidence = message.evidenceSummary ? oneLine(message.evidenceSummary) : undefined;
  const approvers = message.approvers?.length ? message.approvers.join(', ') : undefined;

  const shortTitle = title.length > 120 ? `${title.slice(0, 119)}…` : title;
  const subject = `[Gantry] ${approval.kind} approval needed: ${shortTitle}`;

  const text = [
    `${requester} asked Gantry for: ${title}`,
    '',
    `Approval: ${approval.kind} (${approval.id}) for run ${approval.runId}`,
    `Risk tier: ${message.riskTier}`,
    ...(approvers ? [`Who may answer: ${approvers}`] : []),
    '',
    'Why:',
    ...(reasons.length ? reasons.map((reason) => `- ${reason}`) : ['- no risk rule matched']),
    ...(evidence ? ['', `Evidence: ${evidence}`] : []),
    '',
    `Approve (link expires ${expires}): ${approveUrl}`,
    `Reject (link expires ${expires}): ${rejectUrl}`,
    '',
    'Each link answers once. Opening it shows a confirmation page; nothing is decided until you confirm.',
  ].join('\n');

  const row = (name: string, value: string) =>
    `<tr><th align="left" style="padding-right:1em">${name}</th><td>${escapeHtml(value)}</td></tr>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328">
<h1 style="font-size:1.25em">${escapeHtml(approval.kind)} approval needed</h1>
<p><strong>${escapeHtml(title)}</strong></p>
<table>${row('Requester', requester)}${row('Risk tier', message.riskTier)}${row('Approval', `${approval.kind} (${approval.id})`)}${row('Run', approval.runId)}${approvers ? row('Who may answer', approvers) : ''}</table>
<p>Why:</p>
<ul>${(reasons.length ? reasons : ['no risk rule matched']).map((reason) => `<li>${escapeHtml(reason)}</li>`).join('')}</ul>
${evidence ? `<p>Evidence: ${escapeHtml(evidence)}</p>` : ''}
<p><a href="${escapeHtml(approveUrl)}" style="color:#1f883d;font-weight:600">Approve (link expires ${escapeHtml(expires)})</a>
&nbsp;·&nbsp;
<a href="${escapeHtml(rejectUrl)}" style="color:#cf222e;font-weight:600">Reject (link expires ${escapeHtml(expires)})</a></p>
<p style="color:#59636e;font-size:.875em">Each link answers once. Opening it shows a confirmation page; nothing is decided until you confirm.</p>
</body></html>`;
  return { subject, text, html };
}

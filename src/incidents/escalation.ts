import { type EmailMessage, escapeHtml, escapeSlack, type SlackMessage } from '../approvals/notifications.js';
import type { Incident } from './incidents.js';

/** The messages that ask a person to take an incident the rollback runbook did not cover. */
export interface EscalationMessages {
  to: string[];
  slack: SlackMessage;
  email: EmailMessage;
}

/**
 * Renders the Slack and email messages that hand an incident to people: what broke, what Gantry did
 * and did not do, why it stopped, and where to look. Every interpolated field is escaped: the summary
 * carries text from the service and the run.
 *
 * @example
 * const messages = renderEscalation(incident, 'the revert does not apply cleanly', ['@acme/sre']);
 */
export function renderEscalation(incident: Incident, reason: string, to: string[]): EscalationMessages {
  const subject = `Gantry needs a person: incident ${incident.id} on ${incident.service} ${incident.environment}`;
  const facts = [
    ['Deployment', incident.deploymentId],
    ['Commit', incident.commit],
    ['Pull request', incident.pullRequest === undefined ? 'unknown' : `#${incident.pullRequest}`],
    ['Run', incident.offendingRun],
    ['Rollback run', incident.rollbackRun ?? 'none'],
    ['Detected', `${incident.detectedAt} (${incident.source})`],
  ] as const;
  const next = [
    `gantry incidents — the incident and its figures`,
    incident.rollbackRun
      ? `gantry show ${incident.rollbackRun} — what the rollback did before it stopped`
      : '',
    `gantry show ${incident.offendingRun} — the change and its evidence`,
  ].filter(Boolean);
  return {
    to,
    slack: {
      text: subject,
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: `Incident ${incident.id}: a person must act`, emoji: false },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `*Why Gantry stopped:* ${escapeSlack(reason)}\n*What happened:* ${escapeSlack(incident.summary)}`,
          },
          fields: facts.map(([label, value]) => ({
            type: 'mrkdwn' as const,
            text: `*${label}*\n${escapeSlack(value)}`,
          })),
        },
        {
          type: 'context',
          elements: next.map((line) => ({ type: 'mrkdwn' as const, text: escapeSlack(line) })),
        },
      ],
    },
    email: {
      subject,
      text: [
        `Gantry stopped the rollback of incident ${incident.id} and needs a person.`,
        '',
        `Why: ${reason}`,
        `What happened: ${incident.summary}`,
        '',
        ...facts.map(([label, value]) => `${label}: ${value}`),
        '',
        'Next:',
        ...next.map((line) => `  ${line}`),
      ].join('\n'),
      html: [
        `<p>Gantry stopped the rollback of incident <b>${escapeHtml(incident.id)}</b> and needs a person.</p>`,
        `<p><b>Why:</b> ${escapeHtml(reason)}<br><b>What happened:</b> ${escapeHtml(incident.summary)}</p>`,
        `<table>${facts.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`,
        `<ul>${next.map((line) => `<li><code>${escapeHtml(line)}</code></li>`).join('')}</ul>`,
      ].join('\n'),
    },
  };
}

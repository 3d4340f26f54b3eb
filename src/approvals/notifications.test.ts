import { describe, expect, it } from 'vitest';
import type { Approval } from '../domain/approval.js';
import { InvalidInputError } from '../domain/errors.js';
import { type ApprovalMessage, renderEmailApproval, renderSlackApproval } from './notifications.js';

const approval: Approval = {
  id: 'apv-0123456789ab',
  runId: 'run-01JD',
  kind: 'code-owner',
  state: 'AwaitCodeOwnerApproval',
  taskToken: 'token',
  subject: 'code-owner approval for run run-01JD',
  requestedAt: '2026-11-21T12:00:00.000Z',
  expiresAt: '2026-11-24T12:00:00.000Z',
  status: 'pending',
  approvers: [],
};

const hostileTitle = '<script>alert(1)</script> <!channel> pay <https://evil.example|here> & now';

function message(overrides: Partial<ApprovalMessage> = {}): ApprovalMessage {
  return {
    approveUrl: 'http://127.0.0.1:8787/approvals/yes.sig',
    rejectUrl: 'http://127.0.0.1:8787/approvals/no.sig',
    runTitle: 'Fix rounding in invoice totals',
    requester: 'maria.lopez',
    riskTier: 'high',
    reasons: [
      { rule: 'domain.payments', tier: 'high', explanation: 'Money moves here.', evidence: ['invoice'] },
      'touches src/invoice.js',
    ],
    evidenceSummary: '2 tests added, all checks green',
    approvers: ['@acme/billing', '@acme/finance-eng'],
    ...overrides,
  };
}

describe('Slack approval message', () => {
  it('has a header, a section with fields, a context line and two link buttons', () => {
    // Act
    const slack = renderSlackApproval(approval, message());
    // Assess
    expect(slack.blocks.map((block) => block.type)).toEqual(['header', 'section', 'context', 'actions']);
    const [header, section, context, actions] = slack.blocks;
    expect(header).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Approval needed: code-owner', emoji: false },
    });
    if (section?.type !== 'section' || context?.type !== 'context' || actions?.type !== 'actions') {
      throw new Error('unexpected block order');
    }
    expect(section.fields.map((field) => field.text.split('\n')[0])).toEqual([
      '*Requester*',
      '*Risk tier*',
      '*Approval*',
      '*Expires*',
      '*Who may answer*',
    ]);
    expect(section.fields[3]?.text).toBe('*Expires*\n2026-11-24 12:00 UTC');
    expect(context.elements.map((element) => element.text)).toEqual([
      '*Why:* Money moves here. (domain.payments) · touches src/invoice.js',
      '*Evidence:* 2 tests added, all checks green',
    ]);
    expect(actions.elements).toEqual([
      expect.objectContaining({
        type: 'button',
        url: 'http://127.0.0.1:8787/approvals/yes.sig',
        style: 'primary',
        action_id: 'approve',
      }),
      expect.objectContaining({
        type: 'button',
        url: 'http://127.0.0.1:8787/approvals/no.sig',
        style: 'danger',
        action_id: 'reject',
      }),
    ]);
    expect(slack.text).toContain('Fix rounding in invoice totals');
  });

  it('escapes a hostile title so it can neither mention, link nor inject markup', () => {
    // Act
    const slack = renderSlackApproval(
      approval,
      message({ runTitle: hostileTitle, evidenceSummary: '<@U123> see <!here>' }),
    );
    const serialized = JSON.stringify(slack);
    // Assess
    expect(serialized).not.toMatch(/<!channel>|<!here>|<@U123>|<script>|<https:/);
    const section = slack.blocks[1];
    expect(section?.type === 'section' && section.text.text).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; pay &lt;https://evil.example|here&gt; &amp; now',
    );
    expect(slack.text).toContain('&lt;!channel&gt;');
    expect(section?.type === 'section' && section.text.verbatim).toBe(true);
  });

  it('refuses a button URL that is not http or https', () => {
    // Act / Assess
    expect(() => renderSlackApproval(approval, message({ approveUrl: 'javascript:alert(1)' }))).toThrow(
      InvalidInputError,
    );
  });

  it('keeps a very long escaped title within Slack limits without cutting an entity in half', () => {
    // Act
    const slack = renderSlackApproval(approval, message({ runTitle: '<'.repeat(5000) }));
    const section = slack.blocks[1];
    const text = section?.type === 'section' ? section.text.text : '';
    // Assess
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/^\*(&lt;)+…\*/);
  });
});

describe('email approval message', () => {
  it('keeps the subject on one line, whatever the title holds', () => {
    // Act
    const email = renderEmailApproval(
      approval,
      message({ runTitle: 'Fix totals\r\nBcc: everyone@example.com' }),
    );
    // Assess
    expect(email.subject).toBe('[Gantry] code-owner approval needed: Fix totals Bcc: everyone@example.com');
    expect(email.subject).not.toMatch(/[\r\n]/);
  });

  it('escapes the title in HTML and shows the expiry in the link texts', () => {
    // Act
    const email = renderEmailApproval(approval, message({ runTitle: hostileTitle }));
    // Assess
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;');
    expect(email.html).toContain(
      '<a href="http://127.0.0.1:8787/approvals/yes.sig" style="color:#1f883d;font-weight:600">Approve (link expires 2026-11-24 12:00 UTC)</a>',
    );
    expect(email.html).toContain('Reject (link expires 2026-11-24 12:00 UTC)</a>');
    expect(email.text).toContain(
      'Approve (link expires 2026-11-24 12:00 UTC): http://127.0.0.1:8787/approvals/yes.sig',
    );
    expect(email.text).toContain('- Money moves here. (domain.payments)');
  });

  it('removes terminal controls and bidi overrides from the title in the subject, text and HTML', () => {
    // Act
    const email = renderEmailApproval(
      approval,
      message({
        runTitle: 'Fix \u001b]8;;http://evil.example\u0007totals\u001b]8;;\u0007 \u202egnp.exe\u0007',
      }),
    );
    // Assess
    expect(email.subject).toBe('[Gantry] code-owner approval needed: Fix totals gnp.exe');
    for (const part of [email.subject, email.text, email.html]) {
      for (const control of ['\u001b', '\u0007', '\u202e']) expect(part).not.toContain(control);
    }
  });

  it('escapes quotes in link addresses so an attribute cannot be broken out of', () => {
    // Act
    const email = renderEmailApproval(
      approval,
      message({ rejectUrl: 'http://127.0.0.1:8787/approvals/x"onmouseover="y' }),
    );
    // Assess
    expect(email.html).not.toContain('"onmouseover');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApprovalLinkPayload,
  signApprovalLink,
  verifyApprovalLink,
} from '../src/approvals/signed-links.js';
import { reissueApprovalLink, type WithheldApprovalLink } from '../src/approvals/withheld-links.js';
import type { RunEvent } from '../src/domain/events.js';
import { parseRequestFile } from '../src/intake/request-file.js';
import { Gantry, type RunOutcome } from '../src/local/runtime.js';
import { exampleCassette, exampleRequest, tempHome } from './support/gantry-cli.js';

type EventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;
const ofType = <T extends RunEvent['type']>(events: readonly RunEvent[], type: T): EventOf<T>[] =>
  events.filter((e): e is EventOf<T> => e.type === type);

interface ApproverMessage {
  approver: string;
  links: WithheldApprovalLink[];
  slack: { text: string; blocks: { type: string; elements?: { action_id?: string; url?: string }[] }[] };
  email: { subject: string; text: string; html: string };
}

/** The token of a link, whatever host it was written for: the test's server listens on its own port. */
const tokenOf = (url: string) => decodeURIComponent(new URL(url).pathname.replace(/^\/approvals\//, ''));

describe('signed approval links answered over HTTP', () => {
  let home: { home: string; cleanup: () => Promise<void> };
  let gantry: Gantry;
  let server: { url: string; close(): Promise<void> };
  let waiting: RunOutcome;
  let messages: ApproverMessage[];
  let key: Buffer;

  const linkTo = (token: string) => `${server.url}/approvals/${encodeURIComponent(token)}`;
  const post = (token: string, body: unknown = { reason: 'checked the plan' }) =>
    fetch(linkTo(token), {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** The link as the operator hands it out: signed again from what the stored message withheld. */
  const linkFor = (message: ApproverMessage | undefined, action: 'approve' | 'reject') => {
    const link = message?.links.find((l) => l.action === action);
    if (!link) throw new Error(`no ${action} link stored for ${message?.approver}`);
    return reissueApprovalLink(link, key, 'http://127.0.0.1:8787');
  };
  const approveTokenOf = (approver: string) =>
    tokenOf(
      linkFor(
        messages.find((m) => m.approver === approver),
        'approve',
      ),
    );
  const payloadFor = (change: Partial<ApprovalLinkPayload>): ApprovalLinkPayload => ({
    approvalId: waiting.approvalId ?? '',
    decision: 'approve',
    approver: 'sam.okafor',
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    nonce: randomBytes(16).toString('base64url'),
    ...change,
  });

  beforeAll(async () => {
    // Prepare: a request that mentions a lockfile is medium risk: one plan gate, then autonomy tier 2.
    home = await tempHome('gantry-links-');
    gantry = await Gantry.open({ home: home.home });
    const request = await parseRequestFile(exampleRequest);
    request.description +=
      '\nNoticed while reviewing the package-lock.json refresh; no dependency changes are needed.';
    waiting = await gantry.submit(request, exampleCassette);
    server = await gantry.serveApprovals({ port: 0 });
    const requested = ofType(await gantry.log.read(waiting.runId), 'approval.requested')[0];
    messages = JSON.parse(
      await gantry.artifacts.getText(requested?.data.notifications ?? ''),
    ) as ApproverMessage[];
    key = await readFile(join(home.home, 'approval-signing.key'));
  });
  afterAll(async () => {
    await server?.close();
    await gantry?.close();
    await home?.cleanup();
  });

  it('waits at the plan gate and renders a Slack and an email message per approver, with links signed for each', async () => {
    expect(waiting.state, waiting.reason).toBe('waiting_for_approval');
    const events = await gantry.log.read(waiting.runId);
    expect(ofType(events, 'risk.classified')[0]?.data).toMatchObject({
      tier: 'medium',
      requiredApprovals: ['plan'],
    });
    expect(ofType(events, 'approval.requested').map((e) => e.data.kind)).toEqual(['plan']);
    // The requester, maria.lopez, is a reviewer but never an approver of her own run.
    expect(messages.map((m) => m.approver)).toEqual(['sam.okafor', 'priya.raman', '@acme/billing']);
    for (const message of messages) {
      const [approve, reject] = (['approve', 'reject'] as const).map((action) => linkFor(message, action));
      const approvePayload = verifyApprovalLink(tokenOf(approve ?? ''), key, new Date());
      const rejectPayload = verifyApprovalLink(tokenOf(reject ?? ''), key, new Date());
      expect(approvePayload).toMatchObject({
        approvalId: waiting.approvalId,
        decision: 'approve',
        approver: message.approver,
      });
      expect(rejectPayload).toMatchObject({ decision: 'reject', approver: message.approver });
      expect(approvePayload.nonce).not.toBe(rejectPayload.nonce);
      expect(message.slack.text).toContain(`plan approval needed for run ${waiting.runId}`);
      // The stored messages show where each link was by its token's hash, never the link itself.
      for (const [action, url] of [
        ['approve', approve],
        ['reject', reject],
      ] as const) {
        const withheld = `/approvals/withheld-${message.links.find((l) => l.action === action)?.tokenSha256.slice(0, 16)}`;
        const button = message.slack.blocks
          .find((b) => b.type === 'actions')
          ?.elements?.find((e) => e.action_id === action);
        expect(button?.url).toContain(withheld);
        expect(message.email.text).toContain(withheld);
        expect(message.email.html).toContain(withheld);
        expect(message.email.text).not.toContain(tokenOf(url ?? ''));
      }
    }
  });

  it('stores the notifications with every link token withheld, keeping what identifies each link', async () => {
    // Prepare: the stored artifact as anyone who can read the artifact store reads it
    const requested = ofType(await gantry.log.read(waiting.runId), 'approval.requested')[0];
    const stored = await gantry.artifacts.getText(requested?.data.notifications ?? '');
    // Act: the genuine tokens, signed again from what was kept
    const tokens = messages.flatMap((m) => m.links.map((l) => tokenOf(linkFor(m, l.action))));
    // Assess
    expect(tokens).toHaveLength(messages.length * 2);
    for (const token of tokens) {
      const [, signature] = token.split('.');
      expect(stored).not.toContain(token);
      expect(stored).not.toContain(signature);
      expect(stored).toContain(createHash('sha256').update(token).digest('hex'));
    }
    // no link-shaped token at all: base64url payload, a dot, a 32-byte base64url HMAC
    expect(stored).not.toMatch(/[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{43}/);
    expect(messages.flatMap((m) => m.links.map((l) => Object.keys(l).sort()))).toContainEqual([
      'action',
      'approvalId',
      'approver',
      'expiresAt',
      'nonce',
      'tokenSha256',
    ]);
  });

  it('shows a confirmation page on GET and decides nothing', async () => {
    // Act
    const response = await fetch(linkTo(approveTokenOf('sam.okafor')));
    // Assess
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<form method="post">');
    expect((await gantry.pendingApprovals()).map((a) => a.id)).toEqual([waiting.approvalId]);
    expect(ofType(await gantry.log.read(waiting.runId), 'approval.decided')).toEqual([]);
  });

  it('refuses a link whose payload was altered as forged', async () => {
    // Prepare: sam's link, rewritten to answer as someone else, with sam's signature kept.
    const [payload, signature] = approveTokenOf('sam.okafor').split('.');
    const altered = {
      ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')),
      approver: 'random.person',
    };
    const token = `${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`;
    // Act
    const response = await post(token);
    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'forged' });
  });

  it('refuses an expired link', async () => {
    // Prepare: signed with the real key, but its time is up.
    const token = signApprovalLink(
      payloadFor({ expiresAt: new Date(Date.now() - 60_000).toISOString() }),
      key,
    );
    // Act
    const response = await post(token);
    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'expired' });
  });

  it("refuses a genuine link for the requester with the matrix's reason", async () => {
    // Prepare
    const token = signApprovalLink(payloadFor({ approver: 'maria.lopez' }), key);
    // Act
    const response = await post(token);
    // Assess
    const body = (await response.json()) as { error: string; message: string };
    expect(response.status).toBe(409);
    expect(body.error).toBe('refused');
    expect(body.message).toContain('maria.lopez is the requester of this run and can never approve it');
    expect((await gantry.pendingApprovals()).map((a) => a.id)).toEqual([waiting.approvalId]);
  });

  it("records an allowed approver's POST and runs the request to its pull request", async () => {
    // Act
    const response = await post(approveTokenOf('sam.okafor'));
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      approvalId: waiting.approvalId,
      decision: 'approved',
      approver: 'sam.okafor',
      reason: 'checked the plan',
    });
    const { summary, events } = await gantry.show(waiting.runId);
    expect(summary.state, summary.reason).toBe('completed');
    expect(summary.pullRequest).toBe('gantry://billing-service/pull/1');
    expect(ofType(events, 'approval.decided').map((e) => e.data)).toEqual([
      {
        approvalId: waiting.approvalId,
        decision: 'approved',
        by: 'sam.okafor',
        reason: 'checked the plan',
        via: 'link',
      },
    ]);
    expect(await gantry.pendingApprovals()).toEqual([]);
  });

  it('refuses the same link a second time as replayed', async () => {
    // Act
    const response = await post(approveTokenOf('sam.okafor'));
    // Assess
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: 'replayed' });
    expect(ofType(await gantry.log.read(waiting.runId), 'approval.decided')).toHaveLength(1);
  });
});
